package main

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"

	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/transport/websocket"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// smCounts counts the XEP-0198 requests and answers of one session, both
// ways, and the client's XEP-0199 pings: what stream management and
// liveness cost the server in elements.
type smCounts struct {
	rOut, aOut, rIn, aIn, pings atomic.Int64
}

func (c *smCounts) String() string {
	return fmt.Sprintf("sent <r/> %d <a/> %d, received <r/> %d <a/> %d; pings sent %d",
		c.rOut.Load(), c.aOut.Load(), c.rIn.Load(), c.aIn.Load(), c.pings.Load())
}

// countSM makes cfg dial WebSocket through a transport that counts the
// stream management elements into n.
func countSM(cfg *xmppconn.Config, n *smCounts) {
	cfg.Dial = func(ctx context.Context, url, domain string) (transport.Conn, error) {
		wc, err := websocket.Dial(ctx, url, domain, nil)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: wc, n: n}, nil
	}
}

// countingConn is a WebSocket transport that counts <r/> and <a/>.
type countingConn struct {
	*websocket.Conn
	n *smCounts
}

func (c *countingConn) ReadElement(ctx context.Context) ([]byte, error) {
	elem, err := c.Conn.ReadElement(ctx)
	if err == nil {
		count(elem, &c.n.rIn, &c.n.aIn)
	}
	return elem, err
}

func (c *countingConn) WriteElement(ctx context.Context, elem []byte) error {
	count(elem, &c.n.rOut, &c.n.aOut)
	if bytes.HasPrefix(elem, []byte("<iq ")) && bytes.Contains(elem, []byte("urn:xmpp:ping")) {
		c.n.pings.Add(1)
	}
	return c.Conn.WriteElement(ctx, elem)
}

func count(elem []byte, r, a *atomic.Int64) {
	switch {
	case bytes.HasPrefix(elem, []byte("<r ")) || bytes.HasPrefix(elem, []byte("<r/")):
		r.Add(1)
	case bytes.HasPrefix(elem, []byte("<a ")):
		a.Add(1)
	}
}
