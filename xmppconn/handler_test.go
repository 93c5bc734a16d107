package xmppconn_test

import (
	"context"
	"encoding/xml"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/ping"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// connectFake connects a Connection with cfg over f and disconnects it at
// cleanup.
func connectFake(t *testing.T, f *xmpptest.FakeConn, cfg xmppconn.Config) *xmppconn.Connection {
	t.Helper()
	c := xmppconn.New(cfg)
	go func() { f.Send(xmpptest.BindResult(f.ServeLogin(t))) }()
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// TestUnhandledIQAnswered: an IQ request nobody handles gets
// service-unavailable (RFC 6120 §8.2.3), with and without a Handler, and an
// IQ the Handler answers gets that answer only.
func TestUnhandledIQAnswered(t *testing.T) {
	answering := xmpp.HandlerFunc(func(rw xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		if start.Name.Local != "iq" || start.Name.Space != stanza.NSClient {
			return nil
		}
		iq, err := stanza.NewIQ(*start)
		if err != nil {
			return err
		}
		if iq.Type != stanza.GetIQ {
			return nil // sets are left unanswered
		}
		type query struct {
			XMLName xml.Name `xml:"jabber:iq:version query"`
			Name    string   `xml:"name"`
		}
		return rw.Encode(struct {
			XMLName xml.Name `xml:"jabber:client iq"`
			ID      string   `xml:"id,attr"`
			To      string   `xml:"to,attr"`
			Type    string   `xml:"type,attr"`
			Query   query
		}{ID: iq.ID, To: iq.From.String(), Type: "result", Query: query{Name: "bot"}})
	})
	for _, tc := range []struct {
		name    string
		handler xmpp.Handler
		typ     string
		want    []string
	}{
		{"no handler, get", nil, "get", []string{"type='error'", "service-unavailable", "to='peer@example.net/x'"}},
		{"no handler, set", nil, "set", []string{"type='error'", "service-unavailable"}},
		{"handler answers", answering, "get", []string{`type="result"`, ">bot</name>", `to="peer@example.net/x"`}},
		{"handler leaves it", answering, "set", []string{"type='error'", "service-unavailable", "to='peer@example.net/x'"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			f := xmpptest.NewFakeConn()
			cfg := f.Config()
			cfg.Handler = tc.handler
			connectFake(t, f, cfg)
			f.Send(`<iq xmlns='jabber:client' type='` + tc.typ + `' id='q1' from='peer@example.net/x'><query xmlns='jabber:iq:version'/></iq>`)
			got := f.Expect(t, "q1")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer %s lacks %s", got, w)
				}
			}
			// Nothing else follows: a ping round trip comes back first.
			f.Send(`<iq xmlns='jabber:client' type='get' id='p2' from='example.net'><ping xmlns='urn:xmpp:ping'/></iq>`)
			if next := f.Expect(t, "p2"); strings.Contains(next, "q1") {
				t.Errorf("a second answer to q1: %s", next)
			}
		})
	}
}

// orderHandler records what it gets: the name, the from attribute as the
// Handler sees it, and the body.
type orderHandler struct {
	mu   sync.Mutex
	got  []string
	grew chan struct{}
}

func (h *orderHandler) HandleXMPP(rw xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	var m struct {
		Body string `xml:"body"`
	}
	d := xml.NewTokenDecoder(xmlstream.MultiReader(xmlstream.Token(start.Copy()), rw))
	if err := d.Decode(&m); err != nil {
		return err
	}
	from := ""
	for _, a := range start.Attr {
		if a.Name.Local == "from" {
			from = a.Value
		}
	}
	h.mu.Lock()
	h.got = append(h.got, start.Name.Local+"|"+from+"|"+m.Body)
	close(h.grew)
	h.grew = make(chan struct{})
	h.mu.Unlock()
	return nil
}

func (h *orderHandler) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		h.mu.Lock()
		got, grew := append([]string(nil), h.got...), h.grew
		h.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-grew:
		case <-deadline:
			t.Fatalf("handler got %d stanzas, want %d: %q", len(got), n, got)
		}
	}
}

// TestHandlerOrderAndSession: stanzas reach the Handler in order, with a
// from equal to the account's bare JID cleared as mellium's Serve does; once
// Session is called, mellium's session takes over the Handler without
// reordering, and its SendIQ gets its answer.
func TestHandlerOrderAndSession(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	h := &orderHandler{grew: make(chan struct{})}
	cfg := f.Config()
	cfg.Handler = h
	c := connectFake(t, f, cfg)
	msg := func(from, body string) string {
		return `<message xmlns='jabber:client' from='` + from + `'><body>` + body + `</body></message>`
	}
	f.Send(msg("anon@example.net", "one"))
	f.Send(msg("peer@example.net/x", "two"))
	h.wait(t, 2)

	s := c.Session()
	if s == nil {
		t.Fatal("Session() = nil on a live connection")
	}
	if again := c.Session(); again != s {
		t.Error("Session() made a second mellium session")
	}
	f.Send(msg("peer@example.net/x", "three"))
	errc := make(chan error, 1)
	go func() { errc <- ping.Send(xmpptest.Context(t), s, c.JID().Domain()) }()
	req := f.Expect(t, "urn:xmpp:ping")
	f.Send(`<iq xmlns='jabber:client' type='result' from='example.net' id='` + xmpptest.ID(t, req) + `'/>`)
	if err := <-errc; err != nil {
		t.Errorf("ping through Session().SendIQ: %v", err)
	}
	f.Send(msg("peer@example.net/x", "four"))
	got := h.wait(t, 4)
	want := []string{"message||one", "message|peer@example.net/x|two", "message|peer@example.net/x|three", "message|peer@example.net/x|four"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("handler (-want +got):\n%s", diff)
	}
	if err := c.Disconnect(context.Background()); err != nil {
		t.Errorf("Disconnect: %v", err)
	}
	if c.Session() != nil {
		t.Error("Session() is not nil after Disconnect")
	}
}

// TestHandlerErrorKeepsSession: an error from the Handler is logged, and
// the session goes on.
func TestHandlerErrorKeepsSession(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	cfg := f.Config()
	calls := make(chan string, 4)
	cfg.Handler = xmpp.HandlerFunc(func(_ xmlstream.TokenReadEncoder, start *xml.StartElement) error {
		calls <- start.Name.Local
		return context.DeadlineExceeded
	})
	c := connectFake(t, f, cfg)
	for range 2 {
		f.Send(`<message xmlns='jabber:client' from='peer@example.net/x'><body>x</body></message>`)
		select {
		case <-calls:
		case <-time.After(10 * time.Second):
			t.Fatal("handler not called")
		}
	}
	if st := c.State(); st.String() != "CONNECTED" {
		t.Errorf("state %s after handler errors, want CONNECTED", st)
	}
}
