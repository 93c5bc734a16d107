package xmppconn_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// Server elements of XEP-0198 and XEP-0199 used by the recovery tests.
const (
	featuresBindSM = `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>`
	smEnabled      = `<enabled xmlns='urn:xmpp:sm:3' id='sm1' resume='true'/>`
	smFailed       = `<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`
	smR            = `<r xmlns='urn:xmpp:sm:3'/>`
)

// errRefused is a retryable dial error: the server is not reachable yet.
var errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

// dialer hands out the fake transports of conns in order, one per dial; a
// nil entry, and every dial after the last, fails with err.
type dialer struct {
	mu    sync.Mutex
	conns []*xmpptest.FakeConn
	err   error
	calls int
	// gate, when set, holds every dial after the first until it is closed
	// (or the attempt ends): recovery waits in RECONNECTING meanwhile.
	gate chan struct{}
}

func (d *dialer) dial(ctx context.Context, _, _ string) (transport.Conn, error) {
	d.mu.Lock()
	gate := d.gate
	if d.calls == 0 {
		gate = nil
	}
	d.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	if d.calls <= len(d.conns) && d.conns[d.calls-1] != nil {
		return d.conns[d.calls-1], nil
	}
	return nil, d.err
}

func (d *dialer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

// recoverConfig is a Config that dials d, without pings, recovering at once.
func recoverConfig(d *dialer) xmppconn.Config {
	cfg := xmppconn.Config{URL: "wss://example.net/xmpp-websocket"}
	cfg.Dial = d.dial
	cfg.Ping.Disabled = true
	cfg.Reconnect.Delay = func(int) time.Duration { return 0 }
	cfg.Reconnect.Attempts = 3
	return cfg
}

// serveLoginFeatures plays a server up to the bind request, offering
// features after the restart, and returns the bind request.
func serveLoginFeatures(t *testing.T, f *xmpptest.FakeConn, features string) string {
	t.Helper()
	serveAuth(t, f)
	f.Send(features)
	return f.Expect(t, "urn:ietf:params:xml:ns:xmpp-bind")
}

// serveAuth plays a server through SASL ANONYMOUS and the stream restart.
func serveAuth(t *testing.T, f *xmpptest.FakeConn) {
	t.Helper()
	<-f.Opens
	f.Send(xmpptest.FeaturesAnon)
	f.Expect(t, "mechanism='ANONYMOUS'")
	f.Send(xmpptest.SASLSuccess)
	if restart := <-f.Opens; !restart {
		t.Error("second Open was not a restart")
	}
}

// serveSMLogin plays a server that offers stream management: login, bind,
// the client's <enable/>, and <enabled id='sm1' resume='true'/>.
func serveSMLogin(t *testing.T, f *xmpptest.FakeConn) {
	t.Helper()
	f.Send(xmpptest.BindResult(xmpptest.ID(t, serveLoginFeatures(t, f, featuresBindSM))))
	f.Expect(t, "<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
	f.Send(smEnabled)
}

// pingSync sends a server ping and returns what the client sent before its
// answer. The read loop handles elements in order, so everything the server
// sent before the ping has been handled once the answer comes.
func pingSync(t *testing.T, f *xmpptest.FakeConn, id string) []string {
	t.Helper()
	f.Send(`<iq xmlns='jabber:client' type='get' id='` + id + `' from='example.net'><ping xmlns='urn:xmpp:ping'/></iq>`)
	var before []string
	for {
		e := f.Next(t)
		if strings.Contains(e, "type='result'") && strings.Contains(e, "id='"+id+"'") {
			return before
		}
		before = append(before, e)
	}
}

// sendBodies sends one chat message per body.
func sendBodies(t *testing.T, c *xmppconn.Connection, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if err := xmpptest.SendBody(xmpptest.Context(t), c, c.JID().Bare(), b); err != nil {
			t.Fatalf("Send(%q): %v", b, err)
		}
	}
}

// expectBody waits for the client's next element and checks it is the
// message with body.
func expectBody(t *testing.T, f *xmpptest.FakeConn, body string) string {
	t.Helper()
	e := f.Next(t)
	if !strings.HasPrefix(e, "<message") || !strings.Contains(e, "<body>"+body+"</body>") {
		t.Errorf("client sent %s, want the message %q", e, body)
	}
	return e
}

// isState matches the StateChanged event into s.
func isState(s events.State) func(events.Event) bool {
	return func(e events.Event) bool {
		sc, ok := e.(events.StateChange)
		return ok && sc.State == s
	}
}

func isType(typ events.Type) func(events.Event) bool {
	return func(e events.Event) bool { return e.Type() == typ }
}

// server runs a scripted server side and lets the test wait for its end.
func server(t *testing.T, script func()) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		script()
	}()
	return func() {
		t.Helper()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("server script did not finish")
		}
	}
}
