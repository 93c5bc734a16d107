package auth

import (
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
)

// redacted is what every printed form of a non-empty Secret shows.
const redacted = "REDACTED"

// Secret holds a password or a token. Every printed form of it —
// String, GoString, all fmt verbs, slog, encoding/json and
// encoding.TextMarshaler — shows "REDACTED", or "" when the Secret is empty.
// Reveal is the only way to read the value.
//
// The value sits behind a pointer, so even a reflection-based printer that
// walks into an unexported field (fmt does this for unexported struct
// fields) shows an address, not the secret. Compare Secrets with Equal, not
// ==, which compares the pointers.
type Secret struct {
	v *string
}

// NewSecret returns a Secret holding s. An empty s gives the zero Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: &s}
}

// Reveal returns the secret value. It is the only way to get it.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether the Secret is empty.
func (s Secret) IsZero() bool { return s.v == nil || *s.v == "" }

// Equal reports, in constant time for equal lengths, whether s and o hold the
// same value. github.com/google/go-cmp uses it.
func (s Secret) Equal(o Secret) bool {
	return subtle.ConstantTimeCompare([]byte(s.Reveal()), []byte(o.Reveal())) == 1
}

// String returns "REDACTED", or "" for an empty Secret.
func (s Secret) String() string {
	if s.IsZero() {
		return ""
	}
	return redacted
}

// GoString returns "REDACTED", or `""` for an empty Secret.
func (s Secret) GoString() string {
	if s.IsZero() {
		return `""`
	}
	return redacted
}

// Format implements fmt.Formatter so that no verb (%x, %d, ...) reaches the
// value: %q quotes String, %#v prints GoString, every other verb prints
// String.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'q':
		_, _ = io.WriteString(f, strconv.Quote(s.String()))
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s.GoString())
	default:
		_, _ = io.WriteString(f, s.String())
	}
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON implements json.Marshaler: the JSON string "REDACTED" (or "").
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }

// RedactIn returns text with every occurrence of the secret's value, as it
// is and URL-escaped, replaced by "REDACTED": for server text that may echo
// the password or the token (a SASL failure's <text/>, an error page). It
// returns text unchanged for an empty Secret. It runs in time linear in
// len(text).
func (s Secret) RedactIn(text string) string {
	if s.IsZero() || text == "" {
		return text
	}
	v := *s.v
	text = strings.ReplaceAll(text, v, redacted)
	if q := url.QueryEscape(v); q != v {
		text = strings.ReplaceAll(text, q, redacted)
	}
	if p := url.PathEscape(v); p != v {
		text = strings.ReplaceAll(text, p, redacted)
	}
	return text
}
