package xmppconn_test

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/faultproxy"
	"github.com/xmppconn/xmppconn/internal/prosodytest"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// checkExactly asserts that in holds prefix0 … prefix(n-1), each once, in
// order.
func checkExactly(t *testing.T, who string, in *inbox, prefix string, n int) {
	t.Helper()
	in.mu.Lock()
	defer in.mu.Unlock()
	seen := map[string]int{}
	for _, b := range in.bodies {
		seen[b]++
	}
	for i := 0; i < n; i++ {
		if c := seen[prefix+strconv.Itoa(i)]; c != 1 {
			t.Errorf("%s got message %s%d %d times, want once", who, prefix, i, c)
		}
	}
	if len(in.bodies) != n {
		t.Errorf("%s got %d messages, want %d", who, len(in.bodies), n)
	}
	for i, b := range in.bodies {
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
	cutFault = faultScenario{name: "cut", recovers: true, apply: func(t *testing.T, p *faultproxy.Proxy, rec *xmpptest.Recorder, round int) {
		p.Cut()
	}}
	// boshCutFault: BOSH resends the request (same rid) on a new TCP
	// connection; the session never goes down.
	boshCutFault = faultScenario{name: "cut", apply: func(t *testing.T, p *faultproxy.Proxy, rec *xmpptest.Recorder, round int) {
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
// blackholed once. Everything arrives exactly once, in order.
func TestIntegrationNoLostStanzas(t *testing.T) {
	s := prosodytest.Require(t)
	cases := []struct {
		name   string
		url    func(p *faultproxy.Proxy) string
		faults []faultScenario
	}{
		{"ws", func(p *faultproxy.Proxy) string { return "ws://" + p.Addr() + "/xmpp-websocket" },
			[]faultScenario{cutFault, cutFault, blackholeFault}},
		// BOSH absorbs cuts by resending the same request (same rid) on a
		// new TCP connection. A blackhole needs a resumption, which
		// Prosody 0.12 cannot do over BOSH (see TestIntegrationRecoverAfterKill),
		// so this server can only show the cuts.
		{"bosh", func(p *faultproxy.Proxy) string { return "http://" + p.Addr() + "/http-bind" },
			[]faultScenario{boshCutFault, boshCutFault}},
	}
	const n = 1000
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "bosh" && os.Getenv("XMPPCONN_FAULT_TESTS") == "" {
				// Prosody 0.12 cannot carry a BOSH session through cuts
				// under load: a held long-poll that the cut ends before
				// Prosody answered it is sent again with its rid (XEP-0124
				// §14.3), and Prosody, which has no answer stored for it
				// and already saw the next rid, terminates the session
				// with item-not-found; its mod_smacks then cannot resume a
				// BOSH session, so the unacknowledged messages end in
				// offline storage. The WebSocket case runs by default.
				t.Skip("BOSH fault scenario needs a server that replays or answers a repeated rid (XMPPCONN_FAULT_TESTS=1 runs it)")
			}
			xmpptest.NoLeaks(t)
			proxy, err := faultproxy.Start("127.0.0.1:" + strconv.Itoa(s.HTTPPort))
			if err != nil {
				t.Fatal(err)
			}
			defer proxy.Close()
			botUser, botPass := s.NewUser(t)
			peerUser, peerPass := s.NewUser(t)
			// The bot expects one more: the "end" marker sent after the faults.
			botIn, peerIn := newInbox(n+1), newInbox(n)

			cfg := baseConfig(t, s, tc.url(proxy))
			cfg.Credentials = auth.Credentials{Username: botUser, Password: auth.NewSecret(botPass)}
			cfg.Handler = botIn
			cfg.Ping = xmppconn.PingConfig{Interval: 300 * time.Millisecond, Timeout: 500 * time.Millisecond, Failures: 1}
			cfg.Reconnect.AttemptTimeout = 5 * time.Second
			quickRecovery(&cfg)
			cfg.Ping.Timeout = 500 * time.Millisecond
			if testing.Verbose() && os.Getenv("XMPPCONN_TEST_LOG") != "" {
				cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			bot := xmppconn.New(cfg)
			rec := xmpptest.Record(bot)
			if err := bot.Connect(xmpptest.Context(t)); err != nil {
				t.Fatal(err)
			}
			defer bot.Disconnect(context.Background())
			waitSM(t, s, bot.JID().String())

			pcfg := baseConfig(t, s, s.WebSocketURL(false))
			pcfg.Credentials = auth.Credentials{Username: peerUser, Password: auth.NewSecret(peerPass)}
			pcfg.Handler = peerIn
			peer := xmppconn.New(pcfg)
			if err := peer.Connect(xmpptest.Context(t)); err != nil {
				t.Fatal(err)
			}
			defer peer.Disconnect(context.Background())

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			botJID, peerJID := bot.JID(), peer.JID()
			rounds := len(tc.faults) + 1
			per := n / rounds
			sendRange := func(from *xmppconn.Connection, to jid.JID, prefix string, lo, hi int) error {
				for i := lo; i < hi; i++ {
					if err := xmpptest.SendBody(ctx, from, to, prefix+strconv.Itoa(i)); err != nil {
						return err
					}
				}
				return nil
			}
			isUp := func(e events.Event) bool { return e.Type() == events.ConnectionEstablished }
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
				if r < len(tc.faults) {
					tc.faults[r].apply(t, proxy, rec, r)
				}
				if err := sendRange(bot, peerJID, "b", mid, hi); err != nil {
					t.Fatalf("round %d: bot send: %v", r, err)
				}
				if err := <-peerDone; err != nil {
					t.Fatalf("round %d: peer send: %v", r, err)
				}
				if r < len(tc.faults) && tc.faults[r].recovers {
					// The next fault hits a live session again.
					rec.WaitForNth(t, 30*time.Second, "ConnectionEstablished after the fault", r+2, isUp)
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
			checkExactly(t, "bot", botIn, "p", n)
			checkExactly(t, "peer", peerIn, "b", n)
			if fs := rec.Failures(); len(fs) != 0 {
				t.Errorf("ConnectionFailed during faults: %v", rec.Names())
			}
			if bot.State() != events.StateConnected {
				t.Errorf("bot state %v after the faults", bot.State())
			}
			t.Logf("events: %v", rec.Names())
			if os.Getenv("XMPPCONN_TEST_LOG") != "" {
				t.Log(s.LogTail(20000))
			}
		})
	}
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
