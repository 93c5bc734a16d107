package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

const testToken = "secret-token:fast-Zm9vYmFy"

// htProof is the server side of an HT mechanism, from the draft: HMAC-SHA-256
// of the token over label || channel-binding data.
func htProof(token, label string, cb []byte) []byte {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(label))
	m.Write(cb)
	return m.Sum(nil)
}

// TestFASTExchange: the initial response is authcid NUL
// HMAC(token, "Initiator" || cb) with the channel-binding data the server
// end of the same TLS connection computes; Finish accepts only
// HMAC(token, "Responder" || cb); a challenge fails the exchange.
func TestFASTExchange(t *testing.T) {
	c13, s13 := tlsPair(t, tls.VersionTLS13)
	c12, s12 := tlsPair(t, tls.VersionTLS12)
	exporter := func(s tls.ConnectionState) []byte {
		b, err := s.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		mech   string
		client *tls.ConnectionState
		cb     []byte
		cbType string
	}{
		{mech: MechHTNone},
		{mech: MechHTNone, client: &c13},
		{mech: MechHTExporter, client: &c13, cb: exporter(s13), cbType: ChannelBindingTLSExporter},
		{mech: MechHTUnique, client: &c12, cb: s12.TLSUnique, cbType: ChannelBindingTLSUnique},
		// The client hashes the certificate the server presented.
		{mech: MechHTEndpoint, client: &c13, cb: func() []byte { s := sha256.Sum256(c13.PeerCertificates[0].Raw); return s[:] }(), cbType: ChannelBindingTLSServerEndPoint},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/tls=%t", tt.mech, tt.client != nil), func(t *testing.T) {
			tok := FASTToken{Mechanism: tt.mech, Secret: NewSecret(testToken), UserAgent: "ua"}
			creds := Credentials{Username: "alice@example.com", Password: NewSecret(testPassword)}
			newEx := func() *Exchange {
				ex, err := NewFASTExchange(creds, tok, Policy{TLS: tt.client})
				if err != nil {
					t.Fatal(err)
				}
				return ex
			}
			ex := newEx()
			if ex.Mechanism() != tt.mech || ex.ChannelBinding() != tt.cbType {
				t.Errorf("Mechanism, ChannelBinding = %q, %q", ex.Mechanism(), ex.ChannelBinding())
			}
			first, err := ex.Start()
			if err != nil {
				t.Fatal(err)
			}
			want := append([]byte("alice\x00"), htProof(testToken, "Initiator", tt.cb)...)
			if !bytes.Equal(first, want) {
				t.Fatalf("initial response %x, want %x", first, want)
			}
			if err := ex.Finish(htProof(testToken, "Responder", tt.cb)); err != nil {
				t.Errorf("Finish with the server's proof: %v", err)
			}

			for name, data := range map[string][]byte{
				"missing":       nil,
				"initiator":     htProof(testToken, "Initiator", tt.cb),
				"another token": htProof("other", "Responder", tt.cb),
				"no cb":         htProof(testToken, "Responder", nil),
			} {
				if name == "no cb" && tt.cb == nil {
					continue
				}
				ex := newEx()
				if _, err := ex.Start(); err != nil {
					t.Fatal(err)
				}
				if err := ex.Finish(data); !errors.Is(err, ErrServerSignature) {
					t.Errorf("Finish with %s proof: %v, want ErrServerSignature", name, err)
				}
			}
			ex = newEx()
			if _, err := ex.Start(); err != nil {
				t.Fatal(err)
			}
			if _, err := ex.Step([]byte("more?")); !errors.Is(err, ErrChallengeRejected) {
				t.Errorf("Step: %v, want ErrChallengeRejected", err)
			}
		})
	}
}

func TestNewFASTExchangeRefuses(t *testing.T) {
	creds := Credentials{Username: "alice", Password: NewSecret(testPassword)}
	tok := FASTToken{Mechanism: MechHTNone, Secret: NewSecret(testToken), UserAgent: "ua"}
	tests := []struct {
		name  string
		creds Credentials
		tok   func(FASTToken) FASTToken
		want  error
	}{
		{"anonymous", Credentials{}, nil, ErrFASTToken},
		{"empty token", creds, func(t FASTToken) FASTToken { t.Secret = Secret{}; return t }, ErrFASTToken},
		{"unknown mechanism", creds, func(t FASTToken) FASTToken { t.Mechanism = "HT-MD5-NONE"; return t }, ErrFASTToken},
		{"channel binding without TLS", creds, func(t FASTToken) FASTToken { t.Mechanism = MechHTExporter; return t }, ErrFASTToken},
		{"bad username", Credentials{Username: "a\x00b"}, nil, ErrInvalidCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := tok
			if tt.tok != nil {
				tk = tt.tok(tok)
			}
			_, err := NewFASTExchange(tt.creds, tk, Policy{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}

// TestChooseFAST: the strongest channel binding the connection can give
// and the server advertised (XEP-0440), else HT-SHA-256-NONE.
func TestChooseFAST(t *testing.T) {
	c13, _ := tlsPair(t, tls.VersionTLS13)
	c12, _ := tlsPair(t, tls.VersionTLS12)
	all := []string{MechHTNone, MechHTUnique, MechHTEndpoint, MechHTExporter}
	tests := []struct {
		name    string
		offered []string
		p       Policy
		want    string
	}{
		{"no TLS", all, Policy{}, MechHTNone},
		{"TLS 1.3, nothing advertised", all, Policy{TLS: &c13}, MechHTNone},
		{"TLS 1.3, tls-exporter advertised", all, Policy{TLS: &c13, ChannelBindings: []string{"tls-exporter"}}, MechHTExporter},
		{"TLS 1.3, tls-unique advertised", all, Policy{TLS: &c13, ChannelBindings: []string{"tls-unique"}}, MechHTNone},
		{"TLS 1.3, endpoint advertised", all, Policy{TLS: &c13, ChannelBindings: []string{"tls-server-end-point"}}, MechHTEndpoint},
		{"TLS 1.2, tls-unique advertised", all, Policy{TLS: &c12, ChannelBindings: []string{"tls-exporter", "tls-unique"}}, MechHTUnique},
		{"exporter not offered", []string{MechHTNone, MechHTEndpoint}, Policy{TLS: &c13, ChannelBindings: []string{"tls-exporter"}}, MechHTNone},
		{"lower case offer", []string{" ht-sha-256-none "}, Policy{}, MechHTNone},
		{"nothing known", []string{"HT-SHA-512-NONE"}, Policy{}, ""},
		{"binding only, no TLS", []string{MechHTExporter}, Policy{}, ""},
		{"only -PLUS allowed: no -NONE", all, Policy{TLS: &c13, Mechanisms: []string{"SCRAM-SHA-256-PLUS"}}, ""},
		{"only -PLUS allowed: a binding", all, Policy{TLS: &c13, Mechanisms: []string{"scram-sha-256-plus"}, ChannelBindings: []string{"tls-exporter"}}, MechHTExporter},
		{"-PLUS and more allowed", all, Policy{TLS: &c13, Mechanisms: []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"}}, MechHTNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ChooseFAST(tt.offered, tt.p); got != tt.want {
				t.Errorf("ChooseFAST = %q, want %q", got, tt.want)
			}
			if tt.want != "" && !FASTUsable(tt.want, tt.offered, tt.p) {
				t.Errorf("FASTUsable(%s) = false", tt.want)
			}
		})
	}
	if FASTUsable(MechHTNone, []string{MechHTExporter}, Policy{}) {
		t.Error("a mechanism the server does not offer is usable")
	}
}

func TestFASTTokenExpired(t *testing.T) {
	now := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		expiry time.Time
		skew   time.Duration
		want   bool
	}{
		{time.Time{}, time.Hour, false},
		{now.Add(time.Hour), time.Minute, false},
		{now.Add(time.Minute), time.Minute, true},
		{now.Add(-time.Second), 0, true},
	}
	for _, tt := range tests {
		if got := (FASTToken{Expiry: tt.expiry}).Expired(now, tt.skew); got != tt.want {
			t.Errorf("expiry %v skew %v: Expired = %t", tt.expiry, tt.skew, got)
		}
	}
}

// TestFASTTokenNeverPrinted: no printed or logged form shows the secret.
func TestFASTTokenNeverPrinted(t *testing.T) {
	tok := FASTToken{Mechanism: MechHTNone, Secret: NewSecret(testToken), Expiry: time.Now(), UserAgent: "ua"}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out = append(out, fmt.Sprintf(verb, tok), fmt.Sprintf(verb, &tok))
	}
	js, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(js))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "token", tok, "ptr", &tok)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "token", tok)
	out = append(out, buf.String())
	for _, s := range out {
		if strings.Contains(s, testToken) || strings.Contains(s, "Zm9vYmFy") {
			t.Errorf("printed form shows the token: %s", s)
		}
	}
}
