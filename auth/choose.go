package auth

import (
	"crypto/tls"
	"errors"
	"slices"
	"strconv"
	"strings"

	"mellium.im/sasl"
)

// Policy says which SASL mechanisms the client may use. The zero value
// allows SCRAM always, SCRAM-*-PLUS and PLAIN only over TLS, and ANONYMOUS
// for anonymous Credentials.
type Policy struct {
	// TLS is the state of the TLS connection under the stream (see
	// transport.Conn.ConnectionState), or nil when there is none. Only a
	// completed handshake counts as TLS.
	TLS *tls.ConnectionState
	// AllowPlain permits PLAIN without TLS: an explicit insecure opt-in.
	AllowPlain bool
	// Mechanisms, if not empty, lists the only mechanisms that may be used,
	// in order of preference (names as in SASL, e.g. "SCRAM-SHA-1").
	Mechanisms []string
	// ChannelBindings lists the channel-binding types the server advertised
	// in its XEP-0440 <sasl-channel-binding/> stream feature (see
	// ParseChannelBindings). Nil means the server advertised none, and the
	// type that fits the TLS version is assumed to work; non-nil means
	// SCRAM-*-PLUS is used only if the type ChannelBinding(TLS) names is in
	// the list.
	ChannelBindings []string
	// MaxIterations bounds the SCRAM iteration count the client accepts from
	// the server (each iteration costs the client CPU); 0 means
	// DefaultMaxIterations.
	MaxIterations int
	// SCRAMKeys, when set, keeps the keys a SCRAM login derives from the
	// password, so that the next login with the same password, salt and
	// iteration count skips PBKDF2 (see SCRAMKeyCache). nil: every SCRAM
	// login runs PBKDF2.
	SCRAMKeys *SCRAMKeyCache
}

// DefaultMaxIterations is the highest SCRAM iteration count accepted when
// Policy.MaxIterations is 0. Servers use 4096 to a few hundred thousand.
const DefaultMaxIterations = 1 << 20

// maxIterations returns the iteration bound of p.
func (p Policy) maxIterations() int {
	if p.MaxIterations > 0 {
		return p.MaxIterations
	}
	return DefaultMaxIterations
}

// onlyPlus reports whether p allows only channel-binding (-PLUS)
// mechanisms.
func (p Policy) onlyPlus() bool {
	if len(p.Mechanisms) == 0 {
		return false
	}
	for _, m := range p.Mechanisms {
		if !strings.HasSuffix(strings.ToUpper(strings.TrimSpace(m)), "-PLUS") {
			return false
		}
	}
	return true
}

// hasTLS reports whether p describes a completed TLS handshake.
func (p Policy) hasTLS() bool { return p.TLS != nil && p.TLS.HandshakeComplete }

// ErrNoMechanism is wrapped by the *NoMechanismError returned when none of
// the offered mechanisms is acceptable.
var ErrNoMechanism = errors.New("sasl: no acceptable mechanism")

// NoMechanismError says why no offered mechanism could be used. It wraps
// ErrNoMechanism.
type NoMechanismError struct {
	Offered []string // the mechanisms the server offered (normalized)
	Reasons []string // why each was refused, e.g. "PLAIN refused without TLS"
}

// maxListed bounds how many offered names and reasons the error text shows.
const maxListed = 16

// Error lists the offered mechanisms and the reasons (at most 16 of each).
func (e *NoMechanismError) Error() string {
	var b strings.Builder
	b.WriteString(ErrNoMechanism.Error())
	b.WriteString(" (offered:")
	if len(e.Offered) == 0 {
		b.WriteString(" none")
	}
	for i, name := range e.Offered {
		if i == maxListed {
			b.WriteString(" ...")
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(" " + printable(name))
	}
	b.WriteString(")")
	if len(e.Reasons) > 0 {
		b.WriteString(": " + strings.Join(e.Reasons[:min(len(e.Reasons), maxListed)], "; "))
		if len(e.Reasons) > maxListed {
			b.WriteString("; ...")
		}
	}
	return b.String()
}

// Unwrap returns ErrNoMechanism.
func (e *NoMechanismError) Unwrap() error { return ErrNoMechanism }

// Mechanism names this package knows, and the client's order of preference
// for non-anonymous credentials.
var (
	mechanisms = map[string]sasl.Mechanism{
		"SCRAM-SHA-256-PLUS": sasl.ScramSha256Plus,
		"SCRAM-SHA-1-PLUS":   sasl.ScramSha1Plus,
		"SCRAM-SHA-256":      sasl.ScramSha256,
		"SCRAM-SHA-1":        sasl.ScramSha1,
		"PLAIN":              sasl.Plain,
		"ANONYMOUS":          sasl.Anonymous,
	}
	preference = []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}
)

// Choose picks the mechanism to authenticate with from those the server
// offered. For anonymous Credentials only ANONYMOUS is considered. Otherwise
// the order of preference is SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS (both only
// when ChannelBinding(p.TLS) is not "", and the server advertised that type
// if it advertised any), SCRAM-SHA-256, SCRAM-SHA-1, then PLAIN (only over
// TLS or with p.AllowPlain); p.Mechanisms replaces that order when set, the
// same conditions still applying. Names are compared after trimming spaces
// and upper-casing. It returns an error wrapping ErrInvalidCredentials for
// unusable Credentials and a *NoMechanismError when nothing fits.
func Choose(offered []string, c Credentials, p Policy) (sasl.Mechanism, error) {
	m, _, err := choose(offered, c, p)
	return m, err
}

// choose is Choose, also returning the normalized offered names.
func choose(offered []string, c Credentials, p Policy) (sasl.Mechanism, []string, error) {
	if err := c.validate(); err != nil {
		return sasl.Mechanism{}, nil, err
	}
	names := normalize(offered)
	restricted := len(p.Mechanisms) > 0
	candidates := preference
	if restricted {
		candidates = normalize(p.Mechanisms)
	}
	var reasons []string
	refuse := func(r string) { reasons = append(reasons, r) }
	if c.Anonymous() {
		candidates = []string{"ANONYMOUS"}
		if restricted && !slices.Contains(normalize(p.Mechanisms), "ANONYMOUS") {
			candidates = nil
			refuse("ANONYMOUS not allowed by policy")
		}
	}
	cb := ChannelBinding(p.TLS)
	for _, name := range candidates {
		mech, known := mechanisms[name]
		plus := strings.HasSuffix(name, "-PLUS")
		switch {
		case !known:
			refuse(printable(name) + " not supported")
		case name == "ANONYMOUS" && !c.Anonymous():
			refuse("ANONYMOUS refused: credentials have a username")
		case !slices.Contains(names, name):
			if restricted || c.Anonymous() {
				refuse(name + " not offered")
			}
		case plus && !p.hasTLS():
			refuse(name + " refused without TLS")
		case plus && cb == "":
			refuse(name + " refused: channel binding not possible on this TLS connection")
		case plus && p.ChannelBindings != nil && !slices.Contains(p.ChannelBindings, cb):
			refuse(name + " refused: server does not support channel binding " + cb)
		case name == "PLAIN" && !p.hasTLS() && !p.AllowPlain:
			refuse("PLAIN refused without TLS")
		default:
			return mech, names, nil
		}
	}
	// Say why each offered mechanism that was not a candidate was left out.
	for _, name := range names {
		if slices.Contains(candidates, name) {
			continue
		}
		_, known := mechanisms[name]
		switch {
		case !known:
			refuse(printable(name) + " not supported")
		case name == "ANONYMOUS" && c.Anonymous():
			// already said: not allowed by policy
		case name == "ANONYMOUS":
			refuse("ANONYMOUS refused: credentials have a username")
		case c.Anonymous():
			refuse(name + " refused: credentials are anonymous")
		default:
			refuse(name + " not allowed by policy")
		}
	}
	if len(names) == 0 {
		refuse("server offered no mechanism")
	}
	return sasl.Mechanism{}, names, &NoMechanismError{Offered: names, Reasons: reasons}
}

// normalize trims and upper-cases mechanism names, dropping empty ones and
// duplicates.
func normalize(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.ToUpper(strings.TrimSpace(s))
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// printable returns a server-sent name as is when it looks like a SASL
// mechanism name (RFC 4422: A-Z 0-9 - _, at most 20 characters), and quoted
// and shortened otherwise, so that error text stays readable.
func printable(name string) string {
	ok := len(name) <= 20
	for _, r := range name {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			ok = false
			break
		}
	}
	if ok {
		return name
	}
	if len(name) > 40 {
		name = name[:40] + "..."
	}
	return strconv.Quote(name)
}
