package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"

	"mellium.im/xmpp/jid"
)

// ErrInvalidCredentials reports Credentials that cannot be used for any SASL
// mechanism (for example a password without a username). The error text
// names the problem, never the secret.
var ErrInvalidCredentials = errors.New("auth: invalid credentials")

// Credentials are what a connection authenticates with. The zero value is
// anonymous (SASL ANONYMOUS). Printing Credentials in any way shows the
// username and authorization identity, never the password. A token (Jitsi
// deployments send it in the endpoint URL and authenticate with SASL
// ANONYMOUS) is not part of Credentials: see TokenSource.
type Credentials struct {
	// Username is the localpart to authenticate as. A whole JID
	// ("alice@example.com") is accepted too: its localpart is used. Empty
	// means SASL ANONYMOUS.
	Username string
	// Password is the user's password.
	Password Secret
	// AuthzID is an optional authorization identity (usually empty: act as
	// Username).
	AuthzID string
}

// Anonymous reports whether c authenticates with SASL ANONYMOUS, that is
// whether it has no Username.
func (c Credentials) Anonymous() bool { return c.Username == "" }

// String returns a Go-like form that never shows the password, e.g.
// `auth.Credentials{Username:"alice", Password:REDACTED}`. Empty fields are
// left out.
func (c Credentials) String() string {
	var b strings.Builder
	b.WriteString("auth.Credentials{")
	sep := ""
	if c.Username != "" {
		b.WriteString("Username:" + strconv.Quote(c.Username))
		sep = ", "
	}
	if !c.Password.IsZero() {
		b.WriteString(sep + "Password:" + redacted)
		sep = ", "
	}
	if c.AuthzID != "" {
		b.WriteString(sep + "AuthzID:" + strconv.Quote(c.AuthzID))
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String: %#v never shows the password either.
func (c Credentials) GoString() string { return c.String() }

// LogValue implements slog.LogValuer: a group with the username (and the
// authorization identity, and password=REDACTED, when set).
func (c Credentials) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("username", c.Username)}
	if c.AuthzID != "" {
		attrs = append(attrs, slog.String("authzid", c.AuthzID))
	}
	if !c.Password.IsZero() {
		attrs = append(attrs, slog.String("password", redacted))
	}
	return slog.GroupValue(attrs...)
}

// validate checks that c can be used at all.
func (c Credentials) validate() error {
	if c.Anonymous() {
		switch {
		case !c.Password.IsZero():
			return fmt.Errorf("%w: password given without username", ErrInvalidCredentials)
		case c.AuthzID != "":
			return fmt.Errorf("%w: authorization identity given without username", ErrInvalidCredentials)
		}
		return nil
	}
	for _, f := range []struct{ name, v string }{
		{"username", c.Username},
		{"password", c.Password.Reveal()},
		{"authorization identity", c.AuthzID},
	} {
		if !utf8.ValidString(f.v) {
			return fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalidCredentials, f.name)
		}
		if strings.IndexByte(f.v, 0) >= 0 {
			return fmt.Errorf("%w: %s contains a NUL byte", ErrInvalidCredentials, f.name)
		}
	}
	_, err := c.authcid()
	return err
}

// authcid returns the SASL authentication identity: Username, or the
// localpart of Username when it is a JID.
func (c Credentials) authcid() (string, error) {
	if !strings.ContainsAny(c.Username, "@/") {
		return c.Username, nil
	}
	j, err := jid.Parse(c.Username)
	if err != nil {
		return "", fmt.Errorf("%w: username %q is not a valid JID: %v", ErrInvalidCredentials, c.Username, err)
	}
	if j.Localpart() == "" {
		return "", fmt.Errorf("%w: username %q has no localpart", ErrInvalidCredentials, c.Username)
	}
	return j.Localpart(), nil
}
