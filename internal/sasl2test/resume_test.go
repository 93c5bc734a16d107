package sasl2test_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// sendBody sends a chat message with body to to.
func sendBody(ctx context.Context, c *xmppconn.Connection, to jid.JID, body string) error {
	msg := stanza.Message{To: to, Type: stanza.ChatMessage}
	return c.SendElement(ctx, xmlstream.Wrap(xmlstream.Token(xml.CharData(body)), xml.StartElement{Name: xml.Name{Local: "body"}}), msg.StartElement())
}

// waitSM waits until Prosody reports stream management enabled and
// resumable for the session.
func waitSM(t *testing.T, s *servertest.Server, full string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		infos, err := s.SessionDetails(ctx, full)
		if err != nil {
			t.Fatalf("SessionDetails: %v", err)
		}
		if len(infos) == 1 && infos[0].SM && infos[0].Resumable {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("stream management never enabled for %s: %+v", full, infos)
		case <-tick.C:
		}
	}
}

// TestSASL2ResumeInline: a session cut by the network comes back with the
// resumption inside <authenticate/> (no restart, no bind), with the same
// full JID, and no message lost either way. Where the server cannot resume
// inline, the session comes back as comebackOf says, still with the same
// full JID and nothing lost from the client.
func TestSASL2ResumeInline(t *testing.T) { servertest.Each(t, testSASL2ResumeInline) }

func testSASL2ResumeInline(t *testing.T, s *servertest.Server) {
	userA, passA := s.NewUser(t)
	userB, passB := s.NewUser(t)
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			noLeaks(t)
			back := comebackOf(s, ep.transport())
			cfgA, tp := config(t, s, ep.url(s))
			cfgA.Credentials = auth.Credentials{Username: userA, Password: auth.NewSecret(passA)}
			cfgA.Reconnect.Delay = func(int) time.Duration { return 10 * time.Millisecond }
			cfgA.Ping.Timeout = 2 * time.Second // also bounds the wait for the inline <resumed/>
			inA := newInbox()
			cfgA.Handler = inA
			a := xmppconn.New(cfgA)
			defer a.Disconnect(context.Background())
			rec := record(a)

			cfgB, _ := config(t, s, s.WebSocketURL(false))
			cfgB.Credentials = auth.Credentials{Username: userB, Password: auth.NewSecret(passB)}
			inB := newInbox()
			cfgB.Handler = inB
			b := xmppconn.New(cfgB)
			defer b.Disconnect(context.Background())

			ctx := connectCtx(t)
			if err := a.Connect(ctx); err != nil {
				t.Fatalf("Connect A: %v", err)
			}
			if err := b.Connect(ctx); err != nil {
				t.Fatalf("Connect B: %v", err)
			}
			first := a.JID()
			waitSM(t, s, first.String())

			if n, err := s.KillSessions(ctx, first.String(), ""); err != nil || n != 1 {
				t.Fatalf("KillSessions = %d, %v", n, err)
			}
			const n = 5
			for i := range n {
				if err := sendBody(ctx, b, first, fmt.Sprintf("to-a-%d", i)); err != nil {
					t.Fatalf("B send: %v", err)
				}
				if err := sendBody(ctx, a, b.JID(), fmt.Sprintf("to-b-%d", i)); err != nil {
					t.Fatalf("A send: %v", err)
				}
			}
			ev := rec.waitForNth(t, 30*time.Second, "second ConnectionEstablished", 2, func(e events.Event) bool {
				return e.Type() == events.ConnectionEstablished
			})
			est := ev.(events.Established)
			if est.JID != first.String() {
				t.Errorf("back as %s, want the same full JID %s", est.JID, first)
			}
			if est.Resumed != back.resumed {
				t.Errorf("Resumed = %t, want %t", est.Resumed, back.resumed)
			}
			second := tp.wire(1)
			if back.inline {
				if !strings.Contains(second, "<authenticate xmlns='urn:xmpp:sasl:2'") || !strings.Contains(second, "<resume xmlns='urn:xmpp:sm:3' previd=") {
					t.Errorf("the second stream did not resume inline:\n%s", second)
				}
				if strings.Contains(second, "urn:ietf:params:xml:ns:xmpp-bind") {
					t.Errorf("RFC 6120 bind on the second stream:\n%s", second)
				}
			} else if !strings.Contains(second, "<resume xmlns='urn:xmpp:sm:3' previd=") || strings.Contains(second, "urn:xmpp:sasl:2") {
				t.Errorf("the second stream did not resume after RFC 6120 SASL:\n%s", second)
			}
			if streams, restarts := tp.count(); streams != back.streams || restarts != back.restarts {
				t.Errorf("%d streams, %d restarts; want %d and %d", streams, restarts, back.streams, back.restarts)
			}
			if len(rec.failures()) != 0 {
				t.Errorf("ConnectionFailed during the recovery: %v", rec.names())
			}
			// Nothing lost from A: what it sent while down arrives once, in order.
			want := make([]string, n)
			for i := range n {
				want[i] = fmt.Sprintf("to-b-%d", i)
			}
			if got := inB.waitFor(t, "to-b-", n); !slices.Equal(got, want) {
				t.Errorf("B got %q, want %q", got, want)
			}
			if back.resumed {
				// Nothing lost to A: the server kept what came while A was
				// away and sends it on the resumed stream.
				for i := range n {
					want[i] = fmt.Sprintf("to-a-%d", i)
				}
				if got := inA.waitFor(t, "to-a-", n); !slices.Equal(got, want) {
					t.Errorf("A got %q, want %q", got, want)
				}
			}
		})
	}
}
