package xmpptest

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

// FakeConn is an in-memory transport.Conn whose server side a test
// scripts: what the test puts on ToClient the client reads, what the client
// writes arrives on FromClient, each Open sends its restart flag on Opens.
type FakeConn struct {
	ToClient   chan []byte   // server elements; close it to end the stream
	FromClient chan []byte   // client elements, copied
	Opens      chan bool     // the restart flag of each Open
	Closed     chan struct{} // closed by Close
	// ReadErr is what ReadElement returns once ToClient is closed;
	// nil means transport.ErrStreamClosed.
	ReadErr error
	once    sync.Once
}

var _ transport.Conn = (*FakeConn)(nil)

// NewFakeConn returns a FakeConn with room for 64 server elements and 4096
// client elements.
func NewFakeConn() *FakeConn {
	return &FakeConn{
		ToClient:   make(chan []byte, 64),
		FromClient: make(chan []byte, 4096),
		Opens:      make(chan bool, 8),
		Closed:     make(chan struct{}),
	}
}

// Open implements transport.Conn.
func (f *FakeConn) Open(ctx context.Context, restart bool) (transport.Header, error) {
	select {
	case f.Opens <- restart:
	case <-f.Closed:
		return transport.Header{}, transport.ErrClosed
	}
	return transport.Header{ID: "s1", From: "example.net", Version: "1.0"}, nil
}

// ReadElement implements transport.Conn.
func (f *FakeConn) ReadElement(ctx context.Context) ([]byte, error) {
	select {
	case e, ok := <-f.ToClient:
		if !ok {
			if f.ReadErr != nil {
				return nil, f.ReadErr
			}
			return nil, transport.ErrStreamClosed
		}
		return e, nil
	case <-f.Closed:
		return nil, transport.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// WriteElement implements transport.Conn.
func (f *FakeConn) WriteElement(ctx context.Context, elem []byte) error {
	select {
	case <-f.Closed:
		return transport.ErrClosed
	default:
	}
	select {
	case f.FromClient <- append([]byte(nil), elem...):
		return nil
	case <-f.Closed:
		return transport.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close implements transport.Conn.
func (f *FakeConn) Close(ctx context.Context) error {
	f.once.Do(func() { close(f.Closed) })
	return nil
}

// Abort implements transport.Conn: for the fake, the same as Close.
func (f *FakeConn) Abort() { _ = f.Close(context.Background()) }

// ConnectionState implements transport.Conn: no TLS.
func (f *FakeConn) ConnectionState() (tls.ConnectionState, bool) { return tls.ConnectionState{}, false }

// Status implements transport.Conn: nothing seen.
func (f *FakeConn) Status() transport.Status { return transport.Status{} }

// Send queues a server element.
func (f *FakeConn) Send(s string) { f.ToClient <- []byte(s) }

// Expect waits for the next client element and checks that it contains
// want; it returns the element.
func (f *FakeConn) Expect(t testing.TB, want string) string {
	t.Helper()
	select {
	case e := <-f.FromClient:
		if !strings.Contains(string(e), want) {
			t.Errorf("client sent %s, want something with %q", e, want)
		}
		return string(e)
	case <-time.After(10 * time.Second):
		t.Fatalf("client sent nothing, want %q", want)
		return ""
	}
}

// Next returns the next element the client sends, or fails the test after
// 10 s.
func (f *FakeConn) Next(t testing.TB) string {
	t.Helper()
	select {
	case e := <-f.FromClient:
		return string(e)
	case <-time.After(10 * time.Second):
		t.Fatal("client sent nothing")
		return ""
	}
}

// Server elements of a login.
const (
	FeaturesAnon = `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>ANONYMOUS</mechanism></mechanisms></stream:features>`
	FeaturesBind = `<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`
	SASLSuccess  = `<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`
)

// IDAttr matches an id attribute; the first group is its value.
var IDAttr = regexp.MustCompile(`id=["']([^"']+)["']`)

// ID returns the id attribute of a client element.
func ID(t testing.TB, elem string) string {
	t.Helper()
	m := IDAttr.FindStringSubmatch(elem)
	if m == nil {
		t.Fatalf("no id in %s", elem)
	}
	return m[1]
}

// ServeLogin plays a server up to (not including) the bind result: SASL
// ANONYMOUS, the restart, the bind request. It returns the bind request's
// id.
func (f *FakeConn) ServeLogin(t testing.TB) string {
	t.Helper()
	<-f.Opens
	f.Send(FeaturesAnon)
	f.Expect(t, "mechanism='ANONYMOUS'")
	f.Send(SASLSuccess)
	if restart := <-f.Opens; !restart {
		t.Error("second Open was not a restart")
	}
	f.Send(FeaturesBind)
	return ID(t, f.Expect(t, "urn:ietf:params:xml:ns:xmpp-bind"))
}

// BindResult is the answer to the bind request id: anon@example.net/r1.
func BindResult(id string) string {
	return `<iq xmlns='jabber:client' type='result' id='` + id + `'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>anon@example.net/r1</jid></bind></iq>`
}

// Config returns a Config that dials f.
func (f *FakeConn) Config() xmppconn.Config {
	return xmppconn.Config{
		URL: "wss://example.net/xmpp-websocket",
		Dial: func(context.Context, string, string) (transport.Conn, error) {
			return f, nil
		},
	}
}
