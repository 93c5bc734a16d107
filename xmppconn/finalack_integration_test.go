package xmppconn_test

import (
	"context"
	"encoding/xml"
	"sync"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// errorInbox is a Handler that keeps the error messages it gets and counts
// the chat messages.
type errorInbox struct {
	mu     sync.Mutex
	errors []string
	chats  int
	got    chan struct{}
	marker chan struct{} // gets the answer to the IQ with id "marker"
}

func (h *errorInbox) HandleXMPP(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if start.Name.Local == "iq" {
		for _, a := range start.Attr {
			if a.Name.Local == "id" && a.Value == "marker" && h.marker != nil {
				close(h.marker)
			}
		}
		return nil
	}
	if start.Name.Local != "message" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range start.Attr {
		if a.Name.Local == "type" && a.Value == "error" {
			h.errors = append(h.errors, a.Value)
			return nil
		}
	}
	h.chats++
	select {
	case h.got <- struct{}{}:
	default:
	}
	return nil
}

// TestIntegrationFinalAck: a client with stream management acknowledges
// what it handled before it closes. Without the final <a/> the server would
// take the messages for lost at the close and bounce them to their sender
// (chat messages it may instead drop or store offline without a word, so the
// test sends headlines), or deliver them again at the next login.
//
// Prosody is set to ask for acks only after 100 unacknowledged stanzas, so
// that none of the three is acknowledged before the close. ejabberd 23.01 has
// no such setting (mod_stream_mgmt asks after every stanza it sends): the
// test runs there as configured, where the last <r/> may still be unanswered
// at the close.
func TestIntegrationFinalAck(t *testing.T) { servertest.EachKind(t, "", testFinalAck) }

func testFinalAck(t *testing.T, k servertest.Kind) {
	var s *servertest.Server
	if k.IsProsody() {
		s = servertest.StartTest(t, k, &servertest.Options{Prosody: servertest.ProsodyOptions{
			ExtraGlobal: "smacks_max_unacked_stanzas = 100\nsmacks_max_ack_delay = 600",
		}})
	} else {
		s = servertest.Require(t, k)
	}
	ua, pa := s.NewUser(t)
	ub, pb := s.NewUser(t)
	for _, ep := range servertest.Endpoints {
		t.Run(ep.Name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			inboxA := &errorInbox{got: make(chan struct{}, 1), marker: make(chan struct{})}
			inboxB := &errorInbox{got: make(chan struct{}, 1)}
			cfgA, cfgB := xmpptest.ServerConfig(t, s, ep.URL(s)), xmpptest.ServerConfig(t, s, ep.URL(s))
			cfgA.Credentials = xmpptest.Login(ua, pa)
			cfgB.Credentials = xmpptest.Login(ub, pb)
			cfgA.Handler, cfgB.Handler = inboxA, inboxB
			a, b := xmppconn.New(cfgA), xmppconn.New(cfgB)
			for _, c := range []*xmppconn.Connection{a, b} {
				if err := c.Connect(xmpptest.Context(t)); err != nil {
					t.Fatalf("Connect: %v", err)
				}
				defer c.Disconnect(context.Background())
			}
			// Headlines: a server bounces a headline it takes for lost, where
			// it may drop or store a chat message silently.
			const n = 3
			for range n {
				headline := stanza.Message{To: b.JID(), Type: stanza.HeadlineMessage}.Wrap(
					xmlstream.Wrap(xmlstream.Token(xml.CharData("news")), xml.StartElement{Name: xml.Name{Local: "body"}}))
				if err := a.Send(xmpptest.Context(t), headline); err != nil {
					t.Fatal(err)
				}
			}
			deadline := time.After(10 * time.Second)
			for {
				inboxB.mu.Lock()
				got := inboxB.chats
				inboxB.mu.Unlock()
				if got == n {
					break
				}
				select {
				case <-inboxB.got:
				case <-deadline:
					t.Fatalf("B got %d of %d messages", got, n)
				}
			}
			if err := b.Disconnect(xmpptest.Context(t)); err != nil {
				t.Fatalf("B Disconnect: %v", err)
			}
			// A bounce would reach A's Handler before the answer to this
			// ping: the server handled B's close before answering it, and the
			// Handler gets stanzas in order.
			ping := stanza.IQ{ID: "marker", Type: stanza.GetIQ, To: jid.MustParse(s.Domain)}
			if _, err := a.SendIQ(xmpptest.Context(t), ping, xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: "urn:xmpp:ping", Local: "ping"}})); err != nil {
				t.Fatalf("ping: %v", err)
			}
			select {
			case <-inboxA.marker:
			case <-time.After(10 * time.Second):
				t.Fatal("A's Handler never got the ping's answer")
			}
			inboxA.mu.Lock()
			bounces := append([]string(nil), inboxA.errors...)
			inboxA.mu.Unlock()
			if len(bounces) != 0 {
				t.Errorf("A got %d bounces after B closed: %v", len(bounces), bounces)
			}
			// B logs in again and announces itself: messages the server took
			// for lost come back now, before the answer to the marker.
			inboxB2 := &errorInbox{got: make(chan struct{}, 1), marker: make(chan struct{})}
			cfgB.Handler = inboxB2
			b2 := xmppconn.New(cfgB)
			if err := b2.Connect(xmpptest.Context(t)); err != nil {
				t.Fatalf("B again: %v", err)
			}
			defer b2.Disconnect(context.Background())
			if err := b2.Send(xmpptest.Context(t), stanza.Presence{}.Wrap(nil)); err != nil {
				t.Fatal(err)
			}
			ping.To = jid.MustParse(s.Domain)
			if _, err := b2.SendIQ(xmpptest.Context(t), ping, xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: "urn:xmpp:ping", Local: "ping"}})); err != nil {
				t.Fatalf("ping: %v", err)
			}
			select {
			case <-inboxB2.marker:
			case <-time.After(10 * time.Second):
				t.Fatal("B's Handler never got the ping's answer")
			}
			inboxB2.mu.Lock()
			again := inboxB2.chats
			inboxB2.mu.Unlock()
			if again != 0 {
				t.Errorf("B got %d of the messages again at the next login: the server took them for unacknowledged", again)
			}
		})
	}
}
