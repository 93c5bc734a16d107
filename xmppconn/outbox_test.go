package xmppconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/transport"
)

// wireRec is a transport.Conn that records the elements written to it and
// can be told to fail writes. Only WriteElement is used by the outbox.
type wireRec struct {
	mu     sync.Mutex
	writes []string
	fail   error // returned by WriteElement when set
}

func (w *wireRec) Open(context.Context, bool) (transport.Header, error) {
	return transport.Header{}, nil
}
func (w *wireRec) ReadElement(context.Context) ([]byte, error) { return nil, transport.ErrClosed }
func (w *wireRec) Close(context.Context) error                 { return nil }
func (w *wireRec) Abort()                                      {}
func (w *wireRec) ConnectionState() (tls.ConnectionState, bool) {
	return tls.ConnectionState{}, false
}
func (w *wireRec) Status() transport.Status { return transport.Status{} }

func (w *wireRec) WriteElement(_ context.Context, elem []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail != nil {
		return w.fail
	}
	w.writes = append(w.writes, string(elem))
	return nil
}

// got returns the elements written so far.
func (w *wireRec) got() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

func (w *wireRec) failWith(err error) {
	w.mu.Lock()
	w.fail = err
	w.mu.Unlock()
}

// msg returns a distinct message stanza.
func msg(i int) string {
	return fmt.Sprintf("<message xmlns='jabber:client' to='peer@example.net' id='m%d'><body>%d</body></message>", i, i)
}

// testPolicy is a stream management policy of maxUnacked stanzas whose
// timers never fire during a test: the idle and delayed requests are
// tested by calling the timer's function.
func testPolicy(maxUnacked int) StreamManagementConfig {
	return StreamManagementConfig{MaxUnacked: maxUnacked, MaxUnackedBytes: 1 << 30,
		RequestIdle: time.Hour, RequestMaxDelay: time.Hour}
}

// liveOutbox returns an outbox on a live stream, counting stanzas when sm,
// with at most maxUnacked unacknowledged.
func liveOutbox(maxUnacked, limit int, sm bool) (*outbox, *wireRec) {
	o := &outbox{}
	o.configure(testPolicy(maxUnacked), limit)
	w := &wireRec{}
	o.fresh(w, sm, "me@example.net/r")
	return o, w
}

func mustSend(t *testing.T, o *outbox, elems ...string) {
	t.Helper()
	for _, e := range elems {
		if err := o.send([]byte(e)); err != nil {
			t.Fatalf("send(%s): %v", e, err)
		}
	}
}

// unackedOf returns the stanzas waiting for an acknowledgement.
func unackedOf(o *outbox) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, s := range o.unacked {
		out = append(out, string(s.elem))
	}
	return out
}

func countR(writes []string) int {
	n := 0
	for _, w := range writes {
		if w == smRequest {
			n++
		}
	}
	return n
}

func TestOutboxAckWrapsAt2To32(t *testing.T) {
	o, _ := liveOutbox(100, 10, true)
	o.mu.Lock()
	o.acked = 1<<32 - 3 // the counter is about to wrap
	o.mu.Unlock()
	var sent []string
	for i := 1; i <= 6; i++ {
		sent = append(sent, msg(i))
	}
	mustSend(t, o, sent...)

	// 2^32-3 + 4 = 1 (mod 2^32): the first four are acknowledged.
	if err := o.ack(1); err != nil {
		t.Fatalf("ack(1): %v", err)
	}
	if diff := cmp.Diff(sent[4:], unackedOf(o)); diff != "" {
		t.Errorf("unacked after wrapped ack (-want +got):\n%s", diff)
	}
	if err := o.ack(3); err != nil {
		t.Fatalf("ack(3): %v", err)
	}
	if u, q := o.pending(); u != 0 || q != 0 {
		t.Errorf("pending = %d unacked, %d queued; want none", u, q)
	}
}

func TestOutboxAckBookkeeping(t *testing.T) {
	o, _ := liveOutbox(100, 10, true)
	sent := []string{msg(1), msg(2), msg(3), msg(4)}
	mustSend(t, o, sent...)

	steps := []struct {
		h    uint32
		want []string
	}{
		{0, sent},     // nothing new
		{1, sent[1:]}, // releases in order, from the oldest
		{1, sent[1:]}, // a repeated h releases nothing
		{3, sent[3:]},
		{2, sent[3:]}, // an older h (modulo 2^32) is ignored
		{4, nil},
	}
	for _, s := range steps {
		if err := o.ack(s.h); err != nil {
			t.Fatalf("ack(%d): %v", s.h, err)
		}
		if diff := cmp.Diff(s.want, unackedOf(o)); diff != "" {
			t.Errorf("after ack(%d) (-want +got):\n%s", s.h, diff)
		}
	}
}

func TestOutboxAckMoreThanSent(t *testing.T) {
	o, _ := liveOutbox(100, 10, true)
	mustSend(t, o, msg(1), msg(2))
	err := o.ack(5)
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("ack(5) after 2 stanzas = %v, want *ProtocolError", err)
	}
	if u, _ := o.pending(); u != 0 {
		t.Errorf("%d stanzas still unacked, want all released", u)
	}
	// The server's count is adopted: the next stanza is acknowledged by h=6.
	mustSend(t, o, msg(3))
	if err := o.ack(6); err != nil {
		t.Fatalf("ack(6): %v", err)
	}
	if u, _ := o.pending(); u != 0 {
		t.Errorf("%d stanzas still unacked after ack(6)", u)
	}
}

// TestOutboxRequestsAtHalfBound: an <r/> goes out each time half of
// MaxUnacked stanzas were sent since the last one, not before; at the
// bound a stanza is held until an ack makes room.
func TestOutboxRequestsAtHalfBound(t *testing.T) {
	o, w := liveOutbox(6, 10, true)
	for i := 1; i <= 7; i++ {
		mustSend(t, o, msg(i))
	}
	want := []string{msg(1), msg(2), msg(3), smRequest, msg(4), msg(5), msg(6), smRequest}
	if diff := cmp.Diff(want, w.got()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	if u, q := o.pending(); u != 6 || q != 1 {
		t.Errorf("pending = %d unacked, %d held; want 6, 1", u, q)
	}
	o.noteAck(3)
	o.ackTimerFired() // or the next send
	want = append(want, msg(7))
	if diff := cmp.Diff(want, w.got()); diff != "" {
		t.Errorf("writes after the ack (-want +got):\n%s", diff)
	}
	if u, q := o.pending(); u != 4 || q != 0 {
		t.Errorf("pending = %d unacked, %d held; want 4, 0", u, q)
	}
	o.reset()
}

// TestOutboxRequestsAtHalfBytes: the byte bound asks like the stanza bound.
func TestOutboxRequestsAtHalfBytes(t *testing.T) {
	o := &outbox{}
	p := testPolicy(1000)
	p.MaxUnackedBytes = 4 * len(msg(1)) // a request every second message
	o.configure(p, 10)
	w := &wireRec{}
	o.fresh(w, true, "me@example.net/r")
	mustSend(t, o, msg(1), msg(2), msg(3))
	want := []string{msg(1), msg(2), smRequest, msg(3)}
	if diff := cmp.Diff(want, w.got()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
}

// TestOutboxRequestTimer: the timer asks for an ack once the stanzas
// paused for RequestIdle, or once the first one not asked for waited
// RequestMaxDelay; otherwise it asks nothing and is armed again. Time is
// moved by setting when the stanzas were sent.
func TestOutboxRequestTimer(t *testing.T) {
	cases := []struct {
		name                  string
		sinceLast, sinceFirst time.Duration
		wantR                 bool
	}{
		{"still flowing", time.Millisecond, 2 * time.Millisecond, false},
		{"paused", time.Minute, time.Minute, true},
		{"flowing past the maximum delay", time.Millisecond, time.Hour, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := &outbox{}
			p := testPolicy(100)
			p.RequestIdle, p.RequestMaxDelay = 30*time.Second, 50*time.Minute
			o.configure(p, 10)
			w := &wireRec{}
			o.fresh(w, true, "me@example.net/r")
			mustSend(t, o, msg(1), msg(2))
			o.mu.Lock()
			if o.timerDue.IsZero() {
				t.Error("no timer armed with stanzas not asked for")
			}
			now := time.Now()
			o.lastSend, o.firstUnreq = now.Add(-tc.sinceLast), now.Add(-tc.sinceFirst)
			o.mu.Unlock()
			o.ackTimerFired()
			want := []string{msg(1), msg(2)}
			if tc.wantR {
				want = append(want, smRequest)
			}
			if diff := cmp.Diff(want, w.got()); diff != "" {
				t.Errorf("writes (-want +got):\n%s", diff)
			}
			o.mu.Lock()
			armed := !o.timerDue.IsZero()
			o.mu.Unlock()
			if armed == tc.wantR {
				t.Errorf("timer armed = %v after the check, want %v", armed, !tc.wantR)
			}
			o.reset()
		})
	}
}

func TestOutboxQueueBound(t *testing.T) {
	o := &outbox{}
	o.configure(testPolicy(10), 2)
	mustSend(t, o, msg(1), msg(2))
	if err := o.send([]byte(msg(3))); !errors.Is(err, ErrQueueFull) {
		t.Errorf("third send while down = %v, want ErrQueueFull", err)
	}
	if u, q := o.pending(); u != 0 || q != 2 {
		t.Errorf("pending = %d unacked, %d queued; want 0, 2", u, q)
	}
	w := &wireRec{}
	o.fresh(w, false, "me@example.net/r")
	if diff := cmp.Diff([]string{msg(1), msg(2)}, w.got()); diff != "" {
		t.Errorf("queue flushed (-want +got):\n%s", diff)
	}
}

func TestOutboxResumedSendsTailThenQueue(t *testing.T) {
	o, _ := liveOutbox(100, 10, true)
	mustSend(t, o, msg(1), msg(2), msg(3), msg(4))
	if err := o.ack(1); err != nil {
		t.Fatal(err)
	}
	o.down()
	mustSend(t, o, msg(5), msg(6)) // queued while down

	w := &wireRec{}
	if err := o.resumed(w, 2); err != nil {
		t.Fatalf("resumed: %v", err)
	}
	want := []string{msg(3), msg(4), msg(5), msg(6)}
	if diff := cmp.Diff(want, w.got()); diff != "" {
		t.Errorf("writes after resume (-want +got):\n%s", diff)
	}
	// Still counted on the resumed stream: all four wait for an ack.
	if diff := cmp.Diff(want, unackedOf(o)); diff != "" {
		t.Errorf("unacked after resume (-want +got):\n%s", diff)
	}
	if err := o.ack(6); err != nil {
		t.Fatal(err)
	}
	if u, q := o.pending(); u != 0 || q != 0 {
		t.Errorf("pending = %d, %d after ack(6)", u, q)
	}
}

func TestOutboxFreshDelaysMessagesOnly(t *testing.T) {
	o, _ := liveOutbox(100, 10, true)
	iq := "<iq xmlns='jabber:client' type='get' id='i1' to='example.net'><query xmlns='jabber:iq:version'/></iq>"
	pres := "<presence xmlns='jabber:client' to='room@conf.example.net/me'/>"
	before := time.Now()
	mustSend(t, o, msg(1), iq, pres, msg(2))
	after := time.Now()
	if err := o.ack(1); err != nil {
		t.Fatal(err)
	}
	o.down()
	mustSend(t, o, msg(3))

	w := &wireRec{}
	o.fresh(w, true, "me@example.net/r2")
	got := w.got()
	if len(got) != 4 {
		t.Fatalf("fresh wrote %d elements, want 4: %q", len(got), got)
	}
	if got[0] != iq || got[1] != pres {
		t.Errorf("iq and presence re-sent as %q, %q; want unchanged", got[0], got[1])
	}
	checkDelayed(t, got[2], msg(2), before, after, "me@example.net/r2")
	if got[3] != msg(3) {
		t.Errorf("queued stanza sent as %q, want %q unchanged", got[3], msg(3))
	}
	// The new stream counts from zero: all four wait for its acks.
	if err := o.ack(4); err != nil {
		t.Errorf("ack(4) on the new stream: %v", err)
	}
}

// checkDelayed checks that got is orig with one XEP-0203 delay stamped
// between before and after.
func checkDelayed(t *testing.T, got, orig string, before, after time.Time, from string) {
	t.Helper()
	i := strings.Index(got, "<delay xmlns='urn:xmpp:delay' stamp='")
	if i < 0 {
		t.Errorf("%q has no <delay/>", got)
		return
	}
	if n := strings.Count(got, "<delay "); n != 1 {
		t.Errorf("%q has %d <delay/> elements, want 1", got, n)
	}
	rest := got[i+len("<delay xmlns='urn:xmpp:delay' stamp='"):]
	stamp, err := time.Parse("2006-01-02T15:04:05.000Z", rest[:strings.IndexByte(rest, '\'')])
	if err != nil {
		t.Errorf("delay stamp: %v", err)
	} else if stamp.Before(before.Truncate(time.Millisecond)) || stamp.After(after) {
		t.Errorf("delay stamp %v not within [%v, %v]", stamp, before, after)
	}
	if !strings.Contains(got, "from='"+from+"'") {
		t.Errorf("%q: delay without from=%q", got, from)
	}
	end := strings.Index(got[i:], "/>")
	if without := got[:i] + got[i+end+2:]; without != orig {
		t.Errorf("without the delay: %q, want %q", without, orig)
	}
}

// TestOutboxFreshTwiceOneDelay: a message re-sent on two fresh sessions in
// a row carries one delay, not one per session.
func TestOutboxFreshTwiceOneDelay(t *testing.T) {
	o, _ := liveOutbox(100, 10, true)
	before := time.Now()
	mustSend(t, o, msg(1))
	after := time.Now()
	o.down()
	o.fresh(&wireRec{}, true, "me@example.net/r")
	o.down()
	w := &wireRec{}
	o.fresh(w, true, "me@example.net/r")
	got := w.got()
	if len(got) != 1 {
		t.Fatalf("second fresh wrote %q, want the one message", got)
	}
	checkDelayed(t, got[0], msg(1), before, after, "me@example.net/r")
}

func TestOutboxRefusedStopsCounting(t *testing.T) {
	o, w := liveOutbox(1, 10, true)
	mustSend(t, o, msg(1))
	o.refused()
	if u, _ := o.pending(); u != 0 {
		t.Errorf("%d unacked after refused, want 0", u)
	}
	mustSend(t, o, msg(2), msg(3))
	o.ackTimerFired()
	want := []string{msg(1), smRequest, msg(2), msg(3)}
	if diff := cmp.Diff(want, w.got()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	if u, q := o.pending(); u != 0 || q != 0 {
		t.Errorf("pending = %d, %d after refused; want none", u, q)
	}
	if id := o.resumeID(); id != "" {
		t.Errorf("resumeID = %q after refused", id)
	}
}

func TestOutboxWriteErrorKeepsStanza(t *testing.T) {
	t.Run("without sm: queued", func(t *testing.T) {
		o, w := liveOutbox(100, 10, false)
		w.failWith(transport.ErrClosed)
		if err := o.send([]byte(msg(1))); err != nil {
			t.Fatalf("send on a failing stream = %v, want nil (kept)", err)
		}
		mustSend(t, o, msg(2)) // the stream is down now: queued after it
		if u, q := o.pending(); u != 0 || q != 2 {
			t.Fatalf("pending = %d unacked, %d queued; want 0, 2", u, q)
		}
		w2 := &wireRec{}
		o.fresh(w2, false, "me@example.net/r")
		if diff := cmp.Diff([]string{msg(1), msg(2)}, w2.got()); diff != "" {
			t.Errorf("re-sent (-want +got):\n%s", diff)
		}
	})
	t.Run("with sm: unacked", func(t *testing.T) {
		o, w := liveOutbox(100, 10, true)
		w.failWith(transport.ErrClosed)
		mustSend(t, o, msg(1), msg(2))
		if u, q := o.pending(); u != 1 || q != 1 {
			t.Fatalf("pending = %d unacked, %d queued; want 1, 1", u, q)
		}
		w2 := &wireRec{}
		if err := o.resumed(w2, 0); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{msg(1), msg(2)}, w2.got()); diff != "" {
			t.Errorf("re-sent on resume (-want +got):\n%s", diff)
		}
	})
}

func TestOutboxEnabledResumeID(t *testing.T) {
	cases := []struct {
		id        string
		resumable bool
		want      string
	}{
		{"sm1", true, "sm1"},
		{"sm1", false, ""},
		{"", true, ""},
	}
	for _, tc := range cases {
		o, _ := liveOutbox(5, 10, true)
		o.enabled(tc.id, tc.resumable)
		if got := o.resumeID(); got != tc.want {
			t.Errorf("enabled(%q, %v): resumeID = %q, want %q", tc.id, tc.resumable, got, tc.want)
		}
	}
}
