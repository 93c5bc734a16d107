package hostile

import (
	"context"
	"errors"
	"net/url"
)

// Peer is the server's end of one XMPP stream, over whichever transport
// carries it: a Script plays the server through it, so that one hostile
// behaviour runs over WebSocket and over BOSH alike.
type Peer interface {
	// Accept waits until the client opens the stream, or restarts it after
	// SASL (restart is then true), and answers with the stream header.
	Accept(ctx context.Context) (restart bool, err error)
	// Send sends one complete top-level element.
	Send(ctx context.Context, elem string) error
	// Recv returns the next top-level element the client sent, or
	// ErrClientClosed once the client closed the stream.
	Recv(ctx context.Context) (string, error)
	// Query returns the query of the URL the client connected to (where a
	// Jitsi deployment reads ?token=).
	Query() url.Values
}

// Script plays the server on one stream: one WebSocket connection, or one
// BOSH session. ctx ends when the server shuts down. The stream ends when
// the script returns (the WebSocket is cut; the BOSH session is
// terminated).
type Script func(ctx context.Context, p Peer)

// ErrClientClosed is returned by Peer.Recv once the client closed the
// stream (a WebSocket <close/>, a BOSH terminate) or its connection.
var ErrClientClosed = errors.New("hostile: client closed the stream")
