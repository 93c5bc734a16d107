package xmppconn_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/stream"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmlframe"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// fuzzLimits bound what a fuzzed server element may be, as a transport
// checks it before the session sees it.
var fuzzLimits = transport.Limits{MaxElementSize: 8 << 10, MaxDepth: 16}

// Server elements of the fuzzed logins.
const (
	streamNS     = "http://etherx.jabber.org/streams"
	sasl2Offered = "<stream:features xmlns:stream='" + streamNS + "'><authentication xmlns='urn:xmpp:sasl:2'><mechanism>ANONYMOUS</mechanism>" +
		"<inline><bind xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:sm:3'/></inline></bind><sm xmlns='urn:xmpp:sm:3'/></inline></authentication></stream:features>"
)

// fuzzConnect connects once to a server that plays serve on an in-memory
// transport and then ends the stream, and checks what every Connect
// promises: it returns promptly; it fails with exactly one
// ConnectionFailed, in state FAILED, the error being that events.Failed
// wrapping the cause, or it succeeds with a full JID. It returns the
// error.
func fuzzConnect(t *testing.T, serve func(f *xmpptest.FakeConn)) error {
	t.Helper()
	f := xmpptest.NewFakeConn()
	cfg := f.Config()
	cfg.Ping = xmppconn.PingConfig{Timeout: 200 * time.Millisecond}
	cfg.Reconnect = xmppconn.ReconnectConfig{Disabled: true, AttemptTimeout: time.Second}
	c := xmppconn.New(cfg)
	var fails []events.Failed
	c.On(events.ConnectionFailed, func(e events.Event) { fails = append(fails, e.(events.Failed)) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(f.ToClient)
		serve(f)
	}()
	start := time.Now()
	err := c.Connect(context.Background())
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Connect took %v", took)
	}
	if err == nil {
		if c.JID().Resourcepart() == "" {
			t.Fatalf("connected without a full JID: %v", c.JID())
		}
	} else {
		var fe events.Failed
		if !errors.As(err, &fe) || fe.Cause == nil {
			t.Fatalf("Connect = %T %v, want an events.Failed with its cause", err, err)
		}
		if len(fails) != 1 {
			t.Fatalf("%d ConnectionFailed, want 1", len(fails))
		}
		if st := c.State(); st != events.StateFailed {
			t.Fatalf("state %v after a failed Connect", st)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = c.Disconnect(ctx)
	<-done
	return err
}

// checked reports whether elem passes the checks a transport makes (one
// well-formed element within fuzzLimits): only such input reaches the
// session.
func checked(elem []byte) bool { return xmlframe.Check(elem, fuzzLimits) == nil }

// FuzzStreamFeatures offers arbitrary <stream:features/> (any element, as
// long as a transport would pass it on): no panic, no hang, and the
// attempt ends in one typed failure.
func FuzzStreamFeatures(f *testing.F) {
	for _, s := range []string{
		xmpptest.FeaturesAnon,
		xmpptest.FeaturesBind,
		sasl2Offered,
		"<stream:features xmlns:stream='" + streamNS + "'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1-PLUS</mechanism><mechanism>PLAIN</mechanism></mechanisms>" +
			"<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-exporter'/></sasl-channel-binding><sm xmlns='urn:xmpp:sm:3'/></stream:features>",
		"<stream:features xmlns:stream='" + streamNS + "'/>",
		"<message xmlns='jabber:client' from='example.net'><body>early</body></message>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, elem []byte) {
		if !checked(elem) {
			return
		}
		err := fuzzConnect(t, func(f *xmpptest.FakeConn) {
			<-f.Opens
			f.ToClient <- elem
		})
		if err == nil {
			t.Fatalf("connected on features %q without a bind", elem)
		}
	})
}

// FuzzStreamError ends the stream with an arbitrary <stream:error/>: one
// typed failure whose condition is the stream error's (undefined-condition
// when it names none), or a refused redirect for see-other-host.
func FuzzStreamError(f *testing.F) {
	for _, s := range []string{
		"<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Replaced by new connection</text>",
		"<system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>",
		"<see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>evil.example.org</see-other-host>",
		"<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>no condition</text>",
		"<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><app xmlns='urn:example'/>",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, inner []byte) {
		elem := []byte("<stream:error xmlns:stream='" + streamNS + "'>" + string(inner) + "</stream:error>")
		if !checked(elem) {
			return
		}
		err := fuzzConnect(t, func(f *xmpptest.FakeConn) {
			<-f.Opens
			f.ToClient <- elem
		})
		var (
			fe  events.Failed
			se  stream.Error
			rre *xmppconn.RedirectRefusedError
		)
		if !errors.As(err, &fe) {
			t.Fatalf("stream error %q: Connect = %v", elem, err)
		}
		switch {
		case errors.As(err, &rre):
			if fe.Details.Condition != rre.Kind {
				t.Fatalf("refused redirect: condition %q, kind %q", fe.Details.Condition, rre.Kind)
			}
		case errors.As(err, &se):
			if se.Err == "" || fe.Details.Condition != se.Err {
				t.Fatalf("stream error %q: condition %q, parsed %q", elem, fe.Details.Condition, se.Err)
			}
		default:
			var pe *xmppconn.ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("stream error %q: cause %T %v is neither a stream error nor a protocol error", elem, fe.Cause, fe.Cause)
			}
		}
	})
}

// sasl2Roots are the elements a server answers <authenticate/> with.
var sasl2Roots = []string{"success", "failure", "continue", "challenge"}

// FuzzSASL2Answer answers a SASL2 <authenticate/> (ANONYMOUS, Bind 2 and
// stream management offered inline) with an arbitrary <success/>,
// <failure/>, <continue/> or <challenge/>: either the session comes up
// with a full JID (a success that bound one), or the attempt ends in one
// typed failure; a <failure/> is a SASL failure (passwordRequired) or a
// malformed one.
func FuzzSASL2Answer(f *testing.F) {
	for _, s := range []struct {
		root  uint8
		inner string
	}{
		{0, "<authorization-identifier>anon@example.net/r1</authorization-identifier><bound xmlns='urn:xmpp:bind:0'><enabled xmlns='urn:xmpp:sm:3' id='sm1' resume='true'/></bound>"},
		{0, "<additional-data>=</additional-data><authorization-identifier>anon@example.net</authorization-identifier>"},
		{0, "<authorization-identifier>not a jid@@</authorization-identifier><bound xmlns='urn:xmpp:bind:0'/>"},
		{0, "<failed xmlns='urn:xmpp:bind:0'><error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></failed>"},
		{1, "<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><text>Wrong token</text>"},
		{1, "<aborted xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><app xmlns='urn:example'/>"},
		{2, "<additional-data>AAAA</additional-data><tasks><task>HOTP-EXAMPLE</task></tasks><text>second factor</text>"},
		{3, "cmFuZG9t"},
	} {
		f.Add(s.root, []byte(s.inner))
	}
	f.Fuzz(func(t *testing.T, root uint8, inner []byte) {
		name := sasl2Roots[int(root)%len(sasl2Roots)]
		elem := []byte("<" + name + " xmlns='urn:xmpp:sasl:2'>" + string(inner) + "</" + name + ">")
		if !checked(elem) {
			return
		}
		err := fuzzConnect(t, func(f *xmpptest.FakeConn) {
			<-f.Opens
			f.ToClient <- []byte(sasl2Offered)
			select {
			case <-f.FromClient: // <authenticate/>
			case <-f.Closed:
				return
			}
			f.ToClient <- elem
		})
		if err != nil && name == "failure" {
			var pe *xmppconn.ProtocolError
			if !errors.Is(err, events.PasswordRequired) && !errors.As(err, &pe) {
				t.Fatalf("SASL2 failure %q: Connect = %v, want passwordRequired or a protocol error", elem, err)
			}
		}
	})
}

// FuzzParseStanzaError reads arbitrary stanzas: no panic; a *ProtocolError
// for what is not an error stanza; else an error with a defined condition
// (undefined-condition when the server named none), whose text is one of
// its texts, which errors.Is matches by its condition.
func FuzzParseStanzaError(f *testing.F) {
	for _, s := range []string{
		"<iq xmlns='jabber:client' type='error' id='1'><error type='cancel' by='example.net'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>No such room</text><app xmlns='urn:example'/></error></iq>",
		"<message xmlns='jabber:client' type='error'><error type='wait'/></message>",
		"<presence xmlns='jabber:client' type='error'><error type='auth'><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='de'>Nein</text><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>No</text><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>",
		"<iq xmlns='jabber:client' type='result' id='2'/>",
		"<iq xmlns='jabber:client' type='error'><error by='@@invalid'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, elem []byte) {
		se, err := xmppconn.ParseStanzaError(elem)
		if err != nil {
			var pe *xmppconn.ProtocolError
			if !errors.As(err, &pe) || se != nil {
				t.Fatalf("ParseStanzaError(%q) = %v, %T %v", elem, se, err, err)
			}
			return
		}
		if se.Condition() == "" {
			t.Fatalf("ParseStanzaError(%q): no condition", elem)
		}
		if !errors.Is(se, xmppconn.StanzaCondition(se.Condition())) {
			t.Fatalf("ParseStanzaError(%q): errors.Is does not match its condition %q", elem, se.Condition())
		}
		if txt := se.Text(); txt != "" {
			found := false
			for _, v := range se.Err.Text {
				found = found || v == txt
			}
			if !found {
				t.Fatalf("ParseStanzaError(%q): Text %q is none of %q", elem, txt, se.Err.Text)
			}
		}
		if se.Error() == "" || !strings.Contains(se.Error(), string(se.Condition())) {
			t.Fatalf("ParseStanzaError(%q): Error() %q does not name the condition", elem, se.Error())
		}
	})
}
