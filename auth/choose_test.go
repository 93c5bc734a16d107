package auth

import (
	"crypto/tls"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestChoose(t *testing.T) {
	tls13, _ := tlsPair(t, tls.VersionTLS13)
	tls12, _ := tlsPair(t, tls.VersionTLS12)
	// Built by hand, as a test double would: a completed handshake, but no
	// keying-material exporter, so channel binding is impossible.
	handMade := &tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS13}
	unfinished := &tls.ConnectionState{Version: tls.VersionTLS13}

	all := []string{"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "PLAIN", "ANONYMOUS"}
	user := Credentials{Username: "alice", Password: NewSecret("pw")}
	anon := Credentials{}

	tests := []struct {
		name       string
		offered    []string
		creds      Credentials
		policy     Policy
		want       string // mechanism name, or "" for ErrNoMechanism
		wantReason string // a substring of the error's reasons
	}{
		// TLS and channel binding.
		{name: "everything offered, TLS 1.3", offered: all, creds: user, policy: Policy{TLS: &tls13}, want: "SCRAM-SHA-256-PLUS"},
		{name: "everything offered, TLS 1.2 with EMS", offered: all, creds: user, policy: Policy{TLS: &tls12}, want: "SCRAM-SHA-256-PLUS"},
		{name: "SHA-1-PLUS is next, TLS 1.3", offered: []string{"PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256"}, creds: user, policy: Policy{TLS: &tls13}, want: "SCRAM-SHA-1-PLUS"},
		{name: "everything offered, no TLS", offered: all, creds: user, policy: Policy{}, want: "SCRAM-SHA-256"},
		{name: "everything offered, unfinished handshake", offered: all, creds: user, policy: Policy{TLS: unfinished}, want: "SCRAM-SHA-256"},
		{name: "PLUS offered, no exporter on the TLS state", offered: all, creds: user, policy: Policy{TLS: handMade}, want: "SCRAM-SHA-256"},
		{name: "XEP-0440 lists tls-exporter, TLS 1.3", offered: all, creds: user, policy: Policy{TLS: &tls13, ChannelBindings: []string{"tls-server-end-point", "tls-exporter"}}, want: "SCRAM-SHA-256-PLUS"},
		{name: "XEP-0440 lists only tls-unique, TLS 1.3", offered: all, creds: user, policy: Policy{TLS: &tls13, ChannelBindings: []string{"tls-unique"}}, want: "SCRAM-SHA-256"},
		{name: "XEP-0440 lists tls-unique, TLS 1.2", offered: all, creds: user, policy: Policy{TLS: &tls12, ChannelBindings: []string{"tls-unique"}}, want: "SCRAM-SHA-256-PLUS"},
		{name: "XEP-0440 feature empty, TLS 1.3", offered: all, creds: user, policy: Policy{TLS: &tls13, ChannelBindings: []string{}}, want: "SCRAM-SHA-256"},
		{name: "only PLUS offered, no TLS", offered: []string{"SCRAM-SHA-256-PLUS"}, creds: user, policy: Policy{}, wantReason: "SCRAM-SHA-256-PLUS refused without TLS"},
		{name: "only PLUS offered, no exporter", offered: []string{"SCRAM-SHA-1-PLUS"}, creds: user, policy: Policy{TLS: handMade}, wantReason: "SCRAM-SHA-1-PLUS refused: channel binding not possible"},
		{name: "only PLUS offered, XEP-0440 lacks the type", offered: []string{"SCRAM-SHA-256-PLUS"}, creds: user, policy: Policy{TLS: &tls13, ChannelBindings: []string{"tls-unique"}}, wantReason: "server does not support channel binding tls-exporter"},

		// SCRAM and PLAIN.
		{name: "only SCRAM-SHA-1", offered: []string{"SCRAM-SHA-1"}, creds: user, policy: Policy{}, want: "SCRAM-SHA-1"},
		{name: "SCRAM preferred to PLAIN over TLS", offered: []string{"PLAIN", "SCRAM-SHA-1"}, creds: user, policy: Policy{TLS: &tls13}, want: "SCRAM-SHA-1"},
		{name: "PLAIN over TLS", offered: []string{"PLAIN"}, creds: user, policy: Policy{TLS: &tls13}, want: "PLAIN"},
		{name: "PLAIN over hand-made TLS state", offered: []string{"PLAIN"}, creds: user, policy: Policy{TLS: handMade}, want: "PLAIN"},
		{name: "PLAIN without TLS", offered: []string{"PLAIN"}, creds: user, policy: Policy{}, wantReason: "PLAIN refused without TLS"},
		{name: "PLAIN with unfinished handshake", offered: []string{"PLAIN"}, creds: user, policy: Policy{TLS: unfinished}, wantReason: "PLAIN refused without TLS"},
		{name: "PLAIN without TLS, AllowPlain", offered: []string{"PLAIN"}, creds: user, policy: Policy{AllowPlain: true}, want: "PLAIN"},
		{name: "AllowPlain does not beat SCRAM", offered: []string{"PLAIN", "SCRAM-SHA-256"}, creds: user, policy: Policy{AllowPlain: true}, want: "SCRAM-SHA-256"},

		// Anonymous credentials.
		{name: "anonymous, ANONYMOUS offered", offered: all, creds: anon, policy: Policy{TLS: &tls13}, want: "ANONYMOUS"},
		{name: "anonymous without TLS", offered: []string{"ANONYMOUS"}, creds: anon, policy: Policy{}, want: "ANONYMOUS"},
		{name: "anonymous, ANONYMOUS not offered", offered: []string{"SCRAM-SHA-1", "PLAIN"}, creds: anon, policy: Policy{AllowPlain: true}, wantReason: "ANONYMOUS not offered"},
		{name: "anonymous, other mechanisms refused", offered: []string{"SCRAM-SHA-1"}, creds: anon, policy: Policy{}, wantReason: "SCRAM-SHA-1 refused: credentials are anonymous"},
		{name: "user, only ANONYMOUS offered", offered: []string{"ANONYMOUS"}, creds: user, policy: Policy{TLS: &tls13}, wantReason: "ANONYMOUS refused: credentials have a username"},

		// Restricted mechanisms.
		{name: "restricted to SCRAM-SHA-1", offered: all, creds: user, policy: Policy{TLS: &tls13, Mechanisms: []string{"SCRAM-SHA-1"}}, want: "SCRAM-SHA-1"},
		{name: "restricted order puts PLAIN first", offered: all, creds: user, policy: Policy{TLS: &tls13, Mechanisms: []string{"PLAIN", "SCRAM-SHA-256"}}, want: "PLAIN"},
		{name: "restricted to PLAIN without TLS", offered: all, creds: user, policy: Policy{Mechanisms: []string{"PLAIN"}}, wantReason: "PLAIN refused without TLS"},
		{name: "restricted, first choice not offered", offered: []string{"SCRAM-SHA-1"}, creds: user, policy: Policy{Mechanisms: []string{"SCRAM-SHA-256", "SCRAM-SHA-1"}}, want: "SCRAM-SHA-1"},
		{name: "restricted, nothing offered matches", offered: []string{"SCRAM-SHA-1"}, creds: user, policy: Policy{Mechanisms: []string{"SCRAM-SHA-256"}}, wantReason: "SCRAM-SHA-1 not allowed by policy"},
		{name: "restricted names are normalized", offered: all, creds: user, policy: Policy{Mechanisms: []string{" scram-sha-1 "}}, want: "SCRAM-SHA-1"},
		{name: "restricted to an unsupported mechanism", offered: []string{"X-OAUTH2", "SCRAM-SHA-1"}, creds: user, policy: Policy{Mechanisms: []string{"X-OAUTH2"}}, wantReason: "X-OAUTH2 not supported"},
		{name: "restricted to PLUS without channel binding", offered: all, creds: user, policy: Policy{TLS: handMade, Mechanisms: []string{"SCRAM-SHA-256-PLUS"}}, wantReason: "channel binding not possible"},
		{name: "anonymous, policy without ANONYMOUS", offered: all, creds: anon, policy: Policy{Mechanisms: []string{"SCRAM-SHA-1"}}, wantReason: "ANONYMOUS not allowed by policy"},
		{name: "anonymous, policy with ANONYMOUS", offered: all, creds: anon, policy: Policy{Mechanisms: []string{"SCRAM-SHA-1", "ANONYMOUS"}}, want: "ANONYMOUS"},
		{name: "user, policy lists ANONYMOUS only", offered: all, creds: user, policy: Policy{Mechanisms: []string{"ANONYMOUS"}}, wantReason: "ANONYMOUS refused: credentials have a username"},

		// What the server sends.
		{name: "offered names are normalized", offered: []string{"\n  scram-sha-1 ", ""}, creds: user, policy: Policy{}, want: "SCRAM-SHA-1"},
		{name: "nothing offered", offered: nil, creds: user, policy: Policy{TLS: &tls13}, wantReason: "server offered no mechanism"},
		{name: "only unsupported offered", offered: []string{"X-OAUTH2", "EXTERNAL"}, creds: user, policy: Policy{TLS: &tls13}, wantReason: "EXTERNAL not supported"},
		{name: "odd name offered", offered: []string{"bad name\x00"}, creds: user, policy: Policy{}, wantReason: `"BAD NAME\x00" not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Choose(tt.offered, tt.creds, tt.policy)
			if tt.want != "" {
				if err != nil || m.Name != tt.want {
					t.Fatalf("Choose = %q, %v; want %q", m.Name, err, tt.want)
				}
				ex, err := NewExchange(tt.offered, tt.creds, tt.policy)
				if err != nil || ex.Mechanism() != tt.want {
					t.Fatalf("NewExchange chose differently: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrNoMechanism) {
				t.Fatalf("Choose = %q, %v; want ErrNoMechanism", m.Name, err)
			}
			var ne *NoMechanismError
			if !errors.As(err, &ne) {
				t.Fatalf("error %T is not a *NoMechanismError", err)
			}
			if !slices.ContainsFunc(ne.Reasons, func(r string) bool { return strings.Contains(r, tt.wantReason) }) {
				t.Errorf("reasons %q lack %q", ne.Reasons, tt.wantReason)
			}
			if !strings.Contains(err.Error(), tt.wantReason) || !strings.HasPrefix(err.Error(), "sasl: no acceptable mechanism (offered:") {
				t.Errorf("Error() = %q", err)
			}
			if _, err := NewExchange(tt.offered, tt.creds, tt.policy); !errors.Is(err, ErrNoMechanism) {
				t.Errorf("NewExchange error = %v, want ErrNoMechanism", err)
			}
		})
	}
}

func TestChooseInvalidCredentials(t *testing.T) {
	tests := []struct {
		name  string
		creds Credentials
		want  string
	}{
		{"password without username", Credentials{Password: NewSecret("pw")}, "password given without username"},
		{"authzid without username", Credentials{AuthzID: "admin"}, "authorization identity given without username"},
		{"NUL in username", Credentials{Username: "al\x00ice"}, "username contains a NUL byte"},
		{"NUL in password", Credentials{Username: "alice", Password: NewSecret("p\x00w")}, "password contains a NUL byte"},
		{"NUL in authzid", Credentials{Username: "alice", AuthzID: "a\x00"}, "authorization identity contains a NUL byte"},
		{"invalid UTF-8 password", Credentials{Username: "alice", Password: NewSecret("\xff")}, "password is not valid UTF-8"},
		{"JID without localpart", Credentials{Username: "example.com/res"}, "has no localpart"},
		{"JID with empty localpart", Credentials{Username: "@example.com"}, "is not a valid JID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Choose([]string{"SCRAM-SHA-1", "PLAIN", "ANONYMOUS"}, tt.creds, Policy{AllowPlain: true})
			if !errors.Is(err, ErrInvalidCredentials) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Choose error = %v, want ErrInvalidCredentials with %q", err, tt.want)
			}
		})
	}
}

func TestNoMechanismErrorBoundsOfferedList(t *testing.T) {
	var offered []string
	for i := range 100 {
		offered = append(offered, "X-"+strings.Repeat("A", i%5)+string(rune('A'+i%26))+string(rune('A'+i/26)))
	}
	_, err := Choose(offered, Credentials{}, Policy{})
	var ne *NoMechanismError
	if !errors.As(err, &ne) {
		t.Fatalf("error = %v", err)
	}
	if len(ne.Offered) != 100 {
		t.Errorf("Offered has %d names, want 100", len(ne.Offered))
	}
	if msg := err.Error(); !strings.Contains(msg, " ...)") || !strings.HasSuffix(msg, "; ...") || len(msg) > 2000 {
		t.Errorf("Error() does not shorten the lists: %q", msg)
	}
}
