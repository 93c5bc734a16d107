package xmppconn_test

import (
	"context"
	"crypto/tls"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// fakeConn is an in-memory transport.Conn whose server side a test scripts.
type fakeConn struct {
	toClient   chan []byte
	fromClient chan []byte
	opens      chan bool // the restart flag of each Open
	closed     chan struct{}
	once       sync.Once
	readErr    error // returned by ReadElement once toClient is closed
}

func newFakeConn() *fakeConn {
	return &fakeConn{
		toClient:   make(chan []byte, 64),
		fromClient: make(chan []byte, 4096),
		opens:      make(chan bool, 8),
		closed:     make(chan struct{}),
	}
}

func (f *fakeConn) Open(ctx context.Context, restart bool) (transport.Header, error) {
	select {
	case f.opens <- restart:
	case <-f.closed:
		return transport.Header{}, transport.ErrClosed
	}
	return transport.Header{ID: "s1", From: "example.net", Version: "1.0"}, nil
}

func (f *fakeConn) ReadElement(ctx context.Context) ([]byte, error) {
	select {
	case e, ok := <-f.toClient:
		if !ok {
			if f.readErr != nil {
				return nil, f.readErr
			}
			return nil, transport.ErrStreamClosed
		}
		return e, nil
	case <-f.closed:
		return nil, transport.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *fakeConn) WriteElement(ctx context.Context, elem []byte) error {
	select {
	case <-f.closed:
		return transport.ErrClosed
	default:
	}
	select {
	case f.fromClient <- append([]byte(nil), elem...):
		return nil
	case <-f.closed:
		return transport.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeConn) Close(ctx context.Context) error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

func (f *fakeConn) ConnectionState() (tls.ConnectionState, bool) { return tls.ConnectionState{}, false }
func (f *fakeConn) Status() transport.Status                     { return transport.Status{} }

// send queues a server element.
func (f *fakeConn) send(s string) { f.toClient <- []byte(s) }

// expect waits for the next client element and checks it contains want.
func (f *fakeConn) expect(t *testing.T, want string) string {
	t.Helper()
	select {
	case e := <-f.fromClient:
		if !strings.Contains(string(e), want) {
			t.Errorf("client sent %s, want something with %q", e, want)
		}
		return string(e)
	case <-time.After(10 * time.Second):
		t.Fatalf("client sent nothing, want %q", want)
		return ""
	}
}

const (
	featuresAnon = `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>ANONYMOUS</mechanism></mechanisms></stream:features>`
	featuresBind = `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`
	saslSuccess  = `<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`
)

var idAttr = regexp.MustCompile(`id=["']([^"']+)["']`)

// bindID extracts the id of the client's bind request.
func bindID(t *testing.T, elem string) string {
	t.Helper()
	m := idAttr.FindStringSubmatch(elem)
	if m == nil {
		t.Fatalf("no id in %s", elem)
	}
	return m[1]
}

// serveLogin plays a server up to (not including) the bind result and
// returns the bind request's id.
func serveLogin(t *testing.T, f *fakeConn) string {
	t.Helper()
	<-f.opens
	f.send(featuresAnon)
	f.expect(t, "mechanism='ANONYMOUS'")
	f.send(saslSuccess)
	if restart := <-f.opens; !restart {
		t.Error("second Open was not a restart")
	}
	f.send(featuresBind)
	return bindID(t, f.expect(t, "urn:ietf:params:xml:ns:xmpp-bind"))
}

func bindResult(id string) string {
	return `<iq xmlns='jabber:client' type='result' id='` + id + `'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>anon@example.net/r1</jid></bind></iq>`
}

// fakeConfig returns a Config that dials f.
func fakeConfig(f *fakeConn) xmppconn.Config {
	return xmppconn.Config{
		URL:   "wss://example.net/xmpp-websocket",
		Jitsi: xmppconn.JitsiConfig{NoPropertiesQuery: true},
		Dial: func(context.Context, string, string) (transport.Conn, error) {
			return f, nil
		},
	}
}
