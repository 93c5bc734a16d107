package auth

import (
	"crypto/tls"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestChannelBinding(t *testing.T) {
	tls13, _ := tlsPair(t, tls.VersionTLS13)
	tls12, _ := tlsPair(t, tls.VersionTLS12)
	tests := []struct {
		name string
		cs   *tls.ConnectionState
		want string
	}{
		{"no TLS", nil, ""},
		{"TLS 1.3", &tls13, ChannelBindingTLSExporter},
		{"TLS 1.2 with extended master secret", &tls12, ChannelBindingTLSUnique},
		{"handshake not complete", &tls.ConnectionState{Version: tls.VersionTLS13}, ""},
		{"hand-made TLS 1.3 state (no exporter)", &tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS13}, ""},
		{"hand-made TLS 1.2 state with tls-unique (no exporter)", &tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS12, TLSUnique: []byte("0123456789ab")}, ""},
		{"TLS 1.2 state without tls-unique", &tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS12}, ""},
		{"TLS 1.1", &tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS11, TLSUnique: []byte("x")}, ""},
	}
	for _, tt := range tests {
		if got := ChannelBinding(tt.cs); got != tt.want {
			t.Errorf("%s: ChannelBinding = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseChannelBindings(t *testing.T) {
	tests := []struct {
		name    string
		elem    string
		want    []string
		wantErr bool
	}{
		{"two types", `<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-server-end-point'/><channel-binding type='tls-exporter'/></sasl-channel-binding>`,
			[]string{"tls-server-end-point", "tls-exporter"}, false},
		{"empty feature", `<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'/>`, []string{}, false},
		{"foreign children ignored", `<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><x xmlns='y' type='tls-unique'/><channel-binding/><channel-binding type='tls-unique'/></sasl-channel-binding>`,
			[]string{"tls-unique"}, false},
		{"wrong namespace", `<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:1'/>`, nil, true},
		{"wrong element", `<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`, nil, true},
		{"unclosed", `<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='x'/>`, nil, true},
		{"empty", ``, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseChannelBindings([]byte(tt.elem))
			if tt.wantErr {
				if !errors.Is(err, ErrMalformedFeature) || got != nil {
					t.Fatalf("ParseChannelBindings = %q, %v; want ErrMalformedFeature", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("ParseChannelBindings returned nil: it must be non-nil to mean 'advertised'")
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
