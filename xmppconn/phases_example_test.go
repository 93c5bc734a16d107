package xmppconn_test

import (
	"context"
	"crypto/tls"
	"log"
	"time"

	"github.com/xmppconn/xmppconn/xmppconn"
)

// Where a login spent its time, and what the server offered: after
// Connect (whether it succeeded or not), and after each recovery attempt.
func ExampleConnection_LastAttempt() {
	c := xmppconn.New(xmppconn.Config{URL: "wss://meet.example.com/xmpp-websocket"})
	err := c.Connect(context.Background())
	a, ok := c.LastAttempt()
	if !ok {
		return // no attempt began
	}
	for _, p := range a.Phases { // contiguous: they add up to a.Total
		log.Printf("%-18s %v", p.Key(), p.Duration.Round(time.Microsecond))
	}
	log.Printf("total %v, connected %t (%v)", a.Total, a.Connected, err)
	log.Printf("offered %v, SASL2 %t; used %s", a.Offered.Mechanisms, a.Offered.SASL2, a.Mechanism)
	if a.TLS.Version != 0 {
		log.Printf("%s, certificates valid until %s", tls.VersionName(a.TLS.Version), a.TLS.EarliestCertExpiry)
	}
	if d, ok := a.Duration(xmppconn.PhaseSASL); ok {
		log.Printf("SASL took %v in all", d)
	}
}
