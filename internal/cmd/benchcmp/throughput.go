package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// inFlight is how many messages the sender may have sent that the receiver
// has not yet got.
const inFlight = 100

// window lets the sender keep at most inFlight messages under way and tells
// when the last one arrived. It is the receiver's Handler.
type window struct {
	sem  chan struct{}
	done chan struct{}
	want int
	n    atomic.Int64
}

func (w *window) HandleXMPP(_ xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if start.Name.Local != "message" {
		return nil
	}
	<-w.sem
	if w.n.Add(1) == int64(w.want) {
		close(w.done)
	}
	return nil
}

// runThroughput measures messages per second from one session to another
// through Prosody, WebSocket then BOSH, each on a fresh Prosody and with the
// default HTTP client: once with Prosody's defaults and once with Nagle's
// algorithm off on its sockets (network_settings = { nagle = false }), what
// a deployment behind a proxy with tcp_nodelay (nginx's default) gets.
func runThroughput(ctx context.Context, msgs int) error {
	fmt.Printf("== throughput: %d messages, one session to another through Prosody, %d in flight\n", msgs, inFlight)
	for _, server := range []struct {
		name  string
		extra string
	}{
		{"prosody defaults", ""},
		{"nagle = false", "network_settings = { nagle = false }"},
	} {
		rate := map[string]float64{}
		for _, tr := range []string{"websocket", "bosh"} {
			r, err := throughputOnce(ctx, tr, server.extra, msgs)
			if err != nil {
				return fmt.Errorf("throughput %s (%s): %w", tr, server.name, err)
			}
			rate[tr] = r
		}
		fmt.Printf("  %-17s websocket %7.0f msgs/s   bosh %7.0f msgs/s   bosh/websocket %.2f\n",
			server.name+":", rate["websocket"], rate["bosh"], rate["bosh"]/rate["websocket"])
	}
	fmt.Println()
	return nil
}

// throughputOnce starts a Prosody, connects a sender and a receiver over
// the transport and times msgs messages.
func throughputOnce(ctx context.Context, transport, extraGlobal string, msgs int) (float64, error) {
	s, err := servertest.Start(ctx, servertest.Prosody12, &servertest.Options{Prosody: servertest.ProsodyOptions{ExtraGlobal: prosodyDefaults + "\n" + extraGlobal}})
	if err != nil {
		return 0, err
	}
	defer s.Stop()
	// The default HTTP client (ws:// and http:// need no CA): what a bot
	// that sets no HTTPClient gets.
	url := s.WebSocketURL(false)
	if transport == "bosh" {
		url = s.BOSHURL(false)
	}
	w := &window{sem: make(chan struct{}, inFlight), done: make(chan struct{}), want: msgs}
	connect := func(name string, h *window) (*xmppconn.Connection, error) {
		if err := s.AddUser(ctx, name, name+"-password"); err != nil {
			return nil, err
		}
		cfg := xmppconn.Config{URL: url, Domain: s.Domain,
			Credentials: auth.Credentials{Username: name, Password: auth.NewSecret(name + "-password")}}
		if h != nil {
			cfg.Handler = h
		}
		c := xmppconn.New(cfg)
		return c, c.Connect(ctx)
	}
	sender, err := connect("sender", nil)
	if err != nil {
		return 0, err
	}
	defer sender.Disconnect(context.Background())
	receiver, err := connect("receiver", w)
	if err != nil {
		return 0, err
	}
	defer receiver.Disconnect(context.Background())
	to := receiver.JID()
	start := time.Now()
	for i := 0; i < msgs; i++ {
		select {
		case w.sem <- struct{}{}:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		body := xmlstream.Wrap(xmlstream.Token(xml.CharData("m"+strconv.Itoa(i))), xml.StartElement{Name: xml.Name{Local: "body"}})
		if err := sender.Send(ctx, stanza.Message{To: to, Type: stanza.ChatMessage}.Wrap(body)); err != nil {
			return 0, err
		}
	}
	select {
	case <-w.done:
	case <-time.After(2 * time.Minute):
		return 0, fmt.Errorf("only %d of %d messages arrived", w.n.Load(), msgs)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return float64(msgs) / time.Since(start).Seconds(), nil
}
