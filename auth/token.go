package auth

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultClockSkew is the margin Expired uses when a caller has no better
// value: a token is treated as expired 30 s before its exp. The margin covers
// two things. The client's clock may run behind the server's (hosts without
// NTP, suspended VMs and laptops drift by seconds), and a token checked just
// before a connect must still be valid when the server reads it, after DNS,
// TLS, the WebSocket or BOSH handshake and the SASL exchange, which can take
// several seconds on a slow link. Refusing a nearly expired token early costs
// one token refresh; sending it costs a server refusal, after which the
// client may not retry with that token. 30 s is small next to the lifetime
// of real deployment tokens (minutes to hours), so a fresh token is never
// refused.
const DefaultClockSkew = 30 * time.Second

// MaxTokenLen is the longest token ReadToken parses; a longer one is passed
// through as a token of unknown expiry. Real JWTs are a few hundred bytes to
// a few KiB; the bound keeps a hostile or broken token source from making
// every connect attempt decode megabytes.
const MaxTokenLen = 64 << 10

// maxNumericDate bounds the exp and nbf values ReadToken accepts, in seconds
// from the Unix epoch either way (about 35,000 years). Values beyond it are
// treated as unknown rather than converted with an overflow.
const maxNumericDate = 1 << 40

// TokenInfo is what the client reads of a token without verifying it. The
// server verifies the signature; the client only uses the times to avoid
// sending a token the server would refuse.
type TokenInfo struct {
	// JWT reports whether the token is a JWS compact serialization (three
	// base64url segments whose first two are JSON objects).
	JWT bool
	// Expires is the exp claim, zero when the token has none or it is not a
	// JWT.
	Expires time.Time
	// NotBefore is the nbf claim, zero when the token has none or it is not
	// a JWT.
	NotBefore time.Time
}

// tokenParser reads claims without verifying; numbers stay json.Number so
// that a large exp is not rounded by float64 before the range check.
var tokenParser = jwt.NewParser(jwt.WithJSONNumber())

// ReadToken reads the exp and nbf claims of tok without verifying its
// signature. It never fails: a token that is not a JWT (an opaque string,
// bad base64, bad JSON, longer than MaxTokenLen) gives TokenInfo{JWT: false},
// and a JWT whose exp or nbf is missing or not a number in range leaves that
// time zero (unknown). A JWT whose alg is unknown or missing is still read:
// verifying it is the server's business.
func ReadToken(tok Secret) TokenInfo {
	raw := tok.Reveal()
	if raw == "" || len(raw) > MaxTokenLen {
		return TokenInfo{}
	}
	claims := jwt.MapClaims{}
	_, _, err := tokenParser.ParseUnverified(raw, claims)
	if err != nil && !errors.Is(err, jwt.ErrTokenUnverifiable) {
		return TokenInfo{}
	}
	return TokenInfo{
		JWT:       true,
		Expires:   numericDate(claims["exp"]),
		NotBefore: numericDate(claims["nbf"]),
	}
}

// numericDate converts a JWT NumericDate (seconds since the epoch, possibly
// fractional) to a time, or the zero time when v is not a number in range.
func numericDate(v any) time.Time {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}
	}
	if i, err := n.Int64(); err == nil {
		if i < -maxNumericDate || i > maxNumericDate {
			return time.Time{}
		}
		return time.Unix(i, 0).UTC()
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.Abs(f) > maxNumericDate {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// Expired reports whether the token has expired at now, counting it as
// expired skew early (see DefaultClockSkew): now+skew is at or after
// Expires. It is false when the expiry is unknown. A negative skew is
// treated as zero.
func (i TokenInfo) Expired(now time.Time, skew time.Duration) bool {
	if i.Expires.IsZero() {
		return false
	}
	return !now.Add(max(skew, 0)).Before(i.Expires)
}

// NotYetValid reports whether the token's nbf lies in the future at now,
// giving the client's clock skew of slack the other way (a server whose clock
// runs ahead already accepts it): now+skew is before NotBefore. It is false
// when nbf is unknown. A negative skew is treated as zero.
func (i TokenInfo) NotYetValid(now time.Time, skew time.Duration) bool {
	if i.NotBefore.IsZero() {
		return false
	}
	return now.Add(max(skew, 0)).Before(i.NotBefore)
}

// TokenExpiredFailure reports whether a SASL failure means the token
// expired: the condition credentials-expired, or not-authorized or
// not-allowed (what Jitsi's Prosody sends) whose text mentions "expired" in
// any letter case. It is false for a nil fe.
func TokenExpiredFailure(fe *FailureError) bool {
	if fe == nil {
		return false
	}
	switch fe.Condition {
	case "credentials-expired":
		return true
	case "not-authorized", "not-allowed":
		return strings.Contains(strings.ToLower(fe.Text), "expired")
	}
	return false
}
