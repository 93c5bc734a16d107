package auth

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
)

// ErrChallengeRejected reports a server challenge the client refuses to
// process: malformed, or asking for more work than the Policy allows.
var ErrChallengeRejected = errors.New("sasl: server challenge rejected")

// checkServerFirst validates a SCRAM server-first-message (RFC 5802
// section 7) before mellium.im/sasl v0.3.2 reads it. That parser never
// returns on a message with an attribute shorter than three bytes after the
// last one it uses (a trailing comma is enough), lets a later attribute
// override an earlier one, and runs PBKDF2 for whatever iteration count the
// server names. So: every attribute is ALPHA "=" value; r, s and i come first
// and in that order; no extension reuses r, s, i or the reserved m; the salt
// is non-empty base64; 1 <= i <= maxIter.
func checkServerFirst(msg []byte, maxIter int) error {
	reject := func(format string, a ...any) error {
		return fmt.Errorf("%w: server-first-message: %s", ErrChallengeRejected, fmt.Sprintf(format, a...))
	}
	if len(msg) == 0 {
		return reject("empty")
	}
	attrs := bytes.Split(msg, []byte{','})
	for i, a := range attrs {
		if len(a) < 3 || a[1] != '=' || !(a[0] >= 'a' && a[0] <= 'z' || a[0] >= 'A' && a[0] <= 'Z') {
			return reject("attribute %d is not name=value", i+1)
		}
	}
	if len(attrs) < 3 {
		return reject("want nonce, salt and iteration count, got %d attributes", len(attrs))
	}
	if attrs[0][0] == 'm' {
		return reject("mandatory extension (m=) not supported")
	}
	for i, want := range []byte{'r', 's', 'i'} {
		if attrs[i][0] != want {
			return reject("attribute %d is %q, want %q", i+1, attrs[i][0], want)
		}
	}
	for i, a := range attrs[3:] {
		switch a[0] {
		case 'r', 's', 'i', 'm':
			return reject("extension %d reuses attribute %q", i+1, a[0])
		}
	}
	salt, err := base64.StdEncoding.DecodeString(string(attrs[1][2:]))
	if err != nil || len(salt) == 0 {
		return reject("salt is not base64")
	}
	iter, err := strconv.Atoi(string(attrs[2][2:]))
	switch {
	case err != nil || iter < 1:
		return reject("iteration count is not a positive number")
	case iter > maxIter:
		return reject("iteration count %d is above the limit %d", iter, maxIter)
	}
	return nil
}

// scramError returns the value of a SCRAM server-error ("e=VALUE"), and
// whether msg is one.
func scramError(msg []byte) (string, bool) {
	v, ok := bytes.CutPrefix(msg, []byte("e="))
	if !ok {
		return "", false
	}
	if len(v) > 64 {
		v = v[:64]
	}
	return string(v), true
}

// escapeSaslname escapes ',' and '=' as RFC 5802 requires in a saslname.
// mellium.im/sasl does it for the username but not for the authorization
// identity.
func escapeSaslname(s string) string {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',':
			b.WriteString("=2C")
		case '=':
			b.WriteString("=3D")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
