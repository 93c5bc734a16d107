package auth

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// b64 is the base64url (unpadded) encoding JWTs use.
func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// rawJWT builds a compact JWS from a header and a claims JSON text, with a
// dummy signature: ReadToken never looks at the signature.
func rawJWT(header, claims string) string {
	return b64(header) + "." + b64(claims) + "." + b64("sig")
}

// signedJWT returns a real HS256 token with the given claims.
func signedJWT(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("test key"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReadToken(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	nbf := time.Date(2029, 12, 31, 0, 0, 0, 0, time.UTC)
	hs := `{"alg":"HS256","typ":"JWT"}`
	cases := []struct {
		name string
		tok  string
		want TokenInfo
	}{
		{"signed with exp and nbf", signedJWT(t, jwt.MapClaims{"exp": exp.Unix(), "nbf": nbf.Unix(), "room": "*"}),
			TokenInfo{JWT: true, Expires: exp, NotBefore: nbf}},
		{"exp only", rawJWT(hs, `{"exp":1893553445}`), TokenInfo{JWT: true, Expires: exp}},
		{"no exp nor nbf", rawJWT(hs, `{"sub":"meet.example.com"}`), TokenInfo{JWT: true}},
		{"empty claims", rawJWT(hs, `{}`), TokenInfo{JWT: true}},
		{"fractional exp", rawJWT(hs, `{"exp":1893553445.5}`), TokenInfo{JWT: true, Expires: exp.Add(500 * time.Millisecond)}},
		{"exponent exp", rawJWT(hs, `{"exp":1.893553445e9}`), TokenInfo{JWT: true, Expires: exp}},
		{"negative exp", rawJWT(hs, `{"exp":-1}`), TokenInfo{JWT: true, Expires: time.Unix(-1, 0).UTC()}},
		{"exp as string", rawJWT(hs, `{"exp":"1893553445"}`), TokenInfo{JWT: true}},
		{"exp as object", rawJWT(hs, `{"exp":{"a":1},"nbf":true}`), TokenInfo{JWT: true}},
		{"exp out of range", rawJWT(hs, `{"exp":1e300,"nbf":-99999999999999999999}`), TokenInfo{JWT: true}},
		{"exp huge integer", rawJWT(hs, `{"exp":123456789012345678901234567890}`), TokenInfo{JWT: true}},
		{"alg none, empty signature", b64(`{"alg":"none"}`) + "." + b64(`{"exp":1893553445}`) + ".", TokenInfo{JWT: true, Expires: exp}},
		{"unknown alg", rawJWT(`{"alg":"XX999"}`, `{"exp":1893553445}`), TokenInfo{JWT: true, Expires: exp}},
		{"no alg", rawJWT(`{"typ":"JWT"}`, `{"exp":1893553445}`), TokenInfo{JWT: true, Expires: exp}},
		{"opaque token", "3f6c1a0e-opaque-token", TokenInfo{}},
		{"empty", "", TokenInfo{}},
		{"two segments", b64(hs) + "." + b64(`{"exp":1}`), TokenInfo{}},
		{"four segments", rawJWT(hs, `{"exp":1}`) + ".x", TokenInfo{}},
		{"malformed base64 header", "!!!." + b64(`{"exp":1}`) + ".sig", TokenInfo{}},
		{"malformed base64 claims", b64(hs) + ".@@@.sig", TokenInfo{}},
		{"padded base64", base64.StdEncoding.EncodeToString([]byte(hs)) + "." + base64.StdEncoding.EncodeToString([]byte(`{"exp":10}`)) + ".c2ln", TokenInfo{}},
		{"header not JSON", rawJWT("not json", `{"exp":1}`), TokenInfo{}},
		{"claims not JSON", rawJWT(hs, "exp=1"), TokenInfo{}},
		{"claims an array", rawJWT(hs, `[1,2]`), TokenInfo{}},
		{"malformed signature", b64(hs) + "." + b64(`{"exp":1}`) + ".%%%", TokenInfo{}},
		{"huge token", rawJWT(hs, `{"exp":1893553445,"pad":"`+strings.Repeat("x", MaxTokenLen)+`"}`), TokenInfo{}},
		{"dots only", "..", TokenInfo{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ReadToken(NewSecret(tc.tok))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ReadToken mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadTokenLargestAccepted(t *testing.T) {
	hs := `{"alg":"HS256"}`
	tok := rawJWT(hs, `{"exp":1893553445,"pad":"`+strings.Repeat("x", MaxTokenLen/2)+`"}`)
	if len(tok) > MaxTokenLen {
		t.Fatalf("test token is %d bytes, over MaxTokenLen", len(tok))
	}
	if info := ReadToken(NewSecret(tok)); !info.JWT || info.Expires.IsZero() {
		t.Errorf("ReadToken of a %d-byte JWT = %+v, want it read", len(tok), info)
	}
}

func TestExpired(t *testing.T) {
	exp := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	info := TokenInfo{JWT: true, Expires: exp}
	cases := []struct {
		name string
		info TokenInfo
		now  time.Time
		skew time.Duration
		want bool
	}{
		{"unknown expiry", TokenInfo{JWT: true}, exp.Add(time.Hour), 0, false},
		{"not a JWT", TokenInfo{}, exp.Add(time.Hour), DefaultClockSkew, false},
		{"well before", info, exp.Add(-time.Hour), DefaultClockSkew, false},
		{"just outside the skew", info, exp.Add(-DefaultClockSkew - time.Nanosecond), DefaultClockSkew, false},
		{"at the skew margin", info, exp.Add(-DefaultClockSkew), DefaultClockSkew, true},
		{"inside the skew", info, exp.Add(-time.Second), DefaultClockSkew, true},
		{"at exp without skew", info, exp, 0, true},
		{"just before exp without skew", info, exp.Add(-time.Nanosecond), 0, false},
		{"after exp", info, exp.Add(time.Minute), DefaultClockSkew, true},
		{"negative skew is zero", info, exp.Add(-time.Nanosecond), -time.Hour, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.info.Expired(tc.now, tc.skew); got != tc.want {
				t.Errorf("Expired(%v, %v) = %v, want %v", tc.now, tc.skew, got, tc.want)
			}
		})
	}
}

func TestNotYetValid(t *testing.T) {
	nbf := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	info := TokenInfo{JWT: true, NotBefore: nbf}
	cases := []struct {
		name string
		info TokenInfo
		now  time.Time
		skew time.Duration
		want bool
	}{
		{"unknown nbf", TokenInfo{JWT: true}, nbf.Add(-time.Hour), 0, false},
		{"well before nbf", info, nbf.Add(-time.Hour), DefaultClockSkew, true},
		{"within the skew", info, nbf.Add(-time.Second), DefaultClockSkew, false},
		{"at nbf", info, nbf, 0, false},
		{"after nbf", info, nbf.Add(time.Hour), 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.info.NotYetValid(tc.now, tc.skew); got != tc.want {
				t.Errorf("NotYetValid = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTokenExpiredFailure(t *testing.T) {
	cases := []struct {
		name string
		fe   *FailureError
		want bool
	}{
		{"nil", nil, false},
		{"credentials-expired", &FailureError{Condition: "credentials-expired"}, true},
		{"not-allowed token expired (Jitsi)", &FailureError{Condition: "not-allowed", Text: "token expired"}, true},
		{"not-authorized Token Expired", &FailureError{Condition: "not-authorized", Text: "Token EXPIRED at 12:00"}, true},
		{"not-allowed other text", &FailureError{Condition: "not-allowed", Text: "token required"}, false},
		{"not-allowed no text", &FailureError{Condition: "not-allowed"}, false},
		{"not-authorized wrong password", &FailureError{Condition: "not-authorized", Text: "Unable to authorize you"}, false},
		{"other condition mentioning expired", &FailureError{Condition: "account-disabled", Text: "subscription expired"}, false},
		{"temporary-auth-failure", &FailureError{Condition: "temporary-auth-failure"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := TokenExpiredFailure(tc.fe); got != tc.want {
				t.Errorf("TokenExpiredFailure(%v) = %v, want %v", tc.fe, got, tc.want)
			}
		})
	}
}

func TestTokenExpiredFailureParsed(t *testing.T) {
	fe, err := ParseFailure([]byte(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-allowed/><text xml:lang='en'>token expired</text></failure>`))
	if err != nil {
		t.Fatal(err)
	}
	if !TokenExpiredFailure(fe) {
		t.Errorf("TokenExpiredFailure(%v) = false for Jitsi's refusal", fe)
	}
}
