package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"slices"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/internal/servertest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// iqWarmup is how many pings each run sends before it measures.
const iqWarmup = 20

// runIQ is the IQ family: n XEP-0199 pings to the server, each sent once
// the answer to the one before came, over WebSocket then BOSH, each on a
// fresh server of kind: the round trip's median and p90 and the client's CPU
// per ping. A bot's requests (disco, MUC joins) go this way, one waiting
// for the other.
func runIQ(ctx context.Context, n int, kind servertest.Kind) error {
	fmt.Printf("== iq: %d pings to %s, one after the other\n", n, kind)
	for _, tr := range []string{"websocket", "bosh"} {
		rtts, cpu, err := iqOnce(ctx, kind, tr, n)
		if err != nil {
			return fmt.Errorf("iq %s: %w", tr, err)
		}
		slices.Sort(rtts)
		fmt.Printf("  %-9s round trip median %6.2f ms  p90 %6.2f ms  client CPU %6.1f µs/ping\n",
			tr, us(rtts[len(rtts)/2])/1e3, us(rtts[len(rtts)*9/10])/1e3, us(cpu)/float64(n))
	}
	fmt.Println()
	return nil
}

// iqOnce starts a server, connects over the transport with the default HTTP
// client and times n pings after the warm-up ones.
func iqOnce(ctx context.Context, kind servertest.Kind, transport string, n int) (rtts []time.Duration, cpu time.Duration, err error) {
	var opts *servertest.Options
	if kind != servertest.Ejabberd {
		opts = &servertest.Options{Prosody: servertest.ProsodyOptions{ExtraGlobal: prosodyDefaults}}
	}
	s, err := servertest.Start(ctx, kind, opts)
	if err != nil {
		return nil, 0, err
	}
	defer s.Stop()
	if err := s.AddUser(ctx, user, password); err != nil {
		return nil, 0, err
	}
	url := s.WebSocketURL(false)
	if transport == "bosh" {
		url = s.BOSHURL(false)
	}
	c := xmppconn.New(xmppconn.Config{URL: url, Domain: s.Domain,
		Credentials: auth.Credentials{Username: user, Password: auth.NewSecret(password)}})
	if err := c.Connect(ctx); err != nil {
		return nil, 0, err
	}
	defer c.Disconnect(context.Background())
	server := jid.MustParse(s.Domain)
	ping := func() error {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		payload := xmlstream.Wrap(nil, xml.StartElement{Name: xml.Name{Space: "urn:xmpp:ping", Local: "ping"}})
		_, err := c.SendIQ(pctx, stanza.IQ{Type: stanza.GetIQ, To: server}, payload)
		return err
	}
	for range iqWarmup {
		if err := ping(); err != nil {
			return nil, 0, err
		}
	}
	rtts = make([]time.Duration, 0, n)
	before := cpuTime()
	for range n {
		start := time.Now()
		if err := ping(); err != nil {
			return nil, 0, err
		}
		rtts = append(rtts, time.Since(start))
	}
	return rtts, cpuTime() - before, nil
}
