package hostile

import (
	"context"
	"encoding/xml"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// A flood is floodBytes of elements of floodElem bytes each (or what
// floodFor lets through): two and a half times heapCeiling, more than
// either ceiling by far, so that a client that keeps what a flood sends
// breaks it, in elements
// large enough (4 KiB) for the flood to run in a few seconds under the race
// detector.
const (
	floodBytes = 5 * heapCeiling / 2
	floodElem  = 4 << 10
	floodCount = floodBytes / floodElem
)

// padding is what fills a flooding element to about floodElem bytes.
var padding = "<x xmlns='urn:hostile:pad'>" + strings.Repeat("p", floodElem-150) + "</x>"

// floodIQ is an IQ get nobody handles: the client owes an error answer.
func floodIQ(i int) string {
	return "<iq xmlns='jabber:client' type='get' id='q" + strconv.Itoa(i) + "' from='bob@" + Domain + "/b'><query xmlns='urn:hostile:unknown'/>" + padding + "</iq>"
}

// floodPing is an XEP-0199 ping: the client owes a result.
func floodPing(i int) string {
	return "<iq xmlns='jabber:client' type='get' id='p" + strconv.Itoa(i) + "' from='" + Domain + "'><ping xmlns='urn:xmpp:ping'/>" + padding + "</iq>"
}

// floodAckRequest is an XEP-0198 <r/>: the client owes an <a/>.
func floodAckRequest(int) string {
	return "<r xmlns='" + NSSM + "'>" + padding + "</r>"
}

// floodMessage is a message of about floodElem bytes.
func floodMessage(i int) string { return Message(i, floodElem-200) }

// TestFloodBeforeBind: stanzas that arrive before the bind result are
// kept within a bound: a server that floods instead of answering the bind
// request fails the attempt, in the step's bound, without the client
// keeping the flood.
func TestFloodBeforeBind(t *testing.T) {
	runAttempts(t, []attempt{{
		name: "a flood instead of the bind result",
		script: func(ctx context.Context, p Peer) {
			id, err := LoginToBind(ctx, p, false)
			if err != nil {
				return
			}
			for i := range floodCount {
				if p.Send(ctx, floodMessage(i)) != nil {
					return
				}
			}
			_ = p.Send(ctx, BindResult(id))
			<-ctx.Done()
		},
		bound: stepBound,
	}})
}

// handlerFunc adapts a function to xmpp.Handler.
type handlerFunc func(t xmlstream.TokenReadEncoder, start *xml.StartElement) error

func (f handlerFunc) HandleXMPP(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	return f(t, start)
}

var _ xmpp.Handler = handlerFunc(nil)

// gate is a Handler that holds every stanza until opened, then records the
// message ids in order.
type gate struct {
	open    chan struct{}
	once    sync.Once
	entered chan struct{} // closed at the first stanza the Handler gets
	enter   sync.Once
	mu      sync.Mutex
	ids     []int
}

func newGate() *gate { return &gate{open: make(chan struct{}), entered: make(chan struct{})} }

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

func (g *gate) handler() xmpp.Handler {
	return handlerFunc(func(_ xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		g.enter.Do(func() { close(g.entered) })
		<-g.open
		for _, a := range start.Attr {
			if a.Name.Local == "id" && strings.HasPrefix(a.Value, "m") {
				if n, err := strconv.Atoi(a.Value[1:]); err == nil {
					g.mu.Lock()
					g.ids = append(g.ids, n)
					g.mu.Unlock()
				}
			}
		}
		return nil
	})
}

func (g *gate) got() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]int(nil), g.ids...)
}

// TestFloods: a server that floods a live session (stanzas the client owes
// answers to while it reads nothing of them, messages for a Handler that
// is stuck) cannot grow the client's memory past heapCeiling: the client
// stops reading (the server is slowed down to its pace) or ends the
// session with a typed error. A Handler that was only slow loses nothing:
// once it goes on it gets every message, in order.
func TestFloods(t *testing.T) {
	// A BOSH server reads every request to answer it: there "reads
	// nothing" means it drops what it reads, and only the IQ flood is run.
	cases := []struct {
		name    string
		over    []kind
		sm      bool
		elem    func(int) string
		handler bool // a stuck Handler
	}{
		{name: "IQ flood, the server reads nothing", over: bothTransports, elem: floodIQ},
		{name: "ping flood, the server reads nothing", over: []kind{overWebSocket}, elem: floodPing},
		{name: "ack request flood, the server reads nothing", over: []kind{overWebSocket}, sm: true, elem: floodAckRequest},
		{name: "message flood, the Handler stuck", over: bothTransports, elem: floodMessage, handler: true},
	}
	for _, c := range cases {
		for _, k := range c.over {
			t.Run(c.name+"/"+string(k), func(t *testing.T) {
				var pr progress
				g := newGate()
				defer g.release()
				lc := liveCase{sm: c.sm, then: flood(floodCount, c.elem, &pr)}
				if c.handler {
					lc.tweak = func(cfg *xmppconn.Config) { cfg.Handler = g.handler() }
				}
				s := startSession(t, k, lc)
				sent := pr.settle(floodCount, 1500*time.Millisecond, 20*time.Second)
				s.heap.sample()
				st := s.State()
				t.Logf("%d of %d elements taken; state %v", sent, floodCount, st)
				switch st {
				case events.StateConnected:
					// Backpressure: the session lives on.
				case events.StateFailed:
					if f := s.rec.failures(); len(f) != 1 || f[0].Reason == "" {
						t.Errorf("the session ended with %d ConnectionFailed (%+v), want 1 with a reason", len(f), f)
					}
				default:
					t.Errorf("state %v under a flood: %s", st, names(s.rec.all()))
				}
				if c.handler && st == events.StateConnected {
					// Let the Handler go: it gets every message the server
					// got through, in order.
					g.release()
					deadline := time.Now().Add(30 * time.Second)
					for (!pr.done.Load() || len(g.got()) < int(pr.n.Load())) && time.Now().Before(deadline) && s.State() == events.StateConnected {
						time.Sleep(20 * time.Millisecond)
					}
					checkInOrder(t, g.got(), int(pr.n.Load()))
				}
				g.release()
				s.finish(2 * time.Second)
			})
		}
	}
}

// checkInOrder checks that ids are 0 .. n-1 in order.
func checkInOrder(t *testing.T, ids []int, n int) {
	t.Helper()
	if len(ids) != n {
		t.Errorf("the Handler got %d messages, want %d", len(ids), n)
	}
	for i, id := range ids {
		if id != i {
			t.Errorf("message %d is m%d: lost or out of order", i, id)
			return
		}
	}
}
