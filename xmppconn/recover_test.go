package xmppconn_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// TestSMRefusedEnableKeepsSession: the server answers <enable/> with
// <failed/>; the session stays CONNECTED, sending works, and stanzas are no
// longer counted (no <r/> although half of MaxUnacked is passed).
func TestSMRefusedEnableKeepsSession(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	d := &dialer{conns: []*xmpptest.FakeConn{f}, err: errRefused}
	cfg := recoverConfig(d)
	cfg.StreamManagement.MaxUnacked = 2
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	wait := server(t, func() {
		f.Send(xmpptest.BindResult(xmpptest.ID(t, serveLoginFeatures(t, f, featuresBindSM))))
	})
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	wait()
	f.Expect(t, "<enable xmlns='urn:xmpp:sm:3'")
	f.Send(smFailed)
	if got := pingSync(t, f, "p1"); len(got) != 0 {
		t.Errorf("client sent %q before the ping answer", got)
	}

	sendBodies(t, c, "one", "two", "three")
	got := pingSync(t, f, "p2")
	if len(got) != 3 {
		t.Fatalf("client sent %d elements, want the 3 messages: %q", len(got), got)
	}
	for i, body := range []string{"one", "two", "three"} {
		if !strings.HasPrefix(got[i], "<message") || !strings.Contains(got[i], "<body>"+body+"</body>") {
			t.Errorf("element %d = %s, want the message %q", i, got[i], body)
		}
	}
	if st := c.State(); st != events.StateConnected {
		t.Errorf("state = %v, want CONNECTED", st)
	}
	if err := c.Disconnect(context.Background()); err != nil {
		t.Errorf("Disconnect: %v", err)
	}
	xmpptest.Flush(t, c)
	want := []string{"state:CONNECTING", "state:CONNECTED", "established", "state:CLOSING", "state:CLOSED", "disconnected"}
	if diff := cmp.Diff(want, rec.Names()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestSMAnswersAckRequest: the server's <r/> gets <a h='N'/>, N counting the
// stanzas received after <enabled/> only.
func TestSMAnswersAckRequest(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	d := &dialer{conns: []*xmpptest.FakeConn{f}, err: errRefused}
	c := xmppconn.New(recoverConfig(d))
	wait := server(t, func() {
		f.Send(xmpptest.BindResult(xmpptest.ID(t, serveLoginFeatures(t, f, featuresBindSM))))
		f.Expect(t, "<enable xmlns='urn:xmpp:sm:3'")
	})
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer c.Disconnect(context.Background())
	wait()
	chat := `<message xmlns='jabber:client' from='peer@example.net/x' to='anon@example.net/r1' type='chat'><body>hi</body></message>`
	f.Send(chat) // before <enabled/>: not counted
	f.Send(smEnabled)
	for range 3 {
		f.Send(chat)
	}
	f.Send(smR)
	if got, want := f.Next(t), "<a xmlns='urn:xmpp:sm:3' h='3'/>"; got != want {
		t.Errorf("answer to <r/> = %s, want %s", got, want)
	}
	f.Send(chat)
	f.Send(`<presence xmlns='jabber:client' from='peer@example.net/x' to='anon@example.net/r1'/>`)
	f.Send(smR)
	if got, want := f.Next(t), "<a xmlns='urn:xmpp:sm:3' h='5'/>"; got != want {
		t.Errorf("answer to the second <r/> = %s, want %s", got, want)
	}
}

// TestRecoveryGivesUp: the session is lost and every later dial fails with
// a retryable error; after Attempts attempts the connection ends in FAILED
// with exactly one ConnectionFailed (droppedError).
func TestRecoveryGivesUp(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	d := &dialer{conns: []*xmpptest.FakeConn{f}, err: errRefused}
	c := xmppconn.New(recoverConfig(d))
	rec := xmpptest.Record(c)
	wait := server(t, func() { f.Send(xmpptest.BindResult(f.ServeLogin(t))) })
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	wait()
	close(f.ToClient) // the server goes away without a stream error
	rec.WaitFor(t, 10*time.Second, "ConnectionFailed", isType(events.ConnectionFailed))
	_ = c.Disconnect(context.Background()) // FAILED: only waits for the loops
	xmpptest.Flush(t, c)

	want := []string{"state:CONNECTING", "state:CONNECTED", "established",
		"state:DISCONNECTED", "state:RECONNECTING",
		"state:DISCONNECTED", "state:RECONNECTING",
		"state:DISCONNECTED", "state:RECONNECTING",
		"state:FAILED", "failed:connection.droppedError"}
	if diff := cmp.Diff(want, rec.Names()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if n := d.count() - 1; n != 3 {
		t.Errorf("%d dial attempts after the loss, want 3", n)
	}
	fs := rec.Failures()
	if len(fs) != 1 {
		t.Fatalf("%d ConnectionFailed events, want 1", len(fs))
	}
	var oe *net.OpError
	if !errors.As(fs[0], &oe) {
		t.Errorf("failure %v does not wrap the last dial error", fs[0])
	}
	if c.State() != events.StateFailed {
		t.Errorf("state = %v, want FAILED", c.State())
	}
}

// TestRecoveryNotForFatalLoss: a stream error that will not heal (conflict)
// ends the session at once: DISCONNECTED, FAILED, and no dial.
func TestRecoveryNotForFatalLoss(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	d := &dialer{conns: []*xmpptest.FakeConn{f, xmpptest.NewFakeConn()}, err: errRefused}
	c := xmppconn.New(recoverConfig(d))
	rec := xmpptest.Record(c)
	wait := server(t, func() { f.Send(xmpptest.BindResult(f.ServeLogin(t))) })
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	wait()
	f.Send(`<stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>`)
	rec.WaitFor(t, 10*time.Second, "ConnectionFailed", isType(events.ConnectionFailed))
	_ = c.Disconnect(context.Background())
	xmpptest.Flush(t, c)
	want := []string{"state:CONNECTING", "state:CONNECTED", "established",
		"state:DISCONNECTED", "state:FAILED", "failed:connection.droppedError"}
	if diff := cmp.Diff(want, rec.Names()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if n := d.count(); n != 1 {
		t.Errorf("%d dials, want only the first", n)
	}
	if fs := rec.Failures(); len(fs) != 1 || fs[0].Details.Condition != "conflict" {
		t.Errorf("failures = %+v, want one with condition conflict", fs)
	}
}

// TestDisconnectCancelsRecoveryDelay: Disconnect during the wait before a
// recovery attempt returns at once, and no attempt is made.
func TestDisconnectCancelsRecoveryDelay(t *testing.T) {
	xmpptest.NoLeaks(t)
	f := xmpptest.NewFakeConn()
	d := &dialer{conns: []*xmpptest.FakeConn{f, xmpptest.NewFakeConn()}, err: errRefused}
	cfg := recoverConfig(d)
	delayed := make(chan int, 1)
	cfg.Reconnect.Delay = func(n int) time.Duration {
		delayed <- n
		return time.Hour
	}
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	wait := server(t, func() { f.Send(xmpptest.BindResult(f.ServeLogin(t))) })
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	wait()
	close(f.ToClient)
	select {
	case n := <-delayed:
		if n != 1 {
			t.Errorf("first delay asked for attempt %d", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("recovery never asked for its delay")
	}
	// The delay is asked for before DISCONNECTED is entered (the event
	// names it): wait for the state, then interrupt the wait.
	rec.WaitFor(t, 10*time.Second, "DISCONNECTED", isState(events.StateDisconnected))

	done := make(chan error, 1)
	go func() { done <- c.Disconnect(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Disconnect: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Disconnect did not cancel the recovery delay")
	}
	xmpptest.Flush(t, c)
	want := []string{"state:CONNECTING", "state:CONNECTED", "established",
		"state:DISCONNECTED", "state:CLOSING", "state:CLOSED", "disconnected"}
	if diff := cmp.Diff(want, rec.Names()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if n := d.count(); n != 1 {
		t.Errorf("%d dials, want only the first", n)
	}
	if len(rec.Failures()) != 0 {
		t.Errorf("ConnectionFailed after Disconnect: %+v", rec.Failures())
	}
}

// loseWithUnacked connects over f with stream management, receives two
// stanzas from the server, sends three messages, gets h=1 for them, and
// loses the stream.
func loseWithUnacked(t *testing.T, c *xmppconn.Connection, f *xmpptest.FakeConn) {
	t.Helper()
	wait := server(t, func() {
		f.Send(xmpptest.BindResult(xmpptest.ID(t, serveLoginFeatures(t, f, featuresBindSM))))
		f.Expect(t, "<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
	})
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	wait()
	// <enabled/> once the session is up (TestSMAnswerBeforeGoLive covers
	// an answer that comes sooner).
	f.Send(smEnabled)
	chat := `<message xmlns='jabber:client' from='peer@example.net/x' to='anon@example.net/r1' type='chat'><body>in</body></message>`
	f.Send(chat)
	f.Send(chat)
	sendBodies(t, c, "one", "two", "three")
	for _, b := range []string{"one", "two", "three"} {
		expectBody(t, f, b)
	}
	f.Send(`<a xmlns='urn:xmpp:sm:3' h='1'/>`)
	close(f.ToClient) // lost without a stream error: retried
}

// TestResumeResendsUnacked: the lost session is resumed on a new stream:
// <resume previd='sm1' h='2'/>, ConnectionEstablished with Resumed and the
// same JID, and exactly the stanza the server had not acknowledged is sent
// again.
func TestResumeResendsUnacked(t *testing.T) {
	xmpptest.NoLeaks(t)
	f1, f2 := xmpptest.NewFakeConn(), xmpptest.NewFakeConn()
	d := &dialer{conns: []*xmpptest.FakeConn{f1, f2}, err: errRefused}
	c := xmppconn.New(recoverConfig(d))
	rec := xmpptest.Record(c)
	defer c.Disconnect(context.Background())
	var resume string
	wait := server(t, func() {
		serveAuth(t, f2)
		f2.Send(featuresBindSM)
		resume = f2.Expect(t, "<resume ")
		f2.Send(`<resumed xmlns='urn:xmpp:sm:3' previd='sm1' h='2'/>`)
	})
	loseWithUnacked(t, c, f1)
	wait()
	if want := "<resume xmlns='urn:xmpp:sm:3' previd='sm1' h='2'/>"; resume != want {
		t.Errorf("client sent %s, want %s", resume, want)
	}
	ev := rec.WaitForNth(t, 10*time.Second, "second ConnectionEstablished", 2, isType(events.ConnectionEstablished))
	if want := (events.Established{ID: "r1", JID: "anon@example.net/r1", Resumed: true}); ev != want {
		t.Errorf("established = %+v, want %+v", ev, want)
	}
	expectBody(t, f2, "three")
	// The inbound count goes on from the old stream.
	f2.Send(smR)
	if got, want := f2.Next(t), "<a xmlns='urn:xmpp:sm:3' h='2'/>"; got != want {
		t.Errorf("answer to <r/> = %s, want %s", got, want)
	}
	if got := pingSync(t, f2, "p1"); len(got) != 0 {
		t.Errorf("client sent more after the unacked stanza: %q", got)
	}
	xmpptest.Flush(t, c)
	want := []string{"state:CONNECTING", "state:CONNECTED", "established",
		"state:DISCONNECTED", "state:RECONNECTING", "state:CONNECTED", "established"}
	if diff := cmp.Diff(want, rec.Names()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if got := c.JID().String(); got != "anon@example.net/r1" {
		t.Errorf("JID = %q after resume", got)
	}
}

// TestResumeFailedFallsBackToBind: the server cannot resume (<failed/>);
// the client binds a new session on the same stream and sends the
// unacknowledged messages again, each with an XEP-0203 delay.
func TestResumeFailedFallsBackToBind(t *testing.T) {
	xmpptest.NoLeaks(t)
	f1, f2 := xmpptest.NewFakeConn(), xmpptest.NewFakeConn()
	d := &dialer{conns: []*xmpptest.FakeConn{f1, f2}, err: errRefused}
	c := xmppconn.New(recoverConfig(d))
	rec := xmpptest.Record(c)
	defer c.Disconnect(context.Background())
	var bind string
	wait := server(t, func() {
		serveAuth(t, f2)
		f2.Send(featuresBindSM)
		f2.Expect(t, "<resume ")
		f2.Send(smFailed)
		bind = f2.Expect(t, "urn:ietf:params:xml:ns:xmpp-bind")
		f2.Send(xmpptest.BindResult(xmpptest.ID(t, bind)))
		f2.Expect(t, "<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
	})
	loseWithUnacked(t, c, f1)
	wait()
	if !strings.Contains(bind, "<resource>r1</resource>") {
		t.Errorf("bind %s does not ask for the old resource", bind)
	}
	ev := rec.WaitForNth(t, 10*time.Second, "second ConnectionEstablished", 2, isType(events.ConnectionEstablished))
	if want := (events.Established{ID: "r1", JID: "anon@example.net/r1", Resumed: false}); ev != want {
		t.Errorf("established = %+v, want %+v", ev, want)
	}
	for _, b := range []string{"two", "three"} {
		if e := expectBody(t, f2, b); !strings.Contains(e, "<delay xmlns='urn:xmpp:delay' stamp='") {
			t.Errorf("re-sent %s without an XEP-0203 delay", e)
		}
	}
	if got := pingSync(t, f2, "p1"); len(got) != 0 {
		t.Errorf("client sent more after the unacked stanzas: %q", got)
	}
	xmpptest.Flush(t, c)
	want := []string{"state:CONNECTING", "state:CONNECTED", "established",
		"state:DISCONNECTED", "state:RECONNECTING", "state:CONNECTED", "established"}
	if diff := cmp.Diff(want, rec.Names()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestResumeAfterFailedDial: the first recovery attempt cannot even dial
// (the network is still down); the server still holds the session, so the
// next attempt must try <resume/> again rather than bind a new session.
func TestResumeAfterFailedDial(t *testing.T) {
	xmpptest.NoLeaks(t)
	f1, f3 := xmpptest.NewFakeConn(), xmpptest.NewFakeConn()
	d := &dialer{conns: []*xmpptest.FakeConn{f1, nil, f3}, err: errRefused}
	c := xmppconn.New(recoverConfig(d))
	rec := xmpptest.Record(c)
	defer c.Disconnect(context.Background())
	var sent string
	wait := server(t, func() {
		serveAuth(t, f3)
		f3.Send(featuresBindSM)
		sent = f3.Next(t)
		if strings.HasPrefix(sent, "<resume ") {
			f3.Send(`<resumed xmlns='urn:xmpp:sm:3' previd='sm1' h='2'/>`)
		} else {
			f3.Send(xmpptest.BindResult(xmpptest.ID(t, sent)))
		}
	})
	loseWithUnacked(t, c, f1)
	wait()
	if want := "<resume xmlns='urn:xmpp:sm:3' previd='sm1' h='2'/>"; sent != want {
		t.Errorf("after a failed dial the client sent %s, want %s", sent, want)
	}
	ev := rec.WaitForNth(t, 10*time.Second, "second ConnectionEstablished", 2, isType(events.ConnectionEstablished))
	if !ev.(events.Established).Resumed {
		t.Errorf("established = %+v, want Resumed", ev)
	}
}

// TestSendQueuedWhileDown: while the session is down (here: a recovery
// attempt waits for its dial), Send queues up to
// QueueLimit stanzas and refuses more with ErrQueueFull; the queued ones go
// out, in order, once the session is back.
func TestSendQueuedWhileDown(t *testing.T) {
	xmpptest.NoLeaks(t)
	f1, f2 := xmpptest.NewFakeConn(), xmpptest.NewFakeConn()
	d := &dialer{conns: []*xmpptest.FakeConn{f1, f2}, err: errRefused}
	cfg := recoverConfig(d)
	cfg.QueueLimit = 2
	gate := make(chan struct{})
	d.gate = gate
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	defer c.Disconnect(context.Background())
	opened := false
	defer func() {
		if !opened {
			close(gate)
		}
	}()
	wait := server(t, func() { f1.Send(xmpptest.BindResult(f1.ServeLogin(t))) })
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	wait()
	close(f1.ToClient)
	rec.WaitFor(t, 10*time.Second, "RECONNECTING", isState(events.StateReconnecting))
	if st := c.State(); st != events.StateReconnecting {
		t.Errorf("state while the attempt waits = %v, want RECONNECTING", st)
	}
	sendBodies(t, c, "q1", "q2")
	if err := xmpptest.SendBody(xmpptest.Context(t), c, c.JID().Bare(), "q3"); !errors.Is(err, xmppconn.ErrQueueFull) {
		t.Errorf("third Send while down = %v, want ErrQueueFull", err)
	}

	wait = server(t, func() { f2.Send(xmpptest.BindResult(f2.ServeLogin(t))) })
	opened = true
	close(gate)
	wait()
	rec.WaitForNth(t, 10*time.Second, "second CONNECTED", 2, isState(events.StateConnected))
	expectBody(t, f2, "q1")
	expectBody(t, f2, "q2")
	if got := pingSync(t, f2, "p1"); len(got) != 0 {
		t.Errorf("client sent more than the queue: %q", got)
	}
}

// TestSendQueueFullConcurrent: senders racing for the last places of the
// queue while the session is down. Every Send that returns nil must have
// its stanza sent once the session is back; the others get ErrQueueFull.
// (A check-then-send race loses stanzas silently here; with the race, this
// test fails most runs, without it, never.)
func TestSendQueueFullConcurrent(t *testing.T) {
	xmpptest.NoLeaks(t)
	f1, f2 := xmpptest.NewFakeConn(), xmpptest.NewFakeConn()
	d := &dialer{conns: []*xmpptest.FakeConn{f1, f2}, err: errRefused}
	cfg := recoverConfig(d)
	cfg.QueueLimit = 3
	gate := make(chan struct{})
	d.gate = gate
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	defer c.Disconnect(context.Background())
	opened := false
	defer func() {
		if !opened {
			close(gate)
		}
	}()
	wait := server(t, func() { f1.Send(xmpptest.BindResult(f1.ServeLogin(t))) })
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	wait()
	close(f1.ToClient)
	rec.WaitFor(t, 10*time.Second, "RECONNECTING", isState(events.StateReconnecting))

	const senders = 40
	var (
		wg       sync.WaitGroup
		accepted atomic.Int32
		start    = make(chan struct{})
		peer     = c.JID().Bare()
	)
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			switch err := xmpptest.SendBody(context.Background(), c, peer, "q"); {
			case err == nil:
				accepted.Add(1)
			case !errors.Is(err, xmppconn.ErrQueueFull):
				t.Errorf("Send while down = %v, want nil or ErrQueueFull", err)
			}
		}()
	}
	close(start)
	wg.Wait()

	wait = server(t, func() { f2.Send(xmpptest.BindResult(f2.ServeLogin(t))) })
	opened = true
	close(gate)
	wait()
	rec.WaitForNth(t, 10*time.Second, "second CONNECTED", 2, isState(events.StateConnected))
	sent := pingSync(t, f2, "p1")
	if int(accepted.Load()) != len(sent) || len(sent) > cfg.QueueLimit {
		t.Errorf("%d Sends returned nil, %d stanzas went out (QueueLimit %d)", accepted.Load(), len(sent), cfg.QueueLimit)
	}
}

// TestDisconnectDuringRecoveryAttempt: Disconnect while an attempt waits
// on a silent server cancels it: CLOSING, CLOSED, no ConnectionFailed.
func TestDisconnectDuringRecoveryAttempt(t *testing.T) {
	xmpptest.NoLeaks(t)
	f1, f2 := xmpptest.NewFakeConn(), xmpptest.NewFakeConn()
	d := &dialer{conns: []*xmpptest.FakeConn{f1, f2}, err: errRefused}
	c := xmppconn.New(recoverConfig(d))
	rec := xmpptest.Record(c)
	wait := server(t, func() { f1.Send(xmpptest.BindResult(f1.ServeLogin(t))) })
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	wait()
	close(f1.ToClient)
	select {
	case <-f2.Opens: // the attempt is under way; the server stays silent
	case <-time.After(10 * time.Second):
		t.Fatal("no recovery attempt")
	}
	done := make(chan error, 1)
	go func() { done <- c.Disconnect(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Disconnect: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Disconnect did not cancel the recovery attempt")
	}
	xmpptest.Flush(t, c)
	want := []string{"state:CONNECTING", "state:CONNECTED", "established",
		"state:DISCONNECTED", "state:RECONNECTING", "state:CLOSING", "state:CLOSED", "disconnected"}
	if diff := cmp.Diff(want, rec.Names()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if n := d.count(); n != 2 {
		t.Errorf("%d dials, want 2", n)
	}
}

// TestResumeUnansweredThenFresh: a server that takes <resume/> and never
// answers it (Prosody 0.12 over BOSH) fails the attempt after the resume
// timeout; the next attempt binds a new session instead of resuming again.
func TestResumeUnansweredThenFresh(t *testing.T) {
	xmpptest.NoLeaks(t)
	f1, f2, f3 := xmpptest.NewFakeConn(), xmpptest.NewFakeConn(), xmpptest.NewFakeConn()
	d := &dialer{conns: []*xmpptest.FakeConn{f1, f2, f3}, err: errRefused}
	cfg := recoverConfig(d)
	cfg.Ping.Timeout = 100 * time.Millisecond // bounds the wait for <resumed/>
	c := xmppconn.New(cfg)
	rec := xmpptest.Record(c)
	defer c.Disconnect(context.Background())
	var first string
	wait := server(t, func() {
		serveAuth(t, f2)
		f2.Send(featuresBindSM)
		f2.Expect(t, "<resume ") // and no answer
		serveAuth(t, f3)
		f3.Send(featuresBindSM)
		first = f3.Next(t)
		f3.Send(xmpptest.BindResult(xmpptest.ID(t, first)))
		f3.Expect(t, "<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
	})
	loseWithUnacked(t, c, f1)
	wait()
	if !strings.Contains(first, "urn:ietf:params:xml:ns:xmpp-bind") {
		t.Errorf("after an unanswered resume the client sent %s, want a bind request", first)
	}
	ev := rec.WaitForNth(t, 10*time.Second, "second ConnectionEstablished", 2, isType(events.ConnectionEstablished))
	if ev.(events.Established).Resumed {
		t.Errorf("established = %+v, want a new session", ev)
	}
	for _, b := range []string{"two", "three"} {
		if e := expectBody(t, f3, b); !strings.Contains(e, "<delay xmlns='urn:xmpp:delay'") {
			t.Errorf("re-sent %s without an XEP-0203 delay", e)
		}
	}
	xmpptest.Flush(t, c)
	want := []string{"state:CONNECTING", "state:CONNECTED", "established",
		"state:DISCONNECTED", "state:RECONNECTING",
		"state:DISCONNECTED", "state:RECONNECTING", "state:CONNECTED", "established"}
	if diff := cmp.Diff(want, rec.Names()); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// TestSMAnswerBeforeGoLive: the server answers <enable/> at once, so its
// answer may be read before the client has set up the new stream's
// outbound bookkeeping. The answer must hold whatever the order: after
// <enabled resume='true'/> a lost session is resumed; after a refusal
// (<failed/>) no stanza is counted and no <r/> is sent. The order is up to
// the scheduler, so each case repeats the race.
func TestSMAnswerBeforeGoLive(t *testing.T) {
	t.Run("failed", func(t *testing.T) {
		xmpptest.NoLeaks(t)
		for i := range 500 {
			f := xmpptest.NewFakeConn()
			cfg := recoverConfig(&dialer{conns: []*xmpptest.FakeConn{f}, err: errRefused})
			cfg.StreamManagement.MaxUnacked = 1
			c := xmppconn.New(cfg)
			wait := server(t, func() {
				f.Send(xmpptest.BindResult(xmpptest.ID(t, serveLoginFeatures(t, f, featuresBindSM))))
				f.Expect(t, "<enable xmlns='urn:xmpp:sm:3'")
				f.Send(smFailed)
			})
			if err := c.Connect(xmpptest.Context(t)); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			wait()
			pingSync(t, f, "p1")
			sendBodies(t, c, "one")
			got := pingSync(t, f, "p2")
			_ = c.Disconnect(context.Background())
			if len(got) != 1 {
				t.Fatalf("round %d: after a refused <enable/> the client sent %q, want only the message", i, got)
			}
		}
	})
	t.Run("enabled", func(t *testing.T) {
		xmpptest.NoLeaks(t)
		for i := range 200 {
			f1, f2 := xmpptest.NewFakeConn(), xmpptest.NewFakeConn()
			c := xmppconn.New(recoverConfig(&dialer{conns: []*xmpptest.FakeConn{f1, f2}, err: errRefused}))
			wait := server(t, func() { serveSMLogin(t, f1) }) // <enabled/> right behind <enable/>
			if err := c.Connect(xmpptest.Context(t)); err != nil {
				t.Fatalf("Connect: %v", err)
			}
			wait()
			pingSync(t, f1, "p1")
			var sent string
			wait = server(t, func() {
				serveAuth(t, f2)
				f2.Send(featuresBindSM)
				sent = f2.Next(t)
			})
			close(f1.ToClient)
			wait()
			_ = c.Disconnect(context.Background())
			if !strings.HasPrefix(sent, "<resume ") {
				t.Fatalf("round %d: the client sent %s on the new stream, want <resume/>", i, sent)
			}
		}
	})
}
