package xmppconn

import (
	"context"

	"github.com/xmppconn/xmppconn/transport"
)

// Every wait of a negotiation has a bound of its own, so that a server that
// stops answering in the middle of one costs that bound, not the whole
// attempt (Config.Reconnect.AttemptTimeout, which bounds them all): each
// wait for the server's answer — the stream header, the features, each SASL
// step, the bind result, the resumption — is bounded by Config.Ping.Timeout,
// and the dial (TCP, TLS, the WebSocket upgrade) by twice that. A wait that
// runs out ends the attempt with a *NoAnswerError, which a recovery tries
// again.

// within runs read, one wait for the server, bounded by n.stepTO
// (Config.Ping.Timeout). When the bound ends the wait (and not ctx), the
// error is a *NoAnswerError for step, naming what was awaited.
func within[T any](ctx context.Context, n *negotiator, step, waiting string, read func(context.Context) (T, error)) (T, error) {
	if n.stepTO <= 0 {
		return read(ctx)
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer n.bounds.add(n.stepTO, cancel).remove()
	v, err := read(rctx)
	if err != nil && ctx.Err() == nil && rctx.Err() != nil {
		err = &NoAnswerError{Step: step, Waiting: waiting, Bound: n.stepTO}
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

// open opens (restart false) or restarts the stream, bounded: over
// WebSocket it waits for the server's <open/>, over BOSH for the answer to
// the session request.
func (n *negotiator) open(ctx context.Context, restart bool) (transport.Header, error) {
	n.rec.openStream(restart, true)
	if !restart {
		ctx = n.rec.traceSessionRequest(ctx)
	}
	hdr, err := within(ctx, n, "open", "stream header", func(ctx context.Context) (transport.Header, error) {
		return n.conn.Open(ctx, restart)
	})
	if err == nil {
		n.rec.openStream(restart, false)
	}
	return hdr, err
}
