package xmppconn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"syscall"
	"testing"
	"time"

	"mellium.im/xmpp/stream"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/transport/bosh"
	"github.com/xmppconn/xmppconn/transport/websocket"
)

func TestReconnectDelay(t *testing.T) {
	cases := []struct {
		n      int
		lo, hi time.Duration // [lo, hi)
	}{
		{1, 1500 * time.Millisecond, 3 * time.Second},
		{2, 3 * time.Second, 9 * time.Second},
		{3, 4500 * time.Millisecond, 27 * time.Second},
		{4, 6 * time.Second, 81 * time.Second},
		{5, 7500 * time.Millisecond, 243 * time.Second},
		{0, 1500 * time.Millisecond, 3 * time.Second},  // n < 1 is attempt 1
		{-4, 1500 * time.Millisecond, 3 * time.Second}, // n < 1 is attempt 1
	}
	for _, tc := range cases {
		for _, r := range []float64{0, 0.5, 0.999999} {
			t.Run(fmt.Sprintf("n=%d/rnd=%v", tc.n, r), func(t *testing.T) {
				got := reconnectDelay(tc.n, func() float64 { return r })
				if got < tc.lo || got >= tc.hi {
					t.Errorf("reconnectDelay(%d) = %v, want in [%v, %v)", tc.n, got, tc.lo, tc.hi)
				}
				if r == 0 && got != tc.lo {
					t.Errorf("reconnectDelay(%d) with rnd 0 = %v, want the lower bound %v", tc.n, got, tc.lo)
				}
			})
		}
	}
}

func TestWithDelay(t *testing.T) {
	at := time.Date(2024, 3, 5, 14, 7, 9, 123456789, time.FixedZone("CET", 3600))
	const d = "<delay xmlns='urn:xmpp:delay' stamp='2024-03-05T13:07:09.123Z' from='me@example.net/r'/>"
	cases := []struct {
		name, in, want string
	}{
		{"self-closed",
			"<message xmlns='jabber:client' to='a@example.net'/>",
			"<message xmlns='jabber:client' to='a@example.net'>" + d + "</message>"},
		{"self-closed without attributes",
			"<message/>",
			"<message>" + d + "</message>"},
		{"normal",
			"<message xmlns='jabber:client' to='a@example.net'><body>hi</body></message>",
			"<message xmlns='jabber:client' to='a@example.net'><body>hi</body>" + d + "</message>"},
		{"last child self-closed",
			"<message to='a@example.net'><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
			"<message to='a@example.net'><body>hi</body><active xmlns='http://jabber.org/protocol/chatstates'/>" + d + "</message>"},
		{"whitespace around",
			" \n<message to='a@example.net'><body>hi</body></message>\r\n\t",
			" \n<message to='a@example.net'><body>hi</body>" + d + "</message>"},
		{"self-closed with whitespace",
			"\t<message to='a@example.net'/>\n",
			"\t<message to='a@example.net'>" + d + "</message>"},
		{"iq unchanged",
			"<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>",
			"<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>"},
		{"presence unchanged",
			"<presence to='room@conf.example.net/me'/>",
			"<presence to='room@conf.example.net/me'/>"},
		{"sm element unchanged",
			"<r xmlns='urn:xmpp:sm:3'/>",
			"<r xmlns='urn:xmpp:sm:3'/>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(withDelay([]byte(tc.in), at, "me@example.net/r")); got != tc.want {
				t.Errorf("withDelay(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
	t.Run("no from", func(t *testing.T) {
		got := string(withDelay([]byte("<message/>"), at, ""))
		if want := "<message><delay xmlns='urn:xmpp:delay' stamp='2024-03-05T13:07:09.123Z'/></message>"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("from escaped", func(t *testing.T) {
		got := string(withDelay([]byte("<message/>"), at, "a'b@example.net"))
		if want := "<message><delay xmlns='urn:xmpp:delay' stamp='2024-03-05T13:07:09.123Z' from='a&#39;b@example.net'/></message>"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func TestIsStanzaBytes(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"<message to='a'/>", true},
		{"<message>", true},
		{"<message/>", true},
		{"<message\tto='a'/>", true},
		{"<message\nto='a'/>", true},
		{"<message\rto='a'/>", true},
		{"  \n<message to='a'/>", true},
		{"<presence/>", true},
		{"<presence type='unavailable'/>", true},
		{"<iq type='get' id='1'/>", true},
		{"<iq>", true},
		{"<messages/>", false},
		{"<message", false},
		{"<iqx/>", false},
		{"<presencex/>", false},
		{"<r xmlns='urn:xmpp:sm:3'/>", false},
		{"<a xmlns='urn:xmpp:sm:3' h='1'/>", false},
		{"<enable xmlns='urn:xmpp:sm:3' resume='true'/>", false},
		{"<stream:features/>", false},
		{"", false},
		{"   ", false},
		{"message", false},
	}
	for _, tc := range cases {
		if got := isStanzaBytes([]byte(tc.in)); got != tc.want {
			t.Errorf("isStanzaBytes(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseH(t *testing.T) {
	cases := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"0", 0, true},
		{"7", 7, true},
		{"4294967295", math.MaxUint32, true},
		{"4294967296", 0, false},
		{"-1", 0, false},
		{"", 0, false},
		{"1x", 0, false},
	}
	for _, tc := range cases {
		got, err := parseH(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("parseH(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		var pe *ProtocolError
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("parseH(%q) error %T, want *ProtocolError", tc.in, err)
		}
	}
	if got, want := string(smAnswer(math.MaxUint32)), "<a xmlns='urn:xmpp:sm:3' h='4294967295'/>"; got != want {
		t.Errorf("smAnswer = %q, want %q", got, want)
	}
	if got, want := string(smResume("a'b", 3)), "<resume xmlns='urn:xmpp:sm:3' previd='a&#39;b' h='3'/>"; got != want {
		t.Errorf("smResume = %q, want %q", got, want)
	}
}

func TestRetryable(t *testing.T) {
	type tc struct {
		name string
		err  error
		want bool
	}
	cases := []tc{
		{"nil", nil, false},
		{"stream closed by server", transport.ErrStreamClosed, true},
		{"wrapped stream closed", fmt.Errorf("read: %w", transport.ErrStreamClosed), true},
		{"net dial error", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"timeout", context.DeadlineExceeded, true},
		{"context canceled", context.Canceled, false},
		{"wrapped context canceled", fmt.Errorf("dial: %w", context.Canceled), false},
		{"sasl failure", &auth.FailureError{Condition: "not-authorized"}, false},
		{"sasl temporary-auth-failure", &auth.FailureError{Condition: "temporary-auth-failure"}, false},
		{"wrapped sasl failure", fmt.Errorf("auth: %w", &auth.FailureError{Condition: "not-allowed"}), false},
		{"redirect", &transport.RedirectError{Kind: transport.RedirectSeeOtherURI, Target: "wss://other.example.net/ws"}, false},
		{"bosh 503", &bosh.HTTPError{Status: 503}, true},
		{"bosh 500", &bosh.HTTPError{Status: 500}, true},
		{"bosh 404", &bosh.HTTPError{Status: 404}, false},
		{"bosh 403", &bosh.HTTPError{Status: 403}, false},
		{"websocket close 1006", &websocket.CloseError{Code: 1006}, true},
		{"protocol error", &ProtocolError{Step: "bind", Msg: "bad"}, false},
	}
	for _, c := range []string{"system-shutdown", "connection-timeout", "reset", "internal-server-error", "remote-connection-failed"} {
		cases = append(cases, tc{"stream error " + c, stream.Error{Err: c}, true})
	}
	for _, c := range []string{"conflict", "not-authorized", "policy-violation", "host-unknown", "host-gone",
		"improper-addressing", "bad-format", "invalid-namespace", "unsupported-version",
		"unsupported-encoding", "unsupported-stanza-type", "unsupported-feature"} {
		cases = append(cases, tc{"stream error " + c, stream.Error{Err: c}, false})
	}
	cases = append(cases,
		tc{"wrapped stream error reset", fmt.Errorf("read: %w", stream.Error{Err: "reset"}), true},
		tc{"wrapped stream error conflict", fmt.Errorf("read: %w", stream.Conflict), false},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := retryable(c.err); got != c.want {
				t.Errorf("retryable(%v) = %v, want %v", c.err, got, c.want)
			}
		})
	}
}

// TestHandleSM drives the read loop's XEP-0198 handling directly. The
// answers the read loop owes (<a/>) are paid by the payer; here the test
// pays them.
func TestHandleSM(t *testing.T) {
	c := New(Config{URL: "wss://example.net/ws"})
	w := &wireRec{}
	c.out.fresh(w, true, "me@example.net/r")
	l := newLink(w)
	handle := func(elem string) error {
		t.Helper()
		r, err := rootOf([]byte(elem))
		if err != nil {
			t.Fatalf("rootOf(%s): %v", elem, err)
		}
		return c.handleSM(l, r)
	}
	pay := func() {
		t.Helper()
		select {
		case e := <-l.ctrl:
			c.payDebt(e)
		default:
			t.Fatal("<r/> left no answer to send")
		}
	}

	if err := handle("<enabled xmlns='urn:xmpp:sm:3' id='s1' resume='1'/>"); err != nil {
		t.Fatal(err)
	}
	if !c.inCounting.Load() || c.out.resumeID() != "s1" {
		t.Errorf("after <enabled resume='1'/>: counting=%v resumeID=%q", c.inCounting.Load(), c.out.resumeID())
	}

	// The inbound counter wraps at 2^32 like the outbound one.
	c.inH.Store(math.MaxUint32)
	if err := handle(smRequest); err != nil {
		t.Fatal(err)
	}
	pay()
	c.inH.Add(1)
	if err := handle(smRequest); err != nil {
		t.Fatal(err)
	}
	pay()
	want := []string{"<a xmlns='urn:xmpp:sm:3' h='4294967295'/>", "<a xmlns='urn:xmpp:sm:3' h='0'/>"}
	if got := w.got(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("answers = %q, want %q", got, want)
	}

	// Requests read before the answer is written share one <a/>, with h
	// as it is when written.
	for range 3 {
		c.inH.Add(1)
		if err := handle(smRequest); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(l.ctrl); n != 1 {
		t.Errorf("3 requests in a burst left %d answers owed, want 1", n)
	}
	c.inH.Add(1)
	pay()
	if err := handle(smRequest); err != nil { // after the answer: owed again
		t.Fatal(err)
	}
	pay()
	want = append(want, "<a xmlns='urn:xmpp:sm:3' h='4'/>", "<a xmlns='urn:xmpp:sm:3' h='4'/>")
	if got := w.got(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("answers = %q, want %q", got, want)
	}

	var pe *ProtocolError
	if err := handle("<a xmlns='urn:xmpp:sm:3' h='many'/>"); !errors.As(err, &pe) {
		t.Errorf("<a h='many'/> = %v, want *ProtocolError", err)
	}
	if err := handle("<a xmlns='urn:xmpp:sm:3'/>"); !errors.As(err, &pe) {
		t.Errorf("<a/> without h = %v, want *ProtocolError", err)
	}
	// An ack for more than was sent is logged, not fatal.
	if err := handle("<a xmlns='urn:xmpp:sm:3' h='9'/>"); err != nil {
		t.Errorf("<a h='9'/> with nothing sent = %v, want nil", err)
	}

	if err := handle("<failed xmlns='urn:xmpp:sm:3'/>"); err != nil {
		t.Fatal(err)
	}
	if id := c.out.resumeID(); id != "" {
		t.Errorf("resumeID = %q after <failed/>", id)
	}
}

func TestJitterDelay(t *testing.T) {
	const maxDelay = 30 * time.Second
	for _, tc := range []struct {
		n       int
		ceiling time.Duration // the draw is uniform in [0, ceiling]
	}{
		{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {5, 16 * time.Second},
		{6, maxDelay}, {40, maxDelay}, {1 << 20, maxDelay}, {0, time.Second},
	} {
		if got := jitterDelay(tc.n, maxDelay, func() float64 { return 0 }); got != 0 {
			t.Errorf("jitterDelay(%d) with rnd 0 = %v, want 0 (full jitter)", tc.n, got)
		}
		if got := jitterDelay(tc.n, maxDelay, func() float64 { return 0.999999999 }); got > tc.ceiling || got < tc.ceiling-time.Millisecond {
			t.Errorf("jitterDelay(%d) near the top = %v, want just under %v", tc.n, got, tc.ceiling)
		}
	}
}
