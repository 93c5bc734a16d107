package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// XEP-0484 (Fast Authentication Streamlining Tokens, FAST): after a login
// with the password, the client asks the server for a token; later logins
// present the token with an HT mechanism (draft-schmaus-kitten-sasl-ht) in
// the first SASL2 message. The initial response is the authentication
// identity, a NUL byte and HMAC-SHA-256(token, "Initiator" || cb), where cb
// is the channel-binding data of the mechanism's type (none for -NONE); the
// server answers, in <success/>, HMAC-SHA-256(token, "Responder" || cb),
// which proves that it knows the token too. No PBKDF2, one round trip.

// NSFAST is the namespace of XEP-0484.
const NSFAST = "urn:xmpp:fast:0"

// The HT mechanisms of XEP-0484, by channel-binding type.
const (
	MechHTNone     = "HT-SHA-256-NONE" // no channel binding
	MechHTUnique   = "HT-SHA-256-UNIQ" // tls-unique
	MechHTEndpoint = "HT-SHA-256-ENDP" // tls-server-end-point
	MechHTExporter = "HT-SHA-256-EXPR" // tls-exporter
)

// htBinding maps each HT mechanism to its channel-binding type, in the
// client's order of preference (the strongest binding first).
var htBinding = []struct{ mech, cb string }{
	{MechHTExporter, ChannelBindingTLSExporter},
	{MechHTUnique, ChannelBindingTLSUnique},
	{MechHTEndpoint, ChannelBindingTLSServerEndPoint},
	{MechHTNone, ""},
}

// FASTToken is a token the server issued for XEP-0484 logins. It is bound to
// the mechanism it was requested for and to the XEP-0388 user agent id of
// the client that requested it: a later login must present it with both.
// Printing it never shows the secret.
type FASTToken struct {
	// Mechanism is the HT mechanism the token is for, e.g. HT-SHA-256-NONE.
	Mechanism string
	// Secret is the token itself.
	Secret Secret
	// Expiry is when the server stops accepting the token; zero when the
	// server did not say.
	Expiry time.Time
	// UserAgent is the XEP-0388 user agent id the token was issued to.
	UserAgent string
}

// Expired reports whether t is no longer usable at now, counting skew as
// already gone (see DefaultClockSkew). A token without expiry never is.
func (t FASTToken) Expired(now time.Time, skew time.Duration) bool {
	return !t.Expiry.IsZero() && !now.Add(skew).Before(t.Expiry)
}

// LogValue implements slog.LogValuer: the mechanism, the expiry and the
// user agent, never the secret.
func (t FASTToken) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("mechanism", t.Mechanism),
		slog.Time("expiry", t.Expiry),
		slog.String("user_agent", t.UserAgent),
	)
}

// ErrFASTToken reports a FAST token that cannot be used: empty, bound to
// no user agent, or for a mechanism this stream cannot run.
var ErrFASTToken = errors.New("sasl: FAST token not usable")

// ChooseFAST returns the HT mechanism to ask a token for on a stream whose
// server offers the HT mechanisms offered, under p: the one with the
// strongest channel binding, HT-SHA-256-EXPR, -UNIQ, -ENDP, then -NONE. A
// channel-binding mechanism is chosen only over TLS, when the connection
// can give the data, and when the server advertised that type in its
// XEP-0440 feature (p.ChannelBindings): a server that binds no channel
// refuses the token, and that would cost a round trip and the token.
// p.Mechanisms does not name HT mechanisms (FAST is configured on its
// own), but when it allows only SCRAM-*-PLUS, -NONE is refused too. It
// returns "" when no offered mechanism fits.
func ChooseFAST(offered []string, p Policy) string {
	names := normalize(offered)
	for _, b := range htBinding {
		if slices.Contains(names, b.mech) && fastUsable(b.mech, p) {
			return b.mech
		}
	}
	return ""
}

// FASTUsable reports whether a token for mechanism mech can be presented on
// a stream whose server offers the HT mechanisms offered, under p (see
// ChooseFAST for when a channel-binding mechanism is usable).
func FASTUsable(mech string, offered []string, p Policy) bool {
	mech = strings.ToUpper(mech)
	return slices.Contains(normalize(offered), mech) && fastUsable(mech, p)
}

// fastUsable reports whether the channel binding of mech is possible on p,
// and required: a Policy that allows only SCRAM-*-PLUS mechanisms allows
// only HT mechanisms that bind the channel too.
func fastUsable(mech string, p Policy) bool {
	cb, ok := htChannelBinding(mech)
	switch {
	case !ok:
		return false
	case cb == "":
		return !p.onlyPlus()
	case !p.hasTLS() || !slices.Contains(p.ChannelBindings, cb):
		return false
	}
	_, err := channelBindingData(p.TLS, cb)
	return err == nil
}

// htChannelBinding returns the channel-binding type of the HT mechanism
// mech ("" for -NONE), and whether mech is one this package knows.
func htChannelBinding(mech string) (string, bool) {
	for _, b := range htBinding {
		if b.mech == mech {
			return b.cb, true
		}
	}
	return "", false
}

// htState is the XEP-0484 side of an Exchange.
type htState struct {
	user   string
	secret Secret
	cb     []byte // channel-binding data; nil for -NONE
}

// mac returns HMAC-SHA-256(secret, label || cb).
func (h *htState) mac(label string) []byte {
	m := hmac.New(sha256.New, []byte(h.secret.Reveal()))
	m.Write([]byte(label))
	m.Write(h.cb)
	return m.Sum(nil)
}

// NewFASTExchange prepares an XEP-0484 login with token t for the account
// of c on a stream described by p: the exchange's mechanism is
// t.Mechanism, its initial response proves knowledge of the token, and
// Finish checks the server's proof in the <success/> additional data
// (ErrServerSignature when it is wrong or missing). The session layer runs
// it like any Exchange; a server that sends a challenge fails it. It
// returns an error wrapping ErrFASTToken when t cannot be used here.
func NewFASTExchange(c Credentials, t FASTToken, p Policy) (*Exchange, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Anonymous() {
		return nil, fmt.Errorf("%w: anonymous credentials have no token", ErrFASTToken)
	}
	if t.Secret.IsZero() {
		return nil, fmt.Errorf("%w: empty token", ErrFASTToken)
	}
	mech := strings.ToUpper(t.Mechanism)
	cbType, ok := htChannelBinding(mech)
	if !ok {
		return nil, fmt.Errorf("%w: unknown mechanism %s", ErrFASTToken, printable(t.Mechanism))
	}
	user, _ := c.authcid() // validated above
	ht := &htState{user: user, secret: t.Secret}
	if cbType != "" {
		cb, err := channelBindingData(p.TLS, cbType)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrFASTToken, mech, err)
		}
		ht.cb = cb
	}
	return &Exchange{mechName: mech, ht: ht, cb: cbType}, nil
}

// htStart returns the HT initial response: authcid NUL HMAC(token,
// "Initiator" || cb).
func (h *htState) start() []byte {
	resp := make([]byte, 0, len(h.user)+1+sha256.Size)
	resp = append(resp, h.user...)
	resp = append(resp, 0)
	return append(resp, h.mac("Initiator")...)
}

// verify checks the server's HT proof, HMAC(token, "Responder" || cb).
func (h *htState) verify(mech string, additional []byte) error {
	if len(additional) == 0 {
		return fmt.Errorf("%w: %s success without the server's proof", ErrServerSignature, mech)
	}
	if !hmac.Equal(additional, h.mac("Responder")) {
		return fmt.Errorf("%w: %s server proof does not match", ErrServerSignature, mech)
	}
	return nil
}
