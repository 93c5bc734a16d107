package xmppconn_test

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/faultproxy"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// checkExactly asserts that in holds prefix0 … prefix(n-1), each once, in
// order.
func checkExactly(t *testing.T, who string, in *inbox, prefix string, n int, redelivery bool) {
	t.Helper()
	in.mu.Lock()
	defer in.mu.Unlock()
	bodies := in.bodies
	if redelivery {
		// A repeat of a message already in is the server's redelivery:
		// count it, and check the first deliveries as usual.
		seen := map[string]bool{}
		first := make([]string, 0, len(bodies))
		for _, b := range bodies {
			if !seen[b] {
				seen[b] = true
				first = append(first, b)
			}
		}
		if repeats := len(bodies) - len(first); repeats > 0 {
			t.Logf("%s got %d messages twice (the server's redelivery, tolerated here)", who, repeats)
		}
		bodies = first
	}
	seen := map[string]int{}
	for _, b := range bodies {
		seen[b]++
	}
	for i := 0; i < n; i++ {
		if c := seen[prefix+strconv.Itoa(i)]; c != 1 {
			t.Errorf("%s got message %s%d %d times, want once", who, prefix, i, c)
		}
	}
	if len(bodies) != n {
		t.Errorf("%s got %d messages, want %d", who, len(bodies), n)
	}
	for i, b := range bodies {
		if b != prefix+strconv.Itoa(i) {
			t.Errorf("%s: message %d is %q: out of order", who, i, b)
			break
		}
	}
}

// faultScenario is one fault applied to the bot's network while both sides
// send.
type faultScenario struct {
	name     string
	apply    func(t *testing.T, p *faultproxy.Proxy, rec *xmpptest.Recorder, round int)
	recovers bool // the session goes down and comes back (else the transport absorbs it)
}

var (
	// cutFault: every connection through the proxy is closed. A WebSocket
	// session goes down and is resumed. BOSH resends the request (same
	// rid) on a new TCP connection, and the session need not go down on
	// a server that answers a retransmitted rid (XEP-0124 §14.3); it does
	// when a ping waits longer than Ping.Timeout meanwhile (the resend
	// may come after a 500 ms pause), and is resumed.
	cutFault = faultScenario{name: "cut", apply: func(t *testing.T, p *faultproxy.Proxy, rec *xmpptest.Recorder, round int) {
		p.Cut()
	}}
	blackholeFault = faultScenario{name: "blackhole", recovers: true, apply: func(t *testing.T, p *faultproxy.Proxy, rec *xmpptest.Recorder, _ int) {
		isDown := func(e events.Event) bool {
			sc, ok := e.(events.StateChange)
			return ok && sc.State == events.StateDisconnected
		}
		before := 0
		for _, e := range rec.All() {
			if isDown(e) {
				before++
			}
		}
		p.Blackhole()
		// Restore once the pings found the link dead, so that recovery
		// can get through.
		rec.WaitForNth(t, 20*time.Second, "DISCONNECTED after the blackhole", before+1, isDown)
		p.Restore()
	}}
)

// TestIntegrationNoLostStanzas: a peer sends the bot 1,000 messages and the
// bot sends the peer 1,000, while the bot's network is cut twice and
// blackholed once. Everything arrives exactly once, in order, and the bot
// ends on the session it started with (every recovery resumed it, as the
// same full JID), over WebSocket and over BOSH.
//
// Over BOSH this needs servertest.BOSHResumption, so the Prosodies are
// skipped there with the reason; it runs on ejabberd. Prosody cannot carry a BOSH session through these faults: a cut under load
// makes mod_bosh terminate the session with item-not-found (a held request
// the cut ended before Prosody answered it is resent with its rid, and
// Prosody, which stored no answer for it and already took the next rid,
// calls the session broken), and mod_smacks never answers the <resume/>
// that follows. The client then binds a fresh session after the wait for
// <resumed/> (TestIntegrationRecoverAfterKill checks that), but what the
// server held for the broken session is lost or sent again: in runs here the
// bot got between 1 and 27 of the peer's 1,000 messages, and the peer got
// hundreds of the bot's twice.
//
// On ejabberd a cut now and then leaves the session's process stuck for
// good (stuckAfterCut); the scenario then runs again with new users, and
// fails if that happens three times in a row.
func TestIntegrationNoLostStanzas(t *testing.T) { servertest.Each(t, testNoLostStanzas) }

func testNoLostStanzas(t *testing.T, s *servertest.Server) {
	for _, ep := range proxiedEndpoints {
		t.Run(ep.Name, func(t *testing.T) {
			if ep.BOSH {
				s.Need(t, servertest.BOSHResumption)
			}
			xmpptest.NoLeaks(t)
			// ejabberd 23.01 now and then leaves a session's process stuck
			// after a cut (stuckAfterCut; 5 runs in 40 over WebSocket): the
			// scenario, which cannot pass then, runs again with new users,
			// up to three times. Any other failure fails at once.
			for try := 1; noLostStanzas(t, s, ep); try++ {
				if try == 3 {
					t.Fatalf("ejabberd left the session stuck after a cut %d times in a row", try)
				}
				t.Logf("try %d: ejabberd left the session's process stuck after a cut (docs/servers.md); once more", try)
			}
		})
	}
}

// stuckSignature is what ejabberd 23.01 logs 15 s after a <resume/> for a
// session whose process no longer answers.
const stuckSignature = "Session state copying timed out"

// stuckAfterCut reports whether ejabberd 23.01 left the bot's session stuck:
// a cut closed its connection, its process never saw it (no "waiting for
// stream resumption" in the log), the client's <resume/> went unanswered
// (a recovery attempt failed with a ResumeError), and ejabberd logged
// stuckSignature for the account. Seen in 5 runs in 40 of the fault
// scenario over WebSocket, none over BOSH, after the first cut as after the
// second; once stuck, nothing reached the bot again, not even on a fresh
// session. It waits up to 20 s for the log line.
func stuckAfterCut(s *servertest.Server, rec *xmpptest.Recorder, account string) bool {
	if s.Kind != servertest.Ejabberd {
		return false
	}
	unanswered := false
	for _, e := range rec.All() {
		if sc, ok := e.(events.StateChange); ok && strings.Contains(sc.Reason, "no <resumed/> or <failed/>") {
			unanswered = true
		}
	}
	if !unanswered {
		return false
	}
	want := "Cannot resume session for " + account + ": " + stuckSignature
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); {
		if strings.Contains(s.LogTail(2000), want) {
			return true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}

// noLostStanzas runs the fault scenario once. It returns true, having
// failed nothing, when ejabberd left the session stuck (stuckAfterCut).
func noLostStanzas(t *testing.T, s *servertest.Server, ep servertest.Endpoint) (stuck bool) {
	t.Helper()
	const n = 1000
	faults := []faultScenario{cutFault, cutFault, blackholeFault}
	start := time.Now()
	proxy := startProxy(t, s)
	botUser, botPass := s.NewUser(t)
	peerUser, peerPass := s.NewUser(t)
	// The bot expects one more: the "end" marker sent after the faults.
	botIn, peerIn := newInbox(n+1), newInbox(n)

	cfg := xmpptest.ServerConfig(t, s, ep.Via(s, proxy.Addr()))
	cfg.Credentials = xmpptest.Login(botUser, botPass)
	cfg.Handler = botIn
	cfg.Ping = xmppconn.PingConfig{Interval: 300 * time.Millisecond, Timeout: 500 * time.Millisecond, Failures: 1}
	cfg.Reconnect.AttemptTimeout = 5 * time.Second
	quickRecovery(&cfg)
	cfg.Ping.Timeout = 500 * time.Millisecond
	var clientLog xmpptest.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&clientLog, &slog.HandlerOptions{Level: slog.LevelDebug}))
	bot := xmppconn.New(cfg)
	rec := xmpptest.Record(bot)
	defer func() {
		// Deferred, so that a Fatal in a round shows them too.
		if t.Failed() {
			for _, e := range rec.All() {
				t.Log(fmtEvent(e))
			}
		}
		if os.Getenv("XMPPCONN_TEST_LOG") != "" || t.Failed() {
			t.Log(s.LogTail(20000))
			t.Log("--- the bot's log ---\n" + clientLog.String())
		}
	}()
	if err := bot.Connect(xmpptest.Context(t)); err != nil {
		t.Fatal(err)
	}
	defer bot.Disconnect(context.Background())
	first := bot.JID()
	s.WaitResumable(t, first.String())

	pcfg := xmpptest.ServerConfig(t, s, s.WebSocketURL(false))
	pcfg.Credentials = xmpptest.Login(peerUser, peerPass)
	pcfg.Handler = peerIn
	peer := xmppconn.New(pcfg)
	if err := peer.Connect(xmpptest.Context(t)); err != nil {
		t.Fatal(err)
	}
	defer peer.Disconnect(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	botJID, peerJID := bot.JID(), peer.JID()
	rounds := len(faults) + 1
	per := n / rounds
	sendRange := func(from *xmppconn.Connection, to jid.JID, prefix string, lo, hi int) error {
		for i := lo; i < hi; i++ {
			if err := xmpptest.SendBody(ctx, from, to, prefix+strconv.Itoa(i)); err != nil {
				return err
			}
		}
		return nil
	}
	ups := 1 // ConnectionEstablished events so far
	for r := 0; r < rounds; r++ {
		lo, hi := r*per, (r+1)*per
		if r == rounds-1 {
			hi = n
		}
		mid := lo + (hi-lo)/2
		// First half of the round on a live session. The bot's half
		// is through to the peer before the fault, so that the
		// fault never cuts one of the bot's frames in two: Prosody
		// 0.12 keeps such a partial WebSocket frame and garbles the
		// resumed stream with it (see faultproxy.Proxy.Cut).
		if err := sendRange(peer, botJID, "p", lo, mid); err != nil {
			t.Fatal(err)
		}
		if err := sendRange(bot, peerJID, "b", lo, mid); err != nil {
			t.Fatal(err)
		}
		if err := peerIn.waitCount(ctx, mid); err != nil {
			t.Fatalf("round %d: the bot's messages before the fault: %v", r, err)
		}
		// Then the fault while the peer sends the second half, and
		// the bot sends its second half just after the fault: into
		// a dead link, or queued while the session is down.
		peerDone := make(chan error, 1)
		go func() { peerDone <- sendRange(peer, botJID, "p", mid, hi) }()
		if r < len(faults) {
			faults[r].apply(t, proxy, rec, r)
		}
		if err := sendRange(bot, peerJID, "b", mid, hi); err != nil {
			t.Fatalf("round %d: bot send: %v", r, err)
		}
		if err := <-peerDone; err != nil {
			t.Fatalf("round %d: peer send: %v", r, err)
		}
		if r < len(faults) && (faults[r].recovers || !ep.BOSH) {
			// The session went down: the next fault hits it live again.
			ups++
			rec.WaitForNth(t, 30*time.Second, "ConnectionEstablished after the fault", ups, isEstablished)
			if stuckAfterCut(s, rec, botUser+"@"+s.Domain) {
				return true
			}
		}
	}
	// A last message after the faults: once it is in, anything the
	// server would send again (a duplicate) would have come before it.
	if err := xmpptest.SendBody(ctx, peer, botJID, "end"); err != nil {
		t.Fatal(err)
	}
	for _, in := range []*inbox{botIn, peerIn} {
		select {
		case <-in.done:
		case <-ctx.Done():
			t.Errorf("not all messages arrived in time")
		}
	}
	botIn.mu.Lock()
	botIn.bodies = trimEnd(botIn.bodies)
	botIn.mu.Unlock()
	// ejabberd 23.01 over BOSH may deliver some of the peer's
	// messages twice after a resumption: what sat in the old BOSH
	// session's output buffer is resent by mod_stream_mgmt, and
	// routed again by ejabberd_bosh when the old session ends
	// (bounce_els_from_obuf). Nothing is lost; see docs/servers.md.
	redelivery := s.Kind == servertest.Ejabberd && ep.BOSH
	checkExactly(t, "bot", botIn, "p", n, redelivery)
	checkExactly(t, "peer", peerIn, "b", n, false)
	if fs := rec.Failures(); len(fs) != 0 {
		t.Errorf("ConnectionFailed during faults: %v", rec.Names())
	}
	if bot.State() != events.StateConnected {
		t.Errorf("bot state %v after the faults", bot.State())
	}
	// Every recovery was a resumption of the first session.
	ests := rec.Of(events.ConnectionEstablished)
	bridged := 0 // faults BOSH may bridge without going down, or not
	for _, f := range faults {
		if ep.BOSH && !f.recovers {
			bridged++
		}
	}
	if len(ests) < ups || len(ests) > ups+bridged {
		t.Errorf("%d ConnectionEstablished, want %d to %d: %v", len(ests), ups, ups+bridged, rec.Names())
	}
	for _, e := range ests[1:] {
		if est := e.(events.Established); !est.Resumed || est.JID != first.String() {
			t.Errorf("Established = %+v, want resumed as %s", est, first)
		}
	}
	t.Logf("%s %s: %d messages each way through %d faults, %d recoveries (all resumed as %s) in %v; events: %v",
		s, ep.Name, n, len(faults), len(ests)-1, first, time.Since(start).Round(time.Millisecond), rec.Names())
	return false
}

func trimEnd(bodies []string) []string {
	out := bodies[:0]
	for _, b := range bodies {
		if b != "end" {
			out = append(out, b)
		}
	}
	return out
}
