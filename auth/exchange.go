package auth

import (
	"bytes"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"mellium.im/sasl"
)

// ErrServerSignature reports that a SCRAM server did not prove it knows the
// password: its server signature was wrong or missing, or it reported
// success before the exchange was complete. Authentication must be treated
// as failed (the server may be an impostor).
var ErrServerSignature = errors.New("sasl: server signature not verified")

// ErrExchangeState reports an Exchange method called out of order.
var ErrExchangeState = errors.New("sasl: exchange step out of order")

// exchangeStep is where an Exchange is.
type exchangeStep int

const (
	stepNew       exchangeStep = iota
	stepStarted                // the initial response was produced
	stepFinalSent              // SCRAM: client-final-message produced
	stepVerified               // SCRAM: server-final verified from a challenge
	stepDone                   // Finish succeeded
)

// Exchange drives the client side of one SASL exchange. The session layer
// does the XML: it sends <auth mechanism=Mechanism()> with Start's response
// (base64), answers each <challenge/> with Step, and on <success/> calls
// Finish with its decoded content. All data in and out is raw, not base64.
//
// An Exchange is not safe for concurrent use. After any error it is done:
// every later call returns that error.
type Exchange struct {
	mechName  string
	neg       *sasl.Negotiator // nil for an HT (FAST) exchange
	scram     bool
	cb        string
	maxIter   int
	step      exchangeStep
	final     []byte // the SCRAM server-final-message verified from a challenge
	err       error
	anonAsked bool // the server asked for the ANONYMOUS initial response

	ht *htState // an XEP-0484 exchange (fast.go)

	// A SCRAM exchange with a key cache (scramkeys.go) computes its
	// client-final-message itself (scramproof.go) from the keys.
	keys     *SCRAMKeyCache
	password Secret
	tls      *tls.ConnectionState
	initial  []byte // the client-first-message sent
	sig      []byte // the server signature expected
}

// NewExchange chooses a mechanism with Choose and prepares the exchange.
// It returns Choose's errors.
func NewExchange(offered []string, c Credentials, p Policy) (*Exchange, error) {
	mech, names, err := choose(offered, c, p)
	if err != nil {
		return nil, err
	}
	e := &Exchange{
		mechName: mech.Name,
		scram:    strings.HasPrefix(mech.Name, "SCRAM-"),
		maxIter:  p.maxIterations(),
	}
	if e.scram && p.SCRAMKeys != nil {
		e.keys, e.password, e.tls = p.SCRAMKeys, c.Password, p.TLS
	}
	var user, authz string
	if !c.Anonymous() {
		user, _ = c.authcid() // validated by choose
		authz = c.AuthzID
		if e.scram {
			authz = escapeSaslname(authz)
		}
	}
	password := c.Password
	opts := []sasl.Option{
		sasl.Credentials(func() (username, pass, identity []byte) {
			return []byte(user), []byte(password.Reveal()), []byte(authz)
		}),
		// mellium sends channel-binding data only when the chosen -PLUS name
		// is among the remote mechanisms.
		sasl.RemoteMechanisms(names...),
	}
	if strings.HasSuffix(mech.Name, "-PLUS") {
		e.cb = ChannelBinding(p.TLS)
		opts = append(opts, sasl.TLSState(*p.TLS))
	}
	e.neg = sasl.NewClient(mech, opts...)
	return e, nil
}

// Mechanism returns the name of the chosen mechanism, e.g. "SCRAM-SHA-256".
func (e *Exchange) Mechanism() string { return e.mechName }

// ChannelBinding returns the channel-binding type in use ("tls-exporter",
// "tls-unique", or for an HT mechanism also "tls-server-end-point"), or ""
// when the mechanism binds no channel.
func (e *Exchange) ChannelBinding() string { return e.cb }

// Start returns the initial response, raw. It is nil when there is none
// (ANONYMOUS: send <auth/> with no content); a non-nil empty slice would be
// an empty response, which RFC 6120 sends as "=".
func (e *Exchange) Start() ([]byte, error) {
	switch {
	case e.err != nil:
		return nil, e.err
	case e.step != stepNew:
		return nil, e.fail(fmt.Errorf("%w: Start called twice", ErrExchangeState))
	}
	if e.ht != nil {
		e.step = stepStarted
		return e.ht.start(), nil
	}
	_, resp, err := e.negStep(nil)
	if err != nil {
		return nil, e.fail(fmt.Errorf("sasl: %s initial response: %w", e.mechName, err))
	}
	if e.keys != nil {
		e.initial = bytes.Clone(resp)
	}
	e.step = stepStarted
	return resp, nil
}

// Step answers a decoded server challenge with the raw response (a non-nil,
// possibly empty slice). For SCRAM the first challenge is the
// server-first-message, which is checked against the Policy's iteration
// limit; a second one is the server-final-message, whose signature is
// verified here (then Finish expects no or the same data).
func (e *Exchange) Step(challenge []byte) ([]byte, error) {
	switch {
	case e.err != nil:
		return nil, e.err
	case e.step == stepNew:
		return nil, e.fail(fmt.Errorf("%w: Step called before Start", ErrExchangeState))
	case e.step == stepDone:
		return nil, e.fail(fmt.Errorf("%w: Step called after Finish", ErrExchangeState))
	case !e.scram:
		// ANONYMOUS sent without initial response: the server asks for it
		// with an empty challenge and gets an empty response.
		// Once only: a server that keeps asking gets a failure, not a loop.
		if e.mechName == "ANONYMOUS" && len(challenge) == 0 && !e.anonAsked {
			e.anonAsked = true
			return []byte{}, nil
		}
		return nil, e.fail(fmt.Errorf("%w: unexpected challenge for %s", ErrChallengeRejected, e.mechName))
	case e.step == stepStarted:
		if err := checkServerFirst(challenge, e.maxIter); err != nil {
			return nil, e.fail(err)
		}
		var resp []byte
		var err error
		if e.keys != nil {
			resp, err = e.cachedFinal(challenge)
		} else {
			_, resp, err = e.negStep(challenge)
		}
		if err != nil {
			return nil, e.fail(fmt.Errorf("%w: %s: %w", ErrChallengeRejected, e.mechName, err))
		}
		e.step = stepFinalSent
		return resp, nil
	case e.step == stepFinalSent:
		if err := e.verify(challenge); err != nil {
			return nil, e.fail(err)
		}
		e.step = stepVerified
		return []byte{}, nil
	default:
		return nil, e.fail(fmt.Errorf("%w: unexpected challenge after the server-final-message", ErrChallengeRejected))
	}
}

// Finish checks the additional data of <success/> (decoded; nil or empty
// when there was none). For SCRAM it verifies the server signature, unless
// Step already did, and fails with ErrServerSignature when it is wrong or
// missing. For PLAIN and ANONYMOUS the data is ignored.
func (e *Exchange) Finish(additional []byte) error {
	switch {
	case e.err != nil:
		return e.err
	case e.step == stepNew:
		return e.fail(fmt.Errorf("%w: Finish called before Start", ErrExchangeState))
	case e.step == stepDone:
		return e.fail(fmt.Errorf("%w: Finish called twice", ErrExchangeState))
	case e.ht != nil:
		if err := e.ht.verify(e.mechName, additional); err != nil {
			return e.fail(err)
		}
	case !e.scram:
	case e.step == stepStarted:
		return e.fail(fmt.Errorf("%w: %s success before the client proof was sent", ErrServerSignature, e.mechName))
	case e.step == stepFinalSent:
		if len(additional) == 0 {
			return e.fail(fmt.Errorf("%w: %s success without server-final-message", ErrServerSignature, e.mechName))
		}
		if err := e.verify(additional); err != nil {
			return e.fail(err)
		}
	case e.step == stepVerified:
		if len(additional) != 0 && !bytes.Equal(additional, e.final) {
			return e.fail(fmt.Errorf("%w: %s success data differs from the verified server-final-message", ErrServerSignature, e.mechName))
		}
	}
	e.step = stepDone
	return nil
}

// verify checks a SCRAM server-final-message.
func (e *Exchange) verify(msg []byte) error {
	if v, ok := scramError(msg); ok {
		return fmt.Errorf("%w: %s server error %q", ErrServerSignature, e.mechName, v)
	}
	if len(msg) == 0 {
		return fmt.Errorf("%w: %s empty server-final-message", ErrServerSignature, e.mechName)
	}
	if e.sig != nil {
		want := base64.StdEncoding.AppendEncode([]byte("v="), e.sig)
		if subtle.ConstantTimeCompare(msg, want) != 1 {
			return fmt.Errorf("%w: %s server signature does not match", ErrServerSignature, e.mechName)
		}
	} else if _, _, err := e.negStep(msg); err != nil {
		return fmt.Errorf("%w: %s server signature does not match", ErrServerSignature, e.mechName)
	}
	e.final = bytes.Clone(msg)
	return nil
}

// cachedFinal computes the client-final-message for the server-first-message
// msg from the keys of the cache, which derives them on a miss.
func (e *Exchange) cachedFinal(msg []byte) ([]byte, error) {
	salt, iter, err := saltAndIterations(msg)
	if err != nil {
		return nil, err
	}
	gs2, _, ok := splitGS2(e.initial)
	if !ok {
		return nil, fmt.Errorf("client-first-message has no GS2 header")
	}
	var cbData []byte
	if t := gs2ChannelBinding(gs2); t != "" {
		if cbData, err = channelBindingData(e.tls, t); err != nil {
			return nil, err
		}
	}
	h := scramHash(e.mechName)
	k, err := e.keys.keys(e.mechName, h, e.password.Reveal(), salt, iter)
	if err != nil {
		return nil, err
	}
	defer k.zero()
	final, sig, err := scramFinal(h, k, e.initial, msg, cbData)
	if err != nil {
		return nil, err
	}
	e.sig = sig
	return final, nil
}

// negStep calls the negotiator, turning a panic inside it (it panics, for
// one, when called again after an error) into an error.
func (e *Exchange) negStep(challenge []byte) (more bool, resp []byte, err error) {
	defer func() {
		if recover() != nil {
			more, resp = false, nil
			err = fmt.Errorf("sasl: %s mechanism failed unexpectedly", e.mechName)
		}
	}()
	return e.neg.Step(challenge)
}

// fail records err as the end of the exchange and returns it.
func (e *Exchange) fail(err error) error {
	e.err = err
	return err
}
