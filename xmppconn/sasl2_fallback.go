package xmppconn

import (
	"context"
	"errors"
)

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
