package xmppconn

import (
	"testing"

	"github.com/xmppconn/xmppconn/auth"
)

// TestStreamFrom: the stream header names the account only on a stream
// protected by TLS, and only when the account is known.
func TestStreamFrom(t *testing.T) {
	alice := auth.Credentials{Username: "alice", Password: auth.NewSecret("pw")}
	tests := []struct {
		name   string
		cfg    Config
		scheme string
		want   string
	}{
		{"wss", Config{Credentials: alice}, "wss", "alice@example.com"},
		{"https", Config{Credentials: alice}, "https", "alice@example.com"},
		{"ws", Config{Credentials: alice}, "ws", ""},
		{"http", Config{Credentials: alice}, "http", ""},
		{"JID as username", Config{Credentials: auth.Credentials{Username: "Bob@Example.com/phone", Password: auth.NewSecret("pw")}}, "wss", "bob@example.com"},
		{"anonymous", Config{}, "wss", ""},
		{"token", Config{Credentials: alice, Token: auth.StaticToken("t")}, "wss", ""},
		{"invalid localpart", Config{Credentials: auth.Credentials{Username: "a b\"", Password: auth.NewSecret("pw")}}, "wss", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Domain = "example.com"
			cfg = cfg.withDefaults()
			if got := cfg.streamFrom(tt.scheme, cfg.Domain); got != tt.want {
				t.Errorf("streamFrom = %q, want %q", got, tt.want)
			}
		})
	}
}
