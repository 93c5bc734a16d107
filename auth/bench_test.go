package auth

import (
	"encoding/base64"
	"fmt"
	"testing"
)

// BenchmarkLoginCPU is the client's authentication work per login, nothing
// else (no I/O, no XML): SCRAM-SHA-1 from the password (PBKDF2 with the
// server's iteration count), SCRAM-SHA-1 with the keys cached, and an
// XEP-0484 HT-SHA-256-NONE login with a token; each runs the initial
// response and the answer to the server-first-message (SCRAM), or the
// initial response and the check of the server's proof (HT).
//
//	go test -run - -bench LoginCPU -benchtime 200x ./auth/
func BenchmarkLoginCPU(b *testing.B) {
	creds := Credentials{Username: "alice", Password: NewSecret(testPassword)}
	salt := base64.StdEncoding.EncodeToString([]byte("salt of alice"))
	scram := func(b *testing.B, iter int, keys *SCRAMKeyCache) {
		for b.Loop() {
			ex, err := NewExchange([]string{"SCRAM-SHA-1"}, creds, Policy{SCRAMKeys: keys})
			if err != nil {
				b.Fatal(err)
			}
			first, err := ex.Start()
			if err != nil {
				b.Fatal(err)
			}
			nonce, _ := attribute(first[3:], 'r')
			if _, err := ex.Step(fmt.Appendf(nil, "r=%sserver,s=%s,i=%d", nonce, salt, iter)); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, iter := range []int{4096, 10000} {
		b.Run(fmt.Sprintf("SCRAM-SHA-1/i=%d/full", iter), func(b *testing.B) { scram(b, iter, nil) })
		b.Run(fmt.Sprintf("SCRAM-SHA-1/i=%d/cached", iter), func(b *testing.B) {
			keys := NewSCRAMKeyCache()
			scram(b, iter, keys) // the first login fills the cache
		})
	}
	b.Run("HT-SHA-256-NONE", func(b *testing.B) {
		tok := FASTToken{Mechanism: MechHTNone, Secret: NewSecret("secret-token:fast-0123456789abcdef"), UserAgent: "ua"}
		proof := (&htState{secret: tok.Secret}).mac("Responder")
		for b.Loop() {
			ex, err := NewFASTExchange(creds, tok, Policy{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ex.Start(); err != nil {
				b.Fatal(err)
			}
			if err := ex.Finish(proof); err != nil {
				b.Fatal(err)
			}
		}
	})
}
