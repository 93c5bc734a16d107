package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"testing"

	"mellium.im/sasl"
)

// clientNonce returns the nonce of a SCRAM client-first-message.
func clientNonce(t testing.TB, clientFirst []byte) string {
	t.Helper()
	i := bytes.Index(clientFirst, []byte(",r="))
	if i < 0 {
		t.Fatalf("no nonce in client-first-message %q", clientFirst)
	}
	return string(clientFirst[i+3:])
}

// scramServer is mellium's SCRAM server side for user "alice" with the given
// password. It records the identities the client authenticated with.
type scramServer struct {
	neg            *sasl.Negotiator
	user, identity string
}

func newSCRAMServer(mech sasl.Mechanism, fn func() hash.Hash, password string) *scramServer {
	s := &scramServer{}
	salt := []byte("NaCl-4-alice")
	s.neg = sasl.NewServer(mech, nil, sasl.SaltedCredentials(
		func(user, identity []byte, _ string) ([]byte, []byte, int64, error) {
			s.user, s.identity = string(user), string(identity)
			if s.user != "alice" {
				return nil, nil, 0, sasl.ErrAuthn
			}
			return salt, sasl.SCRAMSaltPassword(fn, []byte(password), salt, 4096), 4096, nil
		}))
	return s
}

func TestExchangeSCRAMAgainstMelliumServer(t *testing.T) {
	flipLast := func(b []byte) []byte {
		// v=<base64 signature>: change one character of the signature
		out := bytes.Clone(b)
		i := len(out) - 3
		if out[i] == 'A' {
			out[i] = 'B'
		} else {
			out[i] = 'A'
		}
		return out
	}
	same := func(f []byte) []byte { return f }
	none := func([]byte) []byte { return nil }
	tests := []struct {
		name       string
		mech       sasl.Mechanism
		fn         func() hash.Hash
		creds      Credentials
		serverPass string
		// How the server-final-message reaches the client: as a challenge
		// (when challenge is set) and as the additional data of success.
		challenge     func(final []byte) []byte
		successData   func(final []byte) []byte
		wantServerErr bool
		wantErr       error
		wantUser      string
		wantIdentity  string
	}{
		{name: "SCRAM-SHA-1, final in success", mech: sasl.ScramSha1, fn: sha1.New,
			creds: Credentials{Username: "alice", Password: NewSecret(testPassword)}, serverPass: testPassword,
			successData: same, wantUser: "alice"},
		{name: "SCRAM-SHA-256, final in success", mech: sasl.ScramSha256, fn: sha256.New,
			creds: Credentials{Username: "alice", Password: NewSecret(testPassword)}, serverPass: testPassword,
			successData: same, wantUser: "alice"},
		{name: "SCRAM-SHA-256, final as challenge, empty success", mech: sasl.ScramSha256, fn: sha256.New,
			creds: Credentials{Username: "alice", Password: NewSecret(testPassword)}, serverPass: testPassword,
			challenge: same, successData: none, wantUser: "alice"},
		{name: "SCRAM-SHA-1, final as challenge and again in success", mech: sasl.ScramSha1, fn: sha1.New,
			creds: Credentials{Username: "alice", Password: NewSecret(testPassword)}, serverPass: testPassword,
			challenge: same, successData: same, wantUser: "alice"},
		{name: "username given as a JID", mech: sasl.ScramSha256, fn: sha256.New,
			creds: Credentials{Username: "Alice@Example.com", Password: NewSecret(testPassword)}, serverPass: testPassword,
			successData: same, wantUser: "alice"},
		{name: "authzid with , and = is escaped", mech: sasl.ScramSha1, fn: sha1.New,
			creds: Credentials{Username: "alice", Password: NewSecret(testPassword), AuthzID: "x,y=z"}, serverPass: testPassword,
			successData: same, wantUser: "alice", wantIdentity: "x=2Cy=3Dz"},
		{name: "SCRAM-SHA-1, wrong server signature", mech: sasl.ScramSha1, fn: sha1.New,
			creds: Credentials{Username: "alice", Password: NewSecret(testPassword)}, serverPass: testPassword,
			successData: flipLast, wantErr: ErrServerSignature, wantUser: "alice"},
		{name: "SCRAM-SHA-256, wrong server signature", mech: sasl.ScramSha256, fn: sha256.New,
			creds: Credentials{Username: "alice", Password: NewSecret(testPassword)}, serverPass: testPassword,
			successData: flipLast, wantErr: ErrServerSignature, wantUser: "alice"},
		{name: "wrong server signature as challenge", mech: sasl.ScramSha256, fn: sha256.New,
			creds: Credentials{Username: "alice", Password: NewSecret(testPassword)}, serverPass: testPassword,
			challenge: flipLast, wantErr: ErrServerSignature, wantUser: "alice"},
		{name: "success without server-final-message", mech: sasl.ScramSha256, fn: sha256.New,
			creds: Credentials{Username: "alice", Password: NewSecret(testPassword)}, serverPass: testPassword,
			successData: none, wantErr: ErrServerSignature, wantUser: "alice"},
		{name: "success data differs from verified challenge", mech: sasl.ScramSha256, fn: sha256.New,
			creds: Credentials{Username: "alice", Password: NewSecret(testPassword)}, serverPass: testPassword,
			challenge: same, successData: func([]byte) []byte { return []byte("v=AAAA") }, wantErr: ErrServerSignature, wantUser: "alice"},
		{name: "server reports a SCRAM error in success", mech: sasl.ScramSha256, fn: sha256.New,
			creds: Credentials{Username: "alice", Password: NewSecret(testPassword)}, serverPass: testPassword,
			successData: func([]byte) []byte { return []byte("e=invalid-proof") }, wantErr: ErrServerSignature, wantUser: "alice"},
		{name: "wrong password: the server refuses the proof", mech: sasl.ScramSha256, fn: sha256.New,
			creds: Credentials{Username: "alice", Password: NewSecret("wrong")}, serverPass: testPassword,
			wantServerErr: true, wantUser: "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSCRAMServer(tt.mech, tt.fn, tt.serverPass)
			ex, err := NewExchange([]string{tt.mech.Name}, tt.creds, Policy{})
			if err != nil {
				t.Fatal(err)
			}
			if ex.Mechanism() != tt.mech.Name || ex.ChannelBinding() != "" {
				t.Fatalf("Mechanism, ChannelBinding = %q, %q", ex.Mechanism(), ex.ChannelBinding())
			}
			first, err := ex.Start()
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			if !bytes.HasPrefix(first, []byte("n,")) {
				t.Errorf("client-first-message %q does not start with gs2 flag n", first)
			}
			_, serverFirst, err := srv.neg.Step(first)
			if err != nil {
				t.Fatalf("server, client-first: %v", err)
			}
			clientFinal, err := ex.Step(serverFirst)
			if err != nil {
				t.Fatalf("Step(server-first): %v", err)
			}
			_, serverFinal, err := srv.neg.Step(clientFinal)
			if srv.user != tt.wantUser || srv.identity != tt.wantIdentity {
				t.Errorf("server saw user %q identity %q, want %q %q", srv.user, srv.identity, tt.wantUser, tt.wantIdentity)
			}
			if tt.wantServerErr {
				if err == nil {
					t.Fatal("server accepted the proof of a wrong password")
				}
				return
			}
			if err != nil {
				t.Fatalf("server, client-final: %v", err)
			}
			if tt.challenge != nil {
				resp, err := ex.Step(tt.challenge(serverFinal))
				if err != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("Step(server-final) error = %v, want %v", err, tt.wantErr)
					}
					return
				}
				if resp == nil || len(resp) != 0 {
					t.Errorf("response to server-final = %q, want empty non-nil", resp)
				}
			}
			err = ex.Finish(tt.successData(serverFinal))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Finish error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				// The exchange is over: every call returns the error.
				if _, err2 := ex.Step([]byte("x")); err2 != err {
					t.Errorf("Step after failure = %v, want %v", err2, err)
				}
			}
		})
	}
}

// rfc5802ServerFinal is the server's side of RFC 5802 section 3, written
// from the RFC for the cases mellium's server cannot handle (-PLUS, escaped
// usernames): it checks the client proof of clientFinal and returns the
// server-final-message. The iteration count is 4096.
func rfc5802ServerFinal(t *testing.T, fn func() hash.Hash, password string, salt []byte, clientFirstBare, serverFirst, clientFinal string) string {
	t.Helper()
	withoutProof, proof, ok := strings.Cut(clientFinal, ",p=")
	if !ok {
		t.Fatalf("client-final-message %q has no proof", clientFinal)
	}
	salted, err := pbkdf2.Key(fn, password, salt, 4096, fn().Size())
	if err != nil {
		t.Fatal(err)
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(fn, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	authMessage := clientFirstBare + "," + serverFirst + "," + withoutProof
	clientKey := mac(salted, "Client Key")
	stored := fn()
	stored.Write(clientKey)
	clientSig := mac(stored.Sum(nil), authMessage)
	wantProof := make([]byte, len(clientKey))
	for i := range clientKey {
		wantProof[i] = clientKey[i] ^ clientSig[i]
	}
	if proof != base64.StdEncoding.EncodeToString(wantProof) {
		t.Fatal("client proof does not verify")
	}
	return "v=" + base64.StdEncoding.EncodeToString(mac(mac(salted, "Server Key"), authMessage))
}

// TestExchangeEscapesUsername checks RFC 5802 saslname escaping of a username
// with ',' and '=' (mellium's server side unescapes the username in place
// and then computes a different AuthMessage, so the server here is the RFC).
func TestExchangeEscapesUsername(t *testing.T) {
	ex, err := NewExchange([]string{"SCRAM-SHA-256"}, Credentials{Username: "a,b=c", Password: NewSecret(testPassword)}, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := ex.Start()
	if err != nil {
		t.Fatal(err)
	}
	if want := "n,,n=a=2Cb=3Dc,r="; !strings.HasPrefix(string(first), want) {
		t.Fatalf("client-first-message = %q, want prefix %q", first, want)
	}
	salt := []byte("salt")
	serverFirst := "r=" + clientNonce(t, first) + "srv,s=" + base64.StdEncoding.EncodeToString(salt) + ",i=4096"
	clientFinal, err := ex.Step([]byte(serverFirst))
	if err != nil {
		t.Fatal(err)
	}
	serverFinal := rfc5802ServerFinal(t, sha256.New, testPassword, salt, string(first[3:]), serverFirst, string(clientFinal))
	if err := ex.Finish([]byte(serverFinal)); err != nil {
		t.Fatalf("Finish: %v", err)
	}
}

// TestExchangeSCRAMPlus checks that the channel-binding data sent for
// SCRAM-*-PLUS is the one the server end of the same TLS connection
// computes, and that the whole exchange verifies (mellium's server side has
// no -PLUS support, so the server here is computed by the test from
// RFC 5802).
func TestExchangeSCRAMPlus(t *testing.T) {
	tests := []struct {
		name    string
		version uint16
		mech    string
		fn      func() hash.Hash
		wantCB  string
		cbData  func(server tls.ConnectionState) []byte
	}{
		{"TLS 1.3, SCRAM-SHA-256-PLUS uses tls-exporter", tls.VersionTLS13, "SCRAM-SHA-256-PLUS", sha256.New, ChannelBindingTLSExporter,
			func(s tls.ConnectionState) []byte {
				b, err := s.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}},
		{"TLS 1.2, SCRAM-SHA-1-PLUS uses tls-unique", tls.VersionTLS12, "SCRAM-SHA-1-PLUS", sha1.New, ChannelBindingTLSUnique,
			func(s tls.ConnectionState) []byte { return s.TLSUnique }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, server := tlsPair(t, tt.version)
			creds := Credentials{Username: "alice", Password: NewSecret(testPassword)}
			ex, err := NewExchange([]string{"SCRAM-SHA-1", tt.mech}, creds, Policy{TLS: &client})
			if err != nil {
				t.Fatal(err)
			}
			if ex.Mechanism() != tt.mech || ex.ChannelBinding() != tt.wantCB {
				t.Fatalf("Mechanism, ChannelBinding = %q, %q; want %q, %q", ex.Mechanism(), ex.ChannelBinding(), tt.mech, tt.wantCB)
			}
			first, err := ex.Start()
			if err != nil {
				t.Fatal(err)
			}
			gs2 := "p=" + tt.wantCB + ",,"
			if !bytes.HasPrefix(first, []byte(gs2+"n=alice,r=")) {
				t.Fatalf("client-first-message = %q, want prefix %q", first, gs2+"n=alice,r=")
			}
			bare := string(first[len(gs2):])
			salt := []byte("salt-of-alice")
			serverFirst := "r=" + clientNonce(t, first) + "server-part,s=" + base64.StdEncoding.EncodeToString(salt) + ",i=4096"
			clientFinal, err := ex.Step([]byte(serverFirst))
			if err != nil {
				t.Fatal(err)
			}
			withoutProof, _, ok := strings.Cut(string(clientFinal), ",p=")
			if !ok || !strings.HasPrefix(withoutProof, "c=") {
				t.Fatalf("client-final-message = %q", clientFinal)
			}
			c, _, _ := strings.Cut(withoutProof[2:], ",")
			gotCB, err := base64.StdEncoding.DecodeString(c)
			if err != nil {
				t.Fatal(err)
			}
			if want := append([]byte(gs2), tt.cbData(server)...); !bytes.Equal(gotCB, want) {
				t.Fatalf("channel binding c= decodes to %x, want %x", gotCB, want)
			}

			serverFinal := rfc5802ServerFinal(t, tt.fn, testPassword, salt, bare, serverFirst, string(clientFinal))
			if err := ex.Finish([]byte(serverFinal)); err != nil {
				t.Fatalf("Finish: %v", err)
			}
		})
	}
}

func TestExchangeRejectsBadServerFirst(t *testing.T) {
	const salt = "c2FsdA=="
	tests := []struct {
		name   string
		policy Policy
		msg    func(nonce string) string
	}{
		// mellium.im/sasl v0.3.2 never returns on the first two.
		{"trailing comma", Policy{}, func(n string) string { return "r=" + n + "s,s=" + salt + ",i=4096," }},
		{"short last attribute", Policy{}, func(n string) string { return "r=" + n + "s,s=" + salt + ",i=4096,x" }},
		{"single short attribute", Policy{}, func(string) string { return "x" }},
		{"empty", Policy{}, func(string) string { return "" }},
		{"nonce only", Policy{}, func(n string) string { return "r=" + n + "s" }},
		{"attributes out of order", Policy{}, func(n string) string { return "s=" + salt + ",r=" + n + "s,i=4096" }},
		{"mandatory extension", Policy{}, func(n string) string { return "m=ext,r=" + n + "s,s=" + salt + ",i=4096" }},
		{"extension overrides iteration count", Policy{}, func(n string) string { return "r=" + n + "s,s=" + salt + ",i=4096,i=2000000000" }},
		{"salt not base64", Policy{}, func(n string) string { return "r=" + n + "s,s=***,i=4096" }},
		{"iteration count zero", Policy{}, func(n string) string { return "r=" + n + "s,s=" + salt + ",i=0" }},
		{"iteration count negative", Policy{}, func(n string) string { return "r=" + n + "s,s=" + salt + ",i=-1" }},
		{"iteration count not a number", Policy{}, func(n string) string { return "r=" + n + "s,s=" + salt + ",i=many" }},
		{"iteration count overflows", Policy{}, func(n string) string { return "r=" + n + "s,s=" + salt + ",i=99999999999999999999" }},
		{"iteration count above default limit", Policy{}, func(n string) string { return "r=" + n + "s,s=" + salt + ",i=2000000000" }},
		{"iteration count above policy limit", Policy{MaxIterations: 4095}, func(n string) string { return "r=" + n + "s,s=" + salt + ",i=4096" }},
		{"nonce not extending the client's", Policy{}, func(string) string { return "r=someone-else,s=" + salt + ",i=4096" }},
		{"attribute without =", Policy{}, func(n string) string { return "r=" + n + "s,s=" + salt + ",i4096" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := NewExchange([]string{"SCRAM-SHA-256"}, Credentials{Username: "alice", Password: NewSecret("pw")}, tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			first, err := ex.Start()
			if err != nil {
				t.Fatal(err)
			}
			resp, err := ex.Step([]byte(tt.msg(clientNonce(t, first))))
			if !errors.Is(err, ErrChallengeRejected) || resp != nil {
				t.Fatalf("Step = %q, %v; want error wrapping ErrChallengeRejected", resp, err)
			}
			if err2 := ex.Finish(nil); err2 != err {
				t.Errorf("Finish after a failed Step = %v, want the same error", err2)
			}
		})
	}
}

func TestExchangePlainAndAnonymous(t *testing.T) {
	tlsState := &tls.ConnectionState{HandshakeComplete: true, Version: tls.VersionTLS13}
	tests := []struct {
		name      string
		offered   []string
		creds     Credentials
		policy    Policy
		wantMech  string
		wantStart []byte
	}{
		{"PLAIN", []string{"PLAIN"}, Credentials{Username: "alice", Password: NewSecret("pencil")},
			Policy{TLS: tlsState}, "PLAIN", []byte("\x00alice\x00pencil")},
		{"PLAIN with authzid (not escaped)", []string{"PLAIN"}, Credentials{Username: "alice@example.com", Password: NewSecret("pencil"), AuthzID: "a,b=c"},
			Policy{TLS: tlsState}, "PLAIN", []byte("a,b=c\x00alice\x00pencil")},
		{"ANONYMOUS has no initial response", []string{"ANONYMOUS", "PLAIN"}, Credentials{},
			Policy{}, "ANONYMOUS", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := NewExchange(tt.offered, tt.creds, tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			if ex.Mechanism() != tt.wantMech {
				t.Fatalf("Mechanism = %q, want %q", ex.Mechanism(), tt.wantMech)
			}
			got, err := ex.Start()
			if err != nil || !bytes.Equal(got, tt.wantStart) || (got == nil) != (tt.wantStart == nil) {
				t.Fatalf("Start = %q, %v; want %q", got, err, tt.wantStart)
			}
			if tt.wantMech == "ANONYMOUS" {
				resp, err := ex.Step(nil)
				if err != nil || resp == nil || len(resp) != 0 {
					t.Fatalf("Step(empty) = %q, %v; want empty response", resp, err)
				}
			}
			if err := ex.Finish(nil); err != nil {
				t.Fatalf("Finish: %v", err)
			}
		})
	}
}

func TestExchangeOutOfOrder(t *testing.T) {
	creds := Credentials{Username: "alice", Password: NewSecret("pw")}
	plainPolicy := Policy{AllowPlain: true}
	tests := []struct {
		name    string
		offered []string
		policy  Policy
		calls   func(ex *Exchange) error
		want    error
	}{
		{"Step before Start", []string{"SCRAM-SHA-1"}, Policy{}, func(ex *Exchange) error {
			_, err := ex.Step([]byte("r=x"))
			return err
		}, ErrExchangeState},
		{"Finish before Start", []string{"PLAIN"}, plainPolicy, func(ex *Exchange) error { return ex.Finish(nil) }, ErrExchangeState},
		{"Start twice", []string{"PLAIN"}, plainPolicy, func(ex *Exchange) error {
			ex.Start()
			_, err := ex.Start()
			return err
		}, ErrExchangeState},
		{"Finish twice", []string{"PLAIN"}, plainPolicy, func(ex *Exchange) error {
			ex.Start()
			ex.Finish(nil)
			return ex.Finish(nil)
		}, ErrExchangeState},
		{"Step after Finish", []string{"PLAIN"}, plainPolicy, func(ex *Exchange) error {
			ex.Start()
			ex.Finish(nil)
			_, err := ex.Step(nil)
			return err
		}, ErrExchangeState},
		{"challenge for PLAIN", []string{"PLAIN"}, plainPolicy, func(ex *Exchange) error {
			ex.Start()
			_, err := ex.Step([]byte("?"))
			return err
		}, ErrChallengeRejected},
		{"SCRAM success right after client-first", []string{"SCRAM-SHA-1"}, Policy{}, func(ex *Exchange) error {
			ex.Start()
			return ex.Finish(nil)
		}, ErrServerSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex, err := NewExchange(tt.offered, creds, tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.calls(ex); !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
		})
	}
}

// FuzzExchangeServerFirst feeds arbitrary server-first-messages to a SCRAM
// exchange: it must return (not hang, not panic), with an error that wraps
// ErrChallengeRejected and does not show the password, or a response
// bounded by the message.
func FuzzExchangeServerFirst(f *testing.F) {
	for _, s := range []string{"r=NONCE,s=c2FsdA==,i=8", "r=NONCE,s=c2FsdA==,i=8,", "x", "r=NONCE,s=c2FsdA==,i=8,a", "m=x", "r=NONCE,s=,i=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		ex, err := NewExchange([]string{"SCRAM-SHA-1"}, Credentials{Username: "alice", Password: NewSecret(testPassword)}, Policy{MaxIterations: 16})
		if err != nil {
			t.Fatal(err)
		}
		first, err := ex.Start()
		if err != nil {
			t.Fatal(err)
		}
		msg = strings.ReplaceAll(msg, "NONCE", clientNonce(t, first))
		resp, err := ex.Step([]byte(msg))
		if err != nil {
			if !errors.Is(err, ErrChallengeRejected) || leaks(err.Error()) {
				t.Fatalf("Step(%q) = %v: want ErrChallengeRejected, without the password", msg, err)
			}
			return
		}
		if len(resp) > 256+len(msg) {
			t.Fatalf("Step(%q) = %d bytes", msg, len(resp))
		}
		if err := ex.Finish([]byte("v=AAAA")); !errors.Is(err, ErrServerSignature) {
			t.Fatalf("Finish with a wrong signature = %v, want ErrServerSignature", err)
		}
	})
}

// TestExchangeAnonymousChallengeOnce: the empty challenge that asks for the
// ANONYMOUS initial response is answered once; a server that asks again
// gets an error, not an endless loop.
func TestExchangeAnonymousChallengeOnce(t *testing.T) {
	ex, err := NewExchange([]string{"ANONYMOUS"}, Credentials{}, Policy{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.Start(); err != nil {
		t.Fatal(err)
	}
	if resp, err := ex.Step(nil); err != nil || len(resp) != 0 {
		t.Fatalf("first empty challenge = %q, %v", resp, err)
	}
	if _, err := ex.Step(nil); !errors.Is(err, ErrChallengeRejected) {
		t.Errorf("second empty challenge: %v, want ErrChallengeRejected", err)
	}
}
