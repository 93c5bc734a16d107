package websocket

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
	"github.com/xmppconn/xmppconn/transport"
)

// fuzzLimits are small, so that the fuzzer reaches them.
var fuzzLimits = transport.Limits{MaxElementSize: 4 << 10, MaxDepth: 8}

// checkGrowth is the most checkMessage adds to a message: a default
// namespace, or the stream prefix declaration of a stream error.
const checkGrowth = len(" xmlns:stream='http://etherx.jabber.org/streams'")

// FuzzCheckMessage runs the checks and the classification of one server
// message on arbitrary bytes: no panic, errors typed (a *transport.LimitError,
// or a *ProtocolError wrapping an *xmlframe.SyntaxError), and what is handed
// on is bounded by the message, passes the strict check, has a namespace on
// its root (unless the server declared the empty default namespace), and is
// classified as <open/> or <close/> exactly when its root is one, with the
// attributes the root carries.
func FuzzCheckMessage(f *testing.F) {
	for _, s := range []string{
		serverOpen,
		serverClose,
		"<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://other.example.com/xmpp'/>",
		"<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='s1' to='u@example.com' version='1.0' xml:lang='de'/>",
		"<f:open xmlns:f='urn:ietf:params:xml:ns:xmpp-framing' id='x'/>",
		prosody13StreamError("system-shutdown", "Received SIGTERM"),
		"<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
		"\n <message to='a@b'><body>hi</body></message> ",
		"<open xmlns='urn:other'/>",
		"<stream:error stream:by='x'/>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		_ = rootName(msg)
		elem, err := checkMessage(msg, fuzzLimits)
		if err != nil {
			var (
				le *transport.LimitError
				pe *ProtocolError
				se *xmlframe.SyntaxError
			)
			switch {
			case errors.As(err, &le):
			case errors.As(err, &pe) && errors.As(err, &se):
			default:
				t.Fatalf("checkMessage(%q) = %T %v", msg, err, err)
			}
			if elem != nil {
				t.Fatalf("checkMessage(%q) = %q with error %v", msg, elem, err)
			}
			return
		}
		if len(elem) > len(msg)+checkGrowth {
			t.Fatalf("checkMessage(%q) = %d bytes, more than the message and %d", msg, len(elem), checkGrowth)
		}
		if err := xmlframe.Check(elem, transport.Limits{MaxElementSize: fuzzLimits.MaxElementSize + checkGrowth, MaxDepth: fuzzLimits.MaxDepth}); err != nil {
			t.Fatalf("checkMessage(%q) = %q, which fails Check: %v", msg, elem, err)
		}
		root, err := rootStart(elem)
		if err != nil {
			t.Fatalf("checkMessage(%q) = %q: %v", msg, elem, err)
		}
		if root.Name.Space == "" && !emptyDefaultNS(root) {
			t.Fatalf("checkMessage(%q) = %q, without a namespace", msg, elem)
		}
		if rootName(elem) == "?" || !strings.Contains((&UnexpectedElementError{Elem: elem}).Error(), rootName(elem)) {
			t.Fatalf("UnexpectedElementError does not name the root of %q", elem)
		}

		f := classify(elem)
		attr := func(space, local string) string {
			for _, a := range root.Attr {
				if a.Name.Space == space && a.Name.Local == local {
					return a.Value
				}
			}
			return ""
		}
		isOpen := root.Name == xml.Name{Space: NS, Local: "open"}
		isClose := root.Name == xml.Name{Space: NS, Local: "close"}
		switch {
		case isOpen != (f.kind == kindOpen), isClose != (f.kind == kindClose):
			t.Fatalf("classify(%q) = kind %d, root %v", elem, f.kind, root.Name)
		case isOpen:
			want := transport.Header{ID: attr("", "id"), From: attr("", "from"), To: attr("", "to"), Version: attr("", "version"), Lang: attr(xmlNS, "lang")}
			if f.header != want {
				t.Fatalf("classify(%q) header = %+v, want %+v", elem, f.header, want)
			}
		case isClose:
			if f.seeOtherURI != attr("", "see-other-uri") {
				t.Fatalf("classify(%q) see-other-uri = %q", elem, f.seeOtherURI)
			}
		}
	})
}

// emptyDefaultNS reports whether s declares the empty default namespace (no
// namespace), which checkMessage leaves as the server wrote it.
func emptyDefaultNS(s xml.StartElement) bool {
	for _, a := range s.Attr {
		if a.Name.Space == "" && a.Name.Local == "xmlns" && a.Value == "" {
			return true
		}
	}
	return false
}

// rootStart returns the first start tag of elem, decoded.
func rootStart(elem []byte) (xml.StartElement, error) {
	d := xml.NewDecoder(bytes.NewReader(elem))
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		if s, ok := tok.(xml.StartElement); ok {
			return s, nil
		}
	}
}

// FuzzConnRead runs a Conn against a server that sends arbitrary bytes after
// the upgrade: WebSocket frames built from script (messages separated by a
// 0 byte; a message starting with byte 1 is sent as a binary frame, 2 as a
// ping, 3 as a close frame, 4 as a text message in two fragments, 5 as a
// pong, anything else as one text frame), then tail as it is. Open, then
// ReadElement until an error: no panic, no hang, every error typed and the
// last one final, every element handed on within the limits and passing the
// strict check, and Close returning.
func FuzzConnRead(f *testing.F) {
	const features = "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"
	for _, s := range []struct{ script, tail string }{
		{serverOpen + "\x00" + features + "\x00<message to='a@b'><body>x</body></message>\x00" + serverClose, ""},
		{serverOpen + "\x00" + prosody13StreamError("system-shutdown", "Received SIGTERM") + "\x00" + serverClose, ""},
		{prosody13StreamError("host-unknown", ""), ""},
		{"<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://other.example.com/x'/>", ""},
		{serverOpen + "\x00\x02ping\x00\x04" + features + "\x00\x05\x00\x01<a/>", ""},
		{serverOpen + "\x00\x03\x03\xe9going away", ""},
		{serverOpen + "\x00" + serverOpen, ""},
		{serverOpen, "\x81\x7f\x7f\xff\xff\xff\xff\xff\xff\xff"},
		{serverOpen, "\x01\x05<a/>"},
		{"", "\x89\x7e\x00\x01x"},
	} {
		f.Add([]byte(s.script), []byte(s.tail))
	}
	f.Fuzz(func(t *testing.T, script, tail []byte) {
		server := append(serverFrames(script), tail...)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := Dial(ctx, "ws://fuzz.example/xmpp-websocket", "example.com", &Options{
			HTTPClient: &http.Client{Transport: upgradeTo(server)},
			Limits:     fuzzLimits,
		})
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		_, err = c.Open(ctx, false)
		if ue := (*UnexpectedElementError)(nil); errors.As(err, &ue) {
			// Not final: the session reads on (to the <close/> after a
			// stream error).
			checkHandedOn(t, ue.Elem)
			err = nil
		}
		for err == nil {
			var elem []byte
			if elem, err = c.ReadElement(ctx); err == nil {
				checkHandedOn(t, elem)
			}
		}
		checkReadError(t, err)
		if _, again := c.ReadElement(ctx); again == nil || again.Error() != err.Error() {
			t.Fatalf("ReadElement after %v = %v, want the same error", err, again)
		}
		_ = c.Close(ctx)
		if ctx.Err() != nil {
			t.Fatalf("the Conn hung on %q", server)
		}
	})
}

// checkHandedOn checks an element a Conn handed on.
func checkHandedOn(t *testing.T, elem []byte) {
	t.Helper()
	if err := xmlframe.Check(elem, transport.Limits{MaxElementSize: fuzzLimits.MaxElementSize + checkGrowth, MaxDepth: fuzzLimits.MaxDepth}); err != nil {
		t.Fatalf("element %q handed on fails Check: %v", elem, err)
	}
}

// checkReadError checks that err is one of the errors Open and ReadElement
// document.
func checkReadError(t *testing.T, err error) {
	t.Helper()
	var (
		pe *ProtocolError
		le *transport.LimitError
		ce *CloseError
		re *transport.RedirectError
	)
	switch {
	case errors.As(err, &pe), errors.As(err, &le):
	case errors.As(err, &ce):
		if ce.Code < 1000 || ce.Code > 4999 {
			t.Fatalf("CloseError with code %d", ce.Code)
		}
	case errors.As(err, &re):
		if re.Kind != transport.RedirectSeeOtherURI || re.Target == "" {
			t.Fatalf("RedirectError %+v", re)
		}
	case errors.Is(err, transport.ErrStreamClosed):
	default:
		t.Fatalf("read error %T %v is none of the documented ones", err, err)
	}
}

// serverFrames builds the WebSocket frames of a server (unmasked) from a
// script: see FuzzConnRead.
func serverFrames(script []byte) []byte {
	const (
		opContinuation = 0x0
		opText         = 0x1
		opBinary       = 0x2
		opClose        = 0x8
		opPing         = 0x9
		opPong         = 0xa
	)
	control := func(p []byte) []byte { return p[:min(len(p), 125)] }
	var out []byte
	for _, m := range bytes.Split(script, []byte{0}) {
		if len(m) == 0 {
			continue
		}
		switch m[0] {
		case 1:
			out = appendFrame(out, true, opBinary, m[1:])
		case 2:
			out = appendFrame(out, true, opPing, control(m[1:]))
		case 3:
			out = appendFrame(out, true, opClose, control(m[1:]))
		case 4:
			half := len(m[1:]) / 2
			out = appendFrame(out, false, opText, m[1:1+half])
			out = appendFrame(out, true, opContinuation, m[1+half:])
		case 5:
			out = appendFrame(out, true, opPong, control(m[1:]))
		default:
			out = appendFrame(out, true, opText, m)
		}
	}
	return out
}

// appendFrame appends one unmasked WebSocket frame (RFC 6455 §5.2).
func appendFrame(out []byte, fin bool, opcode byte, payload []byte) []byte {
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	out = append(out, b0)
	switch n := len(payload); {
	case n < 126:
		out = append(out, byte(n))
	case n <= 0xffff:
		out = append(out, 126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, 127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	return append(out, payload...)
}

// upgradeTo is an http.RoundTripper that accepts the WebSocket upgrade with
// the xmpp subprotocol and hands over a connection on which the server sends
// server (then end of file) and everything the client writes is dropped.
type upgradeTo []byte

func (server upgradeTo) RoundTrip(req *http.Request) (*http.Response, error) {
	accept := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return &http.Response{
		Status:     "101 Switching Protocols",
		StatusCode: http.StatusSwitchingProtocols,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header: http.Header{
			"Upgrade":                {"websocket"},
			"Connection":             {"Upgrade"},
			"Sec-Websocket-Accept":   {base64.StdEncoding.EncodeToString(accept[:])},
			"Sec-Websocket-Protocol": {Subprotocol},
		},
		Body:    &memConn{r: bytes.NewReader(server)},
		Request: req,
	}, nil
}

// memConn is an upgraded connection in memory: reads come from r, writes
// are dropped, and after Close both fail.
type memConn struct {
	mu     sync.Mutex
	r      *bytes.Reader
	closed bool
}

func (c *memConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, io.ErrClosedPipe
	}
	return c.r.Read(p)
}

func (c *memConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, io.ErrClosedPipe
	}
	return len(p), nil
}

func (c *memConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}
