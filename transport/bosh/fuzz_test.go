package bosh

import (
	"bytes"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
	"github.com/xmppconn/xmppconn/transport"
)

// fuzzLimits are small, so that the fuzzer reaches them.
var fuzzLimits = transport.Limits{MaxElementSize: 4 << 10, MaxDepth: 8}

// rootName returns the name of the root element of elem.
func rootName(t *testing.T, elem []byte) xml.Name {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(elem))
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("child %q has no root element: %v", elem, err)
		}
		if s, ok := tok.(xml.StartElement); ok {
			return s.Name
		}
	}
}

// FuzzParseBody parses arbitrary response bodies: no panic; an error is a
// *transport.LimitError or a *MalformedError; a body that parses has
// children that take at most childrenBudget together, each one complete
// element within the depth bound and in a namespace (jabber:client for
// those that named none), and its stream error, if any, is the last
// <stream:error/> among them; every number is absent (-1) or within
// [0, maxCount], every rid absent (0) or within [1, 2^53-1].
func FuzzParseBody(f *testing.F) {
	for _, s := range []string{
		"<body xmlns='http://jabber.org/protocol/httpbind' sid='s1' wait='60' hold='1' requests='2' polling='5' inactivity='60' maxpause='120' ack='1' ver='1.11' from='example.com' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'/>",
		"<body xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams'><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features></body>",
		"<body xmlns='http://jabber.org/protocol/httpbind'><message to='a@b'><body>hi</body></message><iq type='result' id='1'/></body>",
		"<body type='terminate' condition='remote-stream-error' xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams'><stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced</text></stream:error></body>",
		"<body type='terminate' condition='see-other-uri' xmlns='http://jabber.org/protocol/httpbind'><uri>https://other.example.com/http-bind</uri></body>",
		"<?xml version='1.0'?><body xmlns='http://jabber.org/protocol/httpbind' xmlns:h='urn:long-namespace'><h:a/><h:a/><h:a/></body>",
		"<body xmlns='http://jabber.org/protocol/httpbind' report='7' time='10'/>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := parseBody(data, fuzzLimits)
		if err != nil {
			var (
				le *transport.LimitError
				me *MalformedError
			)
			if !errors.As(err, &le) && !errors.As(err, &me) {
				t.Fatalf("parseBody(%q) = %T %v", data, err, err)
			}
			return
		}
		budget := childrenBudget(fuzzLimits.WithDefaults())
		total := 0
		var lastStreamError []byte
		for _, c := range b.children {
			total += len(c)
			if err := xmlframe.Check(c, transport.Limits{MaxElementSize: budget, MaxDepth: fuzzLimits.MaxDepth}); err != nil {
				t.Fatalf("parseBody(%q): child %q fails Check: %v", data, c, err)
			}
			name := rootName(t, c)
			if name.Space == "" || name.Space == nsHTTPBind {
				t.Fatalf("parseBody(%q): child %q in namespace %q", data, c, name.Space)
			}
			if name.Space == nsStreams && name.Local == "error" {
				lastStreamError = c
			}
		}
		if total > budget {
			t.Fatalf("parseBody(%q): children take %d bytes, budget %d", data, total, budget)
		}
		if !bytes.Equal(b.streamError, lastStreamError) {
			t.Fatalf("parseBody(%q): stream error %q, want the last <stream:error/> child %q", data, b.streamError, lastStreamError)
		}
		for _, n := range []int64{b.wait, b.hold, b.requests, b.polling, b.inactivity, b.maxpause} {
			if n < -1 || n > maxCount {
				t.Fatalf("parseBody(%q): number %d out of range", data, n)
			}
		}
		for _, r := range []uint64{b.ack, b.report} {
			if r > maxRID {
				t.Fatalf("parseBody(%q): rid %d out of range", data, r)
			}
		}
	})
}

// plainNumber reports whether s is a number Params accepts: decimal
// digits, with white space around them.
func plainNumber(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// FuzzBodyAttrs reads a session creation response's numbers, whatever the
// server wrote in them, and adopts them against what the client asked for
// (a wait of 1 s to 1 h, a hold of 0 to 2): the response is malformed
// exactly when a number is not a plain decimal number, and every adopted
// parameter lies in its documented range (see Params): wait within what
// was asked, hold within what was asked, requests from 1 to hold+1 (or 0:
// no limit), polling up to a minute, inactivity and maxpause up to ten
// minutes; a number within its range is taken as it is.
func FuzzBodyAttrs(f *testing.F) {
	f.Add("60", "1", "2", "5", "60", "120", uint16(60), uint8(1))
	f.Add("99999999999999999999999999", "1000000", "4294967296", "0", " 30 ", "", uint16(3600), uint8(2))
	f.Add("-1", "+1", "0x10", "1e3", "1.5", "١٢", uint16(1), uint8(0))
	f.Fuzz(func(t *testing.T, wait, hold, requests, polling, inactivity, maxpause string, askedWait uint16, askedHold uint8) {
		asked := Params{Wait: time.Duration(1+int(askedWait)%3600) * time.Second, Hold: int(askedHold % 3)}
		values := map[string]string{"wait": wait, "hold": hold, "requests": requests, "polling": polling, "inactivity": inactivity, "maxpause": maxpause}
		var attrs []xml.Attr
		wellFormed := true
		for _, name := range []string{"wait", "hold", "requests", "polling", "inactivity", "maxpause"} {
			v := values[name]
			if v == "" {
				continue // absent
			}
			attrs = append(attrs, xml.Attr{Name: xml.Name{Local: name}, Value: v})
			wellFormed = wellFormed && plainNumber(v)
		}
		b, err := bodyAttrs(attrs)
		if err != nil {
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("bodyAttrs(%q) = %T %v, want a *MalformedError", attrs, err, err)
			}
			if wellFormed {
				t.Fatalf("bodyAttrs(%q) refused plain numbers: %v", attrs, err)
			}
			return
		}
		if !wellFormed {
			t.Fatalf("bodyAttrs(%q) took a number that is not plain decimal", attrs)
		}
		p := adoptParams(b, asked)
		check := func(name string, got, lo, hi time.Duration) {
			if got < lo || got > hi {
				t.Fatalf("%s = %v from %q (asked %+v), want within [%v, %v]", name, got, values[name], asked, lo, hi)
			}
		}
		check("wait", p.Wait, 0, asked.Wait)
		check("polling", p.Polling, 0, maxPolling)
		check("inactivity", p.Inactivity, 0, maxInactivity)
		check("maxpause", p.MaxPause, 0, maxMaxPause)
		if p.Hold < 0 || p.Hold > asked.Hold {
			t.Fatalf("hold = %d from %q, asked %d", p.Hold, hold, asked.Hold)
		}
		if p.Requests < 0 || p.Requests > p.Hold+1 {
			t.Fatalf("requests = %d from %q with hold %d", p.Requests, requests, p.Hold)
		}
		// A number within its range is taken as it is.
		if b.wait >= 0 && seconds(b.wait) <= asked.Wait && p.Wait != seconds(b.wait) {
			t.Fatalf("wait %q within range adopted as %v", wait, p.Wait)
		}
		if b.polling > 0 && seconds(b.polling) <= maxPolling && p.Polling != seconds(b.polling) {
			t.Fatalf("polling %q within range adopted as %v", polling, p.Polling)
		}
	})
}

// transientTerminate is the documented list of terminate conditions after
// which a new session may succeed (TerminateError.Transient), and of the
// stream errors a remote-stream-error may carry to that effect.
var (
	transientTerminate = map[string]bool{"": true, ConditionItemNotFound: true, ConditionRemoteConnectionFailed: true,
		ConditionSystemShutdown: true, ConditionUndefinedCondition: true, ConditionOtherRequest: true}
	transientStream = map[string]bool{"system-shutdown": true, "connection-timeout": true, "reset": true,
		"internal-server-error": true, "remote-connection-failed": true}
)

// FuzzTerminate maps arbitrary terminate bodies (a condition, a <uri/>, a
// <stream:error/> with arbitrary content) to the error the session ends
// with: a see-other-uri with a URI is a *transport.RedirectError to that
// URI; everything else a *TerminateError with the condition as sent, which
// is transport.ErrStreamClosed exactly when there is no condition, is
// transient exactly as documented, names the stream error's condition for
// a remote-stream-error that carries one (else the terminate condition),
// and gives the stream error's text as its server text.
func FuzzTerminate(f *testing.F) {
	f.Add("", "", "")
	f.Add("system-shutdown", "", "")
	f.Add("see-other-uri", "https://other.example.com/http-bind", "")
	f.Add("see-other-uri", "", "")
	f.Add("remote-stream-error", "", "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text>")
	f.Add("remote-stream-error", "", "<reset xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>")
	f.Add("remote-stream-error", "", "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>first</text><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>second</text>")
	f.Add("host-unknown", "", "<app xmlns='urn:example'/>")
	f.Fuzz(func(t *testing.T, condition, uri, streamError string) {
		var sb strings.Builder
		sb.WriteString("<body xmlns='" + nsHTTPBind + "' xmlns:stream='" + nsStreams + "' type='terminate'")
		if condition != "" {
			sb.WriteString(" condition='")
			_ = xml.EscapeText(&sb, []byte(condition))
			sb.WriteString("'")
		}
		sb.WriteString(">")
		if uri != "" {
			sb.WriteString("<uri>")
			_ = xml.EscapeText(&sb, []byte(uri))
			sb.WriteString("</uri>")
		}
		if streamError != "" {
			sb.WriteString("<stream:error>" + streamError + "</stream:error>")
		}
		sb.WriteString("</body>")
		b, err := parseBody([]byte(sb.String()), transport.Limits{})
		if err != nil {
			return // not a terminate body the session would see
		}
		err = terminateError(b, nil)
		var re *transport.RedirectError
		if b.condition == ConditionSeeOtherURI && b.uri != "" {
			if !errors.As(err, &re) || re.Kind != transport.RedirectSeeOtherURI || re.Target != b.uri {
				t.Fatalf("terminate see-other-uri %q = %v, want a redirect to it", b.uri, err)
			}
			return
		}
		var te *TerminateError
		if !errors.As(err, &te) {
			t.Fatalf("terminate %q = %T %v, want a *TerminateError", b.condition, err, err)
		}
		if te.Condition != b.condition {
			t.Fatalf("condition %q, sent %q", te.Condition, b.condition)
		}
		if errors.Is(err, transport.ErrStreamClosed) != (b.condition == "") {
			t.Fatalf("terminate %q: errors.Is(err, ErrStreamClosed) = %v", b.condition, !(b.condition == ""))
		}
		want := transientTerminate[b.condition] || b.condition == ConditionRemoteStreamError && transientStream[te.StreamCondition]
		if got, known := transport.Transient(err); got != want || !known {
			t.Fatalf("terminate %q (stream %q): Transient = %v, %v; want %v", b.condition, te.StreamCondition, got, known, want)
		}
		var tre transport.Error
		if !errors.As(err, &tre) {
			t.Fatalf("terminate %q is not a transport.Error", b.condition)
		}
		wantCond := b.condition
		if b.condition == ConditionRemoteStreamError && te.StreamCondition != "" {
			wantCond = te.StreamCondition
		}
		if tre.Condition() != wantCond {
			t.Fatalf("Condition() = %q, want %q", tre.Condition(), wantCond)
		}
		var st transport.ServerTexter
		if !errors.As(err, &st) || st.ServerText() != te.Text {
			t.Fatalf("ServerText does not give the stream error's text %q", te.Text)
		}
		if (te.StreamError == nil) != (b.streamError == nil) {
			t.Fatalf("stream error %q, body had %q", te.StreamError, b.streamError)
		}
		if te.StreamCondition == "text" {
			t.Fatalf("the <text/> of %q taken for the condition", te.StreamError)
		}
	})
}
