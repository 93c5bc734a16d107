package auth

import (
	"strings"
	"testing"
	"time"
)

// FuzzReadToken checks that no token, however broken, panics ReadToken or
// yields times for something that is not a JWT. Its seed corpus is in
// testdata/fuzz/FuzzReadToken.
func FuzzReadToken(f *testing.F) {
	hs := `{"alg":"HS256","typ":"JWT"}`
	f.Add(rawJWT(hs, `{"exp":1893553445,"nbf":1893550000}`))
	f.Add(rawJWT(`{"alg":"none"}`, `{"exp":1.5e9}`))
	f.Add(rawJWT(hs, `{"exp":1e400}`))
	f.Add("opaque")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		info := ReadToken(NewSecret(tok))
		if !info.JWT && (!info.Expires.IsZero() || !info.NotBefore.IsZero()) {
			t.Fatalf("non-JWT with times: %+v", info)
		}
		if info.JWT && (len(tok) > MaxTokenLen || strings.Count(tok, ".") != 2) {
			t.Fatalf("%d-byte token with %d dots read as a JWT", len(tok), strings.Count(tok, "."))
		}
		now := time.Unix(1_800_000_000, 0)
		if info.Expired(now, DefaultClockSkew) && info.Expires.IsZero() {
			t.Fatal("expired without a known expiry")
		}
		if info.NotYetValid(now, DefaultClockSkew) && info.NotBefore.IsZero() {
			t.Fatal("not yet valid without a known nbf")
		}
	})
}
