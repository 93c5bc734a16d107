package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// FuzzParseChannelBindings reads arbitrary bytes as the XEP-0440
// <sasl-channel-binding/> stream feature: exactly one of a list and an error,
// the error wrapping ErrMalformedFeature, and the types non-empty and
// bounded by the input.
func FuzzParseChannelBindings(f *testing.F) {
	for _, s := range []string{
		"<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-server-end-point'/><channel-binding type='tls-exporter'/></sasl-channel-binding>",
		"<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'/>",
		"<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type=''/><x:channel-binding xmlns:x='urn:xmpp:sasl-cb:0' type='tls-unique'/></sasl-channel-binding>",
		"<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='a'>",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, elem []byte) {
		types, err := ParseChannelBindings(elem)
		if (types == nil) == (err == nil) {
			t.Fatalf("ParseChannelBindings(%q) = %q, %v: want exactly one", elem, types, err)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformedFeature) {
				t.Fatalf("ParseChannelBindings(%q): %v does not wrap ErrMalformedFeature", elem, err)
			}
			return
		}
		n := 0
		for _, ty := range types {
			if ty == "" {
				t.Fatalf("ParseChannelBindings(%q) returned an empty type", elem)
			}
			n += len(ty) + 1
		}
		if n > len(elem) {
			t.Fatalf("ParseChannelBindings(%q) returned %d bytes of types", elem, n)
		}
	})
}

// fuzzMechanisms are the mechanisms FuzzExchangeChallenge drives, chosen by
// a byte of the input.
var fuzzMechanisms = []string{"PLAIN", "ANONYMOUS", "SCRAM-SHA-1", "SCRAM-SHA-256"}

// FuzzExchangeChallenge drives an Exchange of each mechanism with arbitrary
// challenges and success data from the server. The script holds steps
// separated by a 0 byte: "c" then a challenge (NONCE in it becomes the
// client's nonce, so that the SCRAM parser gets past the nonce check), "s"
// then success data, anything else a challenge as it is. Properties: no panic,
// every error wraps one of the package's sentinels and never shows the
// password, the first error is final, responses are bounded by what the
// server sent, and a SCRAM exchange never succeeds (nothing here knows the
// password to sign with).
func FuzzExchangeChallenge(f *testing.F) {
	for _, s := range []struct {
		mech   uint8
		script string
	}{
		{0, "s"},
		{0, "c?\x00s"},
		{1, "c\x00s"},
		{1, "cx"},
		{2, "cr=NONCEsrv,s=c2FsdA==,i=2\x00cv=AAAA\x00s"},
		{3, "cr=NONCEsrv,s=c2FsdA==,i=2\x00sv=AAAA"},
		{3, "cr=NONCEsrv,s=c2FsdA==,i=2,x=ext\x00ce=invalid-proof"},
		{2, "cr=NONCE,s=,i=1\x00s"},
		{3, "s"},
	} {
		f.Add(s.mech, []byte(s.script))
	}
	f.Fuzz(func(t *testing.T, mech uint8, script []byte) {
		name := fuzzMechanisms[int(mech)%len(fuzzMechanisms)]
		creds := Credentials{Username: "alice", Password: NewSecret(testPassword)}
		if name == "ANONYMOUS" {
			creds = Credentials{}
		}
		ex, err := NewExchange([]string{name}, creds, Policy{AllowPlain: true, MaxIterations: 16})
		if err != nil {
			t.Fatal(err)
		}
		first, err := ex.Start()
		if err != nil {
			t.Fatal(err)
		}
		nonce := ""
		if ex.scram {
			nonce = clientNonce(t, first)
		}
		var firstErr error
		succeeded := false
		for _, step := range bytes.Split(script, []byte{0}) {
			var err error
			switch {
			case len(step) > 0 && step[0] == 's':
				err = ex.Finish(step[1:])
				succeeded = succeeded || err == nil
			default:
				challenge := step
				if len(step) > 0 && step[0] == 'c' {
					challenge = bytes.ReplaceAll(step[1:], []byte("NONCE"), []byte(nonce))
				}
				var resp []byte
				resp, err = ex.Step(challenge)
				if len(resp) > 256+len(challenge) {
					t.Fatalf("%s: %d-byte response to a %d-byte challenge", name, len(resp), len(challenge))
				}
			}
			if err == nil {
				continue
			}
			if leaks(err.Error()) {
				t.Fatalf("%s: error shows the password: %v", name, err)
			}
			if !errors.Is(err, ErrChallengeRejected) && !errors.Is(err, ErrServerSignature) && !errors.Is(err, ErrExchangeState) {
				t.Fatalf("%s: error %v wraps no sentinel", name, err)
			}
			if firstErr == nil {
				firstErr = err
			} else if err != firstErr {
				t.Fatalf("%s: error %v after %v: the first error is not final", name, err, firstErr)
			}
		}
		if succeeded && ex.scram {
			t.Fatalf("%s: success without the server signature, script %q", name, script)
		}
	})
}

// FuzzExchangeServerFinal verifies SCRAM server-final-messages, sent as a
// challenge or as the data of success: the exchange succeeds only when the
// message carries the right server signature, and always with the exact
// right message (mellium refuses extensions after the verifier, which RFC
// 5802 allows; no server is known to send them). CORRECT in the
// input stands for the right server-final-message, so that the fuzzer
// explores around it. Errors wrap ErrServerSignature and never show the
// password.
func FuzzExchangeServerFinal(f *testing.F) {
	for _, s := range []struct {
		final     string
		asSuccess bool
		extra     string
	}{
		{"CORRECT", true, ""},
		{"CORRECT", false, ""},
		{"CORRECT", false, "CORRECT"},
		{"CORRECT", false, "v=AAAA"},
		{"CORRECT,x=extension", true, ""},
		{"v=AAAA", true, ""},
		{"e=invalid-proof", false, ""},
		{"", true, ""},
		{"vCORRECT", true, ""},
	} {
		f.Add([]byte(s.final), s.asSuccess, []byte(s.extra))
	}
	f.Fuzz(func(t *testing.T, final []byte, asSuccess bool, extra []byte) {
		ex, err := NewExchange([]string{"SCRAM-SHA-256"}, Credentials{Username: "alice", Password: NewSecret(testPassword)}, Policy{MaxIterations: 16})
		if err != nil {
			t.Fatal(err)
		}
		clientFirst, err := ex.Start()
		if err != nil {
			t.Fatal(err)
		}
		salt := []byte("NaCl-4-alice")
		serverFirst := "r=" + clientNonce(t, clientFirst) + "srv,s=" + base64.StdEncoding.EncodeToString(salt) + ",i=2"
		clientFinal, err := ex.Step([]byte(serverFirst))
		if err != nil {
			t.Fatal(err)
		}
		signature := scramServerSignature(t, testPassword, salt, 2, clientFirst, serverFirst, clientFinal)
		correct := []byte("v=" + base64.StdEncoding.EncodeToString(signature))
		final = bytes.ReplaceAll(final, []byte("CORRECT"), correct)
		extra = bytes.ReplaceAll(extra, []byte("CORRECT"), correct)

		// check: an error wraps ErrServerSignature and hides the password;
		// success only when may (the signature is right), and always when
		// must (the exact right message).
		check := func(what string, msg []byte, err error, may, must bool) {
			t.Helper()
			if err != nil {
				if !errors.Is(err, ErrServerSignature) {
					t.Fatalf("%s %q: %v does not wrap ErrServerSignature", what, msg, err)
				}
				if leaks(err.Error()) {
					t.Fatalf("%s: error shows the password: %v", what, err)
				}
			}
			if err == nil && !may || err != nil && must {
				t.Fatalf("%s %q: error %v (right message %q)", what, msg, err, correct)
			}
		}
		if asSuccess {
			check("success", final, ex.Finish(final), verifies(final, signature), bytes.Equal(final, correct))
			return
		}
		_, err = ex.Step(final)
		check("challenge", final, err, verifies(final, signature), bytes.Equal(final, correct))
		if err == nil {
			ok := len(extra) == 0 || bytes.Equal(extra, final)
			check("success after the verified challenge", extra, ex.Finish(extra), ok, ok)
		}
	})
}

// verifies reports whether a server-final-message carries signature: its
// first attribute is v= with signature in base64 (extensions may follow).
func verifies(msg, signature []byte) bool {
	v, ok := bytes.CutPrefix(msg, []byte("v="))
	if !ok {
		return false
	}
	v, _, _ = bytes.Cut(v, []byte(","))
	got, err := base64.StdEncoding.DecodeString(string(v))
	return err == nil && hmac.Equal(got, signature)
}

// scramServerSignature computes the ServerSignature of RFC 5802 section 3
// for SCRAM-SHA-256 from the client's and the server's messages.
func scramServerSignature(t *testing.T, password string, salt []byte, iter int, clientFirst []byte, serverFirst string, clientFinal []byte) []byte {
	t.Helper()
	i := bytes.Index(clientFirst, []byte(",n="))
	withoutProof, _, ok := strings.Cut(string(clientFinal), ",p=")
	if i < 0 || !ok {
		t.Fatalf("unexpected client messages %q, %q", clientFirst, clientFinal)
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	authMessage := string(clientFirst[i+1:]) + "," + serverFirst + "," + withoutProof
	return mac(mac(salted, "Server Key"), authMessage)
}
