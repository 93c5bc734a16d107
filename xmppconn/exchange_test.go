package xmppconn_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

func fmtEvent(e events.Event) string {
	b, _ := json.Marshal(e)
	return fmt.Sprintf("%+v %#v %s", e, e, b)
}

// inbox collects the bodies of the messages a connection receives.
type inbox struct {
	mu       sync.Mutex
	bodies   []string
	want     int
	done     chan struct{} // closed once want different messages are in
	once     sync.Once
	distinct map[string]bool // the bodies in, each once
	grew     chan struct{}   // closed and replaced at every message
}

func newInbox(want int) *inbox {
	return &inbox{want: want, done: make(chan struct{}), grew: make(chan struct{})}
}

// waitCount waits until n messages are in.
func (in *inbox) waitCount(ctx context.Context, n int) error {
	for {
		in.mu.Lock()
		got, grew := len(in.bodies), in.grew
		in.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-grew:
		case <-ctx.Done():
			return fmt.Errorf("%d messages in, want %d: %w", got, n, ctx.Err())
		}
	}
}

func (in *inbox) HandleXMPP(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if start.Name.Local != "message" {
		return nil
	}
	var msg struct {
		Body string `xml:"body"`
	}
	// The handler's reader yields the element's children and its end tag.
	d := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(start.Copy()), t))
	if err := d.Decode(&msg); err != nil {
		return err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.bodies = append(in.bodies, msg.Body)
	if in.distinct == nil {
		in.distinct = map[string]bool{}
	}
	in.distinct[msg.Body] = true
	close(in.grew)
	in.grew = make(chan struct{})
	if len(in.distinct) >= in.want {
		// More may come after (a duplicate): the test that counts them
		// says so, it does not panic here.
		in.once.Do(func() { close(in.done) })
	}
	return nil
}

var _ xmpp.Handler = (*inbox)(nil)

// TestIntegrationExchange has two clients send each other messages through
// the server at the same time: all arrive, in order, none twice.
func TestIntegrationExchange(t *testing.T) { servertest.Each(t, testExchange) }

func testExchange(t *testing.T, s *servertest.Server) {
	const n = 1000
	ua, pa := s.NewUser(t)
	ub, pb := s.NewUser(t)
	for _, ep := range servertest.Endpoints {
		t.Run(ep.Name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			inA, inB := newInbox(n), newInbox(n)
			mk := func(user, pass string, h xmpp.Handler) *xmppconn.Connection {
				cfg := xmpptest.ServerConfig(t, s, ep.URL(s))
				cfg.Credentials = xmpptest.Login(user, pass)
				cfg.Handler = h
				c := xmppconn.New(cfg)
				if err := c.Connect(xmpptest.Context(t)); err != nil {
					t.Fatalf("Connect %s: %v", user, err)
				}
				return c
			}
			a, b := mk(ua, pa, inA), mk(ub, pb, inB)
			defer a.Disconnect(context.Background())
			defer b.Disconnect(context.Background())

			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			errs := make(chan error, 2)
			send := func(from *xmppconn.Connection, to jid.JID, prefix string) {
				defer wg.Done()
				for i := 0; i < n; i++ {
					if err := xmpptest.SendBody(ctx, from, to, prefix+strconv.Itoa(i)); err != nil {
						errs <- err
						return
					}
				}
			}
			wg.Add(2)
			go send(a, b.JID(), "a")
			go send(b, a.JID(), "b")
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("send: %v", err)
			}
			for _, in := range []*inbox{inA, inB} {
				select {
				case <-in.done:
				case <-ctx.Done():
					in.mu.Lock()
					got := len(in.bodies)
					in.mu.Unlock()
					t.Fatalf("only %d of %d messages arrived", got, n)
				}
			}
			check := func(in *inbox, prefix string) {
				in.mu.Lock()
				defer in.mu.Unlock()
				for i, body := range in.bodies {
					if want := prefix + strconv.Itoa(i); body != want {
						t.Fatalf("message %d = %q, want %q (order or duplicate)", i, body, want)
					}
				}
			}
			check(inB, "a")
			check(inA, "b")
		})
	}
}
