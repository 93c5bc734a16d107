package xmppconn_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// TestResumeCountsOnlyTaken: a stream lost while a stanza waits for room
// in the Handler's queue counts, in the h of its <resume/>, only what the
// Handler's queue took, so that the server sends the waiting stanza again.
// Counting it on arrival and dropping it with the stream would lose it for
// good: the server, told it arrived, never sends it again.
func TestResumeCountsOnlyTaken(t *testing.T) {
	xmpptest.NoLeaks(t)
	f1, f2 := xmpptest.NewFakeConn(), xmpptest.NewFakeConn()
	d := &dialer{conns: []*xmpptest.FakeConn{f1, f2}, err: errRefused}
	cfg := recoverConfig(d)
	cfg.Ping.Disabled = false
	cfg.Ping.Interval, cfg.Ping.Timeout = 50*time.Millisecond, 300*time.Millisecond
	cfg.InboundLimit = 4 << 10
	h := &slowHandler{release: make(chan struct{})}
	cfg.Handler = h
	c := xmppconn.New(cfg)
	defer c.Disconnect(context.Background())
	wait := server(t, func() { serveSMLogin(t, f1) })
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	wait()
	// The server reads what the client writes (its pings) and answers
	// nothing from now on.
	go func() {
		for {
			select {
			case <-f1.FromClient:
			case <-f1.Closed:
				return
			}
		}
	}()
	// Enough messages to fill the Handler's queue (InboundLimit) and
	// leave one waiting for room, not enough to fill the read queue: the
	// keepalive then finds the server silent and the stream lost.
	msg := "<message xmlns='jabber:client' from='peer@example.net/r'><body>" + strings.Repeat("y", 200) + "</body></message>"
	for range 14 {
		f1.Send(msg)
	}
	resumes := make(chan string, 1)
	wait = server(t, func() {
		serveAuth(t, f2)
		f2.Send(featuresBindSM)
		resumes <- f2.Expect(t, "<resume ")
		f2.Send(`<resumed xmlns='urn:xmpp:sm:3' previd='sm1' h='0'/>`)
		for {
			select {
			case <-f2.FromClient:
			case <-f2.Closed:
				return
			}
		}
	})
	var resume string
	select {
	case resume = <-resumes:
	case <-time.After(10 * time.Second):
		t.Fatal("no <resume/> after the stream was lost")
	}
	m := regexp.MustCompile(` h='(\d+)'`).FindStringSubmatch(resume)
	if m == nil {
		t.Fatalf("no h in the <resume/>: %q", resume)
	}
	counted, _ := strconv.Atoi(m[1])
	if counted == 0 || counted >= 14 {
		t.Fatalf("<resume/> counts %d stanzas: the test did not catch a stanza waiting for the Handler", counted)
	}
	close(h.release)
	xmpptest.Eventually(t, "Handler count equal to the <resume/>'s h", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.handled == counted
	})
	c.Disconnect(xmpptest.Context(t))
	wait()
}
