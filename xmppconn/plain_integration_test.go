package xmppconn_test

import (
	"context"
	"encoding/xml"
	"strings"
	"sync"
	"testing"

	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/transport/websocket"
	"github.com/xmppconn/xmppconn/xmppconn"
	"github.com/xmppconn/xmppconn/xmppconn/jitsi"
	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// wireTap is a WebSocket transport that keeps what the client writes.
type wireTap struct {
	transport.Conn
	mu      sync.Mutex
	written []string
}

func (w *wireTap) WriteElement(ctx context.Context, elem []byte) error {
	w.mu.Lock()
	w.written = append(w.written, string(elem))
	w.mu.Unlock()
	return w.Conn.WriteElement(ctx, elem)
}

// after returns what was written after the first element holding substr.
func (w *wireTap) after(substr string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, e := range w.written {
		if strings.Contains(e, substr) {
			return append([]string(nil), w.written[i+1:]...)
		}
	}
	return nil
}

const nsDiscoInfo = "http://jabber.org/protocol/disco#info"

func (w *wireTap) count(substr string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, e := range w.written {
		if strings.Contains(e, substr) {
			n++
		}
	}
	return n
}

// TestIntegrationPlainSendsNoJitsiQuery shows that a plain Connection is
// plain XMPP: it asks the server nothing after CONNECTED (no disco#info of
// the domain, Jitsi's properties query). With the Jitsi layer attached the
// same login sends the query, which shows the test can see it.
func TestIntegrationPlainSendsNoJitsiQuery(t *testing.T) {
	servertest.Each(t, testPlainSendsNoJitsiQuery)
}

func testPlainSendsNoJitsiQuery(t *testing.T, s *servertest.Server) {
	for _, tc := range []struct {
		name    string
		attach  bool
		queries int
	}{
		{"plain", false, 0},
		{"jitsi attached", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			xmpptest.NoLeaks(t)
			tap := &wireTap{}
			cfg := xmpptest.ServerConfig(t, s, s.WebSocketURL(false))
			cfg.Domain = s.AnonDomain
			cfg.Dial = func(ctx context.Context, url, domain string) (transport.Conn, error) {
				tc, err := websocket.Dial(ctx, url, domain, &websocket.Options{HTTPClient: cfg.HTTPClient})
				if err != nil {
					return nil, err
				}
				tap.Conn = tc
				return tap, nil
			}
			c := xmppconn.New(cfg)
			if tc.attach {
				jitsi.Attach(c, jitsi.Config{})
			}
			if err := c.Connect(xmpptest.Context(t)); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			if tc.attach {
				// The Jitsi layer sends its query from a goroutine of the
				// Connection: wait until it is on the wire.
				xmpptest.Eventually(t, "the properties query on the wire", func() bool {
					return tap.count(nsDiscoInfo) > 0
				})
			}
			// A round trip to the server after CONNECTED: what the client
			// wrote before its answer came is all it wrote on its own.
			ping := stanza.IQ{Type: stanza.GetIQ, To: jid.MustParse(s.AnonDomain)}
			if _, err := c.SendIQ(xmpptest.Context(t), ping, xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: "urn:xmpp:ping", Local: "ping"}})); err != nil {
				t.Fatalf("ping: %v", err)
			}
			if err := c.Disconnect(context.Background()); err != nil {
				t.Fatalf("Disconnect: %v", err)
			}
			if n := tap.count(nsDiscoInfo); n != tc.queries {
				t.Errorf("%d disco#info queries on the wire, want %d", n, tc.queries)
			}
			if !tc.attach {
				// Everything a plain client wrote after the bind request is
				// accounted for: stream management, the test's ping, acks,
				// the close.
				for _, e := range tap.after("urn:ietf:params:xml:ns:xmpp-bind") {
					switch {
					case strings.HasPrefix(e, "<enable "), strings.HasPrefix(e, "<r "), strings.HasPrefix(e, "<a "),
						strings.Contains(e, "urn:xmpp:ping"), strings.HasPrefix(e, "<close "):
					default:
						t.Errorf("a plain client wrote %s after binding", e)
					}
				}
			}
		})
	}
}
