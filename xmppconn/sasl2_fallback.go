package xmppconn

import (
	"context"
	"errors"
	"time"
)

// ErrSASL2NoAnswer matches (with errors.Is) a *NoAnswerError of the SASL2
// exchange: the server took <authenticate/> (or a <response/>) and sent
// nothing back within the bound. Servers whose SASL2 modules fail inside
// their handlers do this (Prosody 0.12 with the prosody-modules snapshot of
// mod_sasl2_sm, for instance). The Connection then marks SASL2 as broken on
// the server and negotiates again at once with RFC 6120 SASL on a fresh
// transport, within the same attempt: the caller only sees this error when
// the fallback cannot run (SASL2 was the only SASL offered).
var ErrSASL2NoAnswer = errors.New("xmppconn: sasl2: no answer from the server")

// NoAnswerError reports that the server left a negotiation step without
// the answer the client waits for, within the bound (Config.Ping.Timeout).
// It ends the attempt instead of leaving it hanging until the caller's
// context or Reconnect.AttemptTimeout ends it. A timeout is transient: a
// lost session whose recovery attempt ends with it is tried again.
type NoAnswerError struct {
	Step    string        // "features" or "sasl2"
	Waiting string        // what the client waited for, e.g. "<stream:features/>"
	Bound   time.Duration // how long it waited

	noSASL1 bool // the server offered no RFC 6120 SASL to fall back to
}

func (e *NoAnswerError) Error() string {
	return "xmppconn: " + e.Step + ": no " + e.Waiting + " from the server within " + e.Bound.String()
}

// Is makes errors.Is(err, ErrSASL2NoAnswer) true for the SASL2 steps.
func (e *NoAnswerError) Is(target error) bool {
	return target == ErrSASL2NoAnswer && e.Step == "sasl2"
}

// within runs read, a wait for the server's next element, bounded by
// n.resumeTO (Config.Ping.Timeout). When the bound ends the wait (and not
// ctx), the error is a *NoAnswerError for step, naming what was awaited.
func within[T any](ctx context.Context, n *negotiator, step, waiting string, read func(context.Context) (T, error)) (T, error) {
	if n.resumeTO <= 0 {
		return read(ctx)
	}
	rctx, cancel := context.WithTimeout(ctx, n.resumeTO)
	defer cancel()
	v, err := read(rctx)
	if err != nil && ctx.Err() == nil && rctx.Err() != nil {
		err = &NoAnswerError{Step: step, Waiting: waiting, Bound: n.resumeTO}
	}
	return v, err
}

// featuresWithin reads the <stream:features/> of a stream just opened, with
// the bound of within: a server that opens the stream and never sends its
// features (Prosody 0.12 with mod_sasl2 over TLS, whose features hook fails)
// gives a *NoAnswerError rather than a hang.
func (n *negotiator) featuresWithin(ctx context.Context) (features, error) {
	return within(ctx, n, "features", "<stream:features/>", n.readFeatures)
}

// sasl2Fallback reports whether err is SASL2 left unanswered by a server
// that also offers RFC 6120 SASL.
func sasl2Fallback(err error) bool {
	var na *NoAnswerError
	return errors.As(err, &na) && na.Step == "sasl2" && !na.noSASL1
}

// withoutSASL2 returns a copy of cfg with SASL2 turned off.
func withoutSASL2(cfg *Config) *Config {
	off := *cfg
	off.SASL2.Disabled = true
	return &off
}
