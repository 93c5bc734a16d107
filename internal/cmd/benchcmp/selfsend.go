package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
	"mellium.im/xmpp/websocket"

	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// selfSender is one client of the self-send family: connected, it sends
// msgs messages to its own full JID, at most inFlight under way, and
// returns once the last one came back.
type selfSender struct {
	name    string
	connect connectSelf
}

// connectSelf logs in on s, ready to send msgs messages to itself, and
// returns the function that sends them and the one that closes the
// session.
type connectSelf = func(ctx context.Context, s *servertest.Server, msgs int) (send func() error, closeFn func() error, err error)

// selfResult is one measurement of one client on its own Prosody.
type selfResult struct {
	rate   float64       // messages per second
	server time.Duration // Prosody's CPU per message
	client time.Duration // this process's CPU per message
}

// runSelfSend is the self-send family: each client sends msgs messages to
// its own full JID over a fresh Prosody, runs times, the clients
// interleaved (A, B, C, A, B, C, … with the first rotating). It prints the
// medians and, per run, the ratios of xmppconn over WebSocket to mellium's
// raw WebSocket client.
//
// With counts set, xmppconn over WebSocket goes through a transport that
// counts the stream management elements, printed after each of its runs.
func runSelfSend(ctx context.Context, msgs, runs int, mech, only string, counts bool) error {
	ws := func(s *servertest.Server) string { return s.WebSocketURL(false) }
	bosh := func(s *servertest.Server) string { return s.BOSHURL(false) }
	clients := []selfSender{
		{"xmppconn ws", selfXmppconn(ws, mech, counts)},
		{"mellium ws", selfMellium(mech)},
		{"xmppconn bosh", selfXmppconn(bosh, mech, false)},
	}
	if only != "" {
		clients = slices.DeleteFunc(clients, func(c selfSender) bool { return !strings.Contains(c.name, only) })
	}
	fmt.Printf("== self-send: %d messages to the client's own full JID, %d in flight, %s, fresh Prosody per measurement, %d runs interleaved\n",
		msgs, inFlight, mech, runs)
	res := make([][]selfResult, len(clients))
	for run := 0; run < runs; run++ {
		for k := range clients {
			i := (run + k) % len(clients)
			r, err := selfSendOnce(ctx, clients[i], msgs)
			if err != nil {
				return fmt.Errorf("self-send %s: %w", clients[i].name, err)
			}
			res[i] = append(res[i], r)
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "client (median of runs)\tmsgs/s\tProsody µs/msg\tclient µs/msg\tmsgs/s each run\t")
	for i, c := range clients {
		rates := make([]string, len(res[i]))
		for k, r := range res[i] {
			rates[k] = strconv.FormatFloat(r.rate, 'f', 0, 64)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%.1f\t%s\t\n", c.name,
			median(res[i], func(r selfResult) float64 { return r.rate }),
			median(res[i], func(r selfResult) float64 { return us(r.server) }),
			median(res[i], func(r selfResult) float64 { return us(r.client) }),
			strings.Join(rates, " "))
	}
	tw.Flush()
	ratios := func(a, b string) {
		ia := slices.IndexFunc(clients, func(c selfSender) bool { return c.name == a })
		ib := slices.IndexFunc(clients, func(c selfSender) bool { return c.name == b })
		if ia < 0 || ib < 0 {
			return
		}
		var rate, srv []float64
		for k := range res[ia] {
			rate = append(rate, res[ia][k].rate/res[ib][k].rate)
			srv = append(srv, float64(res[ia][k].server)/float64(res[ib][k].server))
		}
		fmt.Printf("  %s / %s, each run: msgs/s %s (median %.2fx)  Prosody CPU/msg %s (median %.2fx)\n", a, b,
			fmtRatios(rate), medianOf(rate), fmtRatios(srv), medianOf(srv))
	}
	ratios("xmppconn ws", "mellium ws")
	ratios("xmppconn bosh", "xmppconn ws")
	fmt.Println()
	return nil
}

// selfSendOnce starts a Prosody, connects the client and times msgs
// messages, reading Prosody's CPU and this process's around the sending.
func selfSendOnce(ctx context.Context, c selfSender, msgs int) (selfResult, error) {
	s, err := servertest.Start(ctx, servertest.Prosody12, &servertest.Options{Prosody: servertest.ProsodyOptions{ExtraGlobal: prosodyDefaults}})
	if err != nil {
		return selfResult{}, err
	}
	defer s.Stop()
	if err := s.AddUser(ctx, user, password); err != nil {
		return selfResult{}, err
	}
	pid := s.PID()
	send, closeFn, err := c.connect(ctx, s, msgs)
	if err != nil {
		return selfResult{}, err
	}
	defer closeFn()
	waitServerIdle(pid, 100*time.Millisecond)
	s0, err := readServer(pid)
	if err != nil {
		return selfResult{}, err
	}
	cpu0 := cpuTime()
	start := time.Now()
	if err := send(); err != nil {
		return selfResult{}, err
	}
	took := time.Since(start)
	cpu1 := cpuTime()
	s1, err := readServer(pid)
	if err != nil {
		return selfResult{}, err
	}
	return selfResult{
		rate:   float64(msgs) / took.Seconds(),
		server: (s1.cpu - s0.cpu) / time.Duration(msgs),
		client: (cpu1 - cpu0) / time.Duration(msgs),
	}, nil
}

// selfBody is message i of a run.
func selfBody(to jid.JID, i int) xml.TokenReader {
	body := xmlstream.Wrap(xmlstream.Token(xml.CharData("m"+strconv.Itoa(i))), xml.StartElement{Name: xml.Name{Local: "body"}})
	return stanza.Message{To: to, Type: stanza.ChatMessage}.Wrap(body)
}

// sendWindowed sends msgs messages with send, at most inFlight under way
// (w's Handler frees a slot per message back), and waits for the last.
func sendWindowed(ctx context.Context, w *window, msgs int, send func(i int) error) error {
	for i := 0; i < msgs; i++ {
		select {
		case w.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := send(i); err != nil {
			return err
		}
	}
	select {
	case <-w.done:
		return nil
	case <-time.After(2 * time.Minute):
		return fmt.Errorf("only %d of %d messages arrived", w.n.Load(), msgs)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// selfXmppconn is xmppconn with its defaults (and the one mechanism) on
// the URL that url picks.
func selfXmppconn(url func(*servertest.Server) string, mech string, counts bool) connectSelf {
	return func(ctx context.Context, s *servertest.Server, msgs int) (func() error, func() error, error) {
		w := &window{sem: make(chan struct{}, inFlight), done: make(chan struct{}), want: msgs}
		cfg := ourConfig(url(s), s.Domain, mech)
		cfg.Handler = w
		var n smCounts
		if counts {
			countSM(&cfg, &n)
		}
		c := xmppconn.New(cfg)
		if err := c.Connect(ctx); err != nil {
			return nil, nil, err
		}
		send := func() error {
			to := c.JID()
			err := sendWindowed(ctx, w, msgs, func(i int) error { return c.Send(ctx, selfBody(to, i)) })
			if counts {
				fmt.Printf("  xmppconn ws, %d messages: %v\n", msgs, &n)
			}
			return err
		}
		return send, func() error { return c.Disconnect(context.Background()) }, nil
	}
}

// selfMellium is mellium's raw WebSocket client (as in the connect family),
// its session served by a goroutine.
func selfMellium(mech string) connectSelf {
	return func(ctx context.Context, s *servertest.Server, msgs int) (func() error, func() error, error) {
		features, err := melliumFeatures(mech)
		if err != nil {
			return nil, nil, err
		}
		origin := jid.MustParse(user + "@" + s.Domain)
		conn, err := websocket.DialDirect(ctx, "http://"+s.Domain, s.WebSocketURL(false))
		if err != nil {
			return nil, nil, err
		}
		neg := websocket.Negotiator(func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
			return xmpp.StreamConfig{Features: features}
		})
		sess, err := xmpp.NewSession(ctx, origin.Domain(), origin, conn, xmpp.Secure, neg)
		if err != nil {
			conn.Close()
			return nil, nil, err
		}
		w := &window{sem: make(chan struct{}, inFlight), done: make(chan struct{}), want: msgs}
		served := make(chan struct{})
		go func() {
			defer close(served)
			_ = sess.Serve(w)
		}()
		send := func() error {
			to := sess.LocalAddr()
			return sendWindowed(ctx, w, msgs, func(i int) error { return sess.Send(ctx, selfBody(to, i)) })
		}
		closeFn := func() error {
			err := closeMellium(sess, conn)
			<-served
			return err
		}
		return send, closeFn, nil
	}
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }

// median returns the median of f over rs.
func median[T any](rs []T, f func(T) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return medianOf(v)
}

// medianOf returns the median of v (the mean of the middle two for an even
// count), 0 for none.
func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func fmtRatios(v []float64) string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strings.Join(out, " ")
}
