package websocket

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"testing"

	coder "github.com/coder/websocket"
	"mellium.im/xmpp/stream"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
	"github.com/xmppconn/xmppconn/transport"
)

// prosody13StreamError returns a <stream:error> as Prosody 13.0.1's
// mod_websocket sends it. Its session close serializes the stream error to a
// string before sending it, so the outbound filter that declares the stream
// prefix (and the default namespace) on stanzas never sees it: the stream
// prefix is undeclared. The condition and the text are in the
// urn:ietf:params:xml:ns:xmpp-streams namespace, attributes in single quotes.
func prosody13StreamError(condition, text string) string {
	const ns = " xmlns='urn:ietf:params:xml:ns:xmpp-streams'"
	s := "<stream:error><" + condition + ns + "/>"
	if text != "" {
		s += "<text" + ns + ">" + text + "</text>"
	}
	return s + "</stream:error>"
}

// declaredStreamError is e with the stream prefix declared on its root, as
// the Conn hands it on.
func declaredStreamError(e string) string {
	return "<stream:error xmlns:stream='http://etherx.jabber.org/streams'" + e[len("<stream:error"):]
}

// TestProsody13UndeclaredStreamPrefix: a stream error whose stream prefix is
// undeclared (Prosody 13.0.1 mod_websocket) reaches the session layer as a
// stream error, its condition and text intact, instead of ending the
// connection as malformed.
func TestProsody13UndeclaredStreamPrefix(t *testing.T) {
	tests := []struct {
		name      string
		elem      string // what the server sends
		afterOpen bool   // after the <open/> exchange (Prosody opens before it closes)
		condition string
		text      string
	}{
		{"system-shutdown", prosody13StreamError("system-shutdown", "Received SIGTERM"), true, "system-shutdown", "Received SIGTERM"},
		{"conflict", prosody13StreamError("conflict", "Replaced by new connection"), true, "conflict", "Replaced by new connection"},
		{"policy-violation without text", prosody13StreamError("policy-violation", ""), true, "policy-violation", ""},
		{"instead of <open/>", prosody13StreamError("host-unknown", "This server does not serve example.com"), false, "host-unknown", "This server does not serve example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, false, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
				if read(ctx, ws) != clientOpen {
					t.Error("no <open/>")
					return
				}
				if tt.afterOpen {
					write(ctx, ws, serverOpen)
				}
				write(ctx, ws, tt.elem)
				write(ctx, ws, serverClose)
				drainUntilClosed(ctx, ws)
			})
			c := s.dial(t, nil)
			ctx := context.Background()
			_, err := c.Open(ctx, false)
			var got []byte
			if tt.afterOpen {
				if err != nil {
					t.Fatal(err)
				}
				if got, err = c.ReadElement(ctx); err != nil {
					t.Fatalf("ReadElement: %v", err)
				}
			} else {
				var ue *UnexpectedElementError
				if !errors.As(err, &ue) {
					t.Fatalf("Open = %v, want *UnexpectedElementError", err)
				}
				got = ue.Elem
			}
			if want := declaredStreamError(tt.elem); string(got) != want {
				t.Errorf("element handed on = %q, want %q", got, want)
			}
			var start xml.StartElement
			tok, err := xml.NewDecoder(bytes.NewReader(got)).Token()
			if start, _ = tok.(xml.StartElement); err != nil || start.Name != (xml.Name{Space: "http://etherx.jabber.org/streams", Local: "error"}) {
				t.Fatalf("root = %v (%v), want the streams namespace's error", start.Name, err)
			}
			var se stream.Error
			if err := xml.Unmarshal(got, &se); err != nil {
				t.Fatalf("unmarshal as a stream error: %v", err)
			}
			if se.Err != tt.condition {
				t.Errorf("condition = %q, want %q", se.Err, tt.condition)
			}
			text := ""
			if len(se.Text) > 0 {
				text = se.Text[0].Value
			}
			if text != tt.text {
				t.Errorf("text = %q, want %q", text, tt.text)
			}
			if _, err := c.ReadElement(ctx); !errors.Is(err, transport.ErrStreamClosed) {
				t.Errorf("ReadElement after the stream error = %v, want ErrStreamClosed", err)
			}
		})
	}
}

// TestUndeclaredPrefixRefused: the tolerance is for a top-level stream:error
// only. Any other undeclared prefix is malformed: the connection ends with a
// *ProtocolError and close code 1002.
func TestUndeclaredPrefixRefused(t *testing.T) {
	for _, tt := range []struct{ name, elem string }{
		{"on a child", "<stream:error><stream:text>x</stream:text></stream:error>"},
		{"on a child of a declared root", "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><app:x/></stream:error>"},
		{"on the root's attribute", "<stream:error stream:by='x'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"},
		{"on another top-level name", "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"},
		{"another prefix", "<streams:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></streams:error>"},
		{"stream:error below the top", "<message><stream:error/></message>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, false, nil, func(ctx context.Context, t *testing.T, ws *coder.Conn) {
				if !opened(ctx, t, ws) {
					return
				}
				write(ctx, ws, tt.elem)
				drainUntilClosed(ctx, ws)
			})
			c := s.dial(t, nil)
			ctx := context.Background()
			if _, err := c.Open(ctx, false); err != nil {
				t.Fatal(err)
			}
			_, err := c.ReadElement(ctx)
			wantAs[*ProtocolError](t, err)
			wantAs[*xmlframe.SyntaxError](t, err)
			if code := c.Status().WSCloseCode; code != 1002 {
				t.Errorf("WSCloseCode = %d, want 1002", code)
			}
		})
	}
}
