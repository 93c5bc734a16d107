package xmppconn_test

import (
	"context"
	"encoding/xml"
	"strconv"
	"testing"
	"time"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// Allocation budgets per stanza, measured on the in-process transport (no
// network, no transport framing; the test double's own copy of each sent
// element counts as one). A change that goes over a budget fails
// TestAllocsPerStanza: look at `go test -run '^$' -bench Stanza -memprofile`
// before raising it.
const (
	// allocsPerSend covers building a <message/> with a <body/> as tokens
	// (stanza.Message.Wrap, xmlstream.Wrap: about a dozen allocations of
	// the caller's), encoding it with a pooled encoder into one element,
	// the outbox and the transport's write.
	allocsPerSend = 27 // measured 24 (34 through the mellium session, 39 with a context and timer per write)
	// allocsPerReceive covers the read loop and the processor (root parse,
	// ping and stream management checks), the hand-over to the Handler,
	// its decoding, and a Handler that reads nothing.
	allocsPerReceive = 40 // measured 36 (38 through the mellium session, 60 before rootOf used xmlframe.StartTag)
)

// stanzaCounter is a Handler that signals each <message/>.
type stanzaCounter struct{ got chan struct{} }

func (s stanzaCounter) HandleXMPP(_ xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if start.Name.Local == "message" {
		s.got <- struct{}{}
	}
	return nil
}

// connectedFake returns a Connection that reached CONNECTED over a fake
// transport, with h as its Handler.
func connectedFake(tb testing.TB, h stanzaCounter) (*xmppconn.Connection, *xmpptest.FakeConn) {
	tb.Helper()
	t, ok := tb.(*testing.T)
	f := xmpptest.NewFakeConn()
	cfg := f.Config()
	cfg.Handler = h
	cfg.Ping.Disabled = true
	c := xmppconn.New(cfg)
	go func() {
		if ok {
			f.Send(xmpptest.BindResult(f.ServeLogin(t)))
			return
		}
		<-f.Opens
		f.Send(xmpptest.FeaturesAnon)
		<-f.FromClient
		f.Send(xmpptest.SASLSuccess)
		<-f.Opens
		f.Send(xmpptest.FeaturesBind)
		e := <-f.FromClient
		m := xmpptest.IDAttr.FindSubmatch(e)
		f.Send(xmpptest.BindResult(string(m[1])))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		tb.Fatalf("Connect: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	return c, f
}

// sendOne sends one chat message with a short body.
func sendOne(tb testing.TB, c *xmppconn.Connection, to jid.JID, f *xmpptest.FakeConn) {
	body := xmlstream.Wrap(xmlstream.Token(xml.CharData("hello")), xml.StartElement{Name: xml.Name{Local: "body"}})
	if err := c.Send(context.Background(), stanza.Message{To: to, Type: stanza.ChatMessage}.Wrap(body)); err != nil {
		tb.Fatal(err)
	}
	<-f.FromClient
}

// receiveOne has the fake server send msg and waits for the Handler.
func receiveOne(f *xmpptest.FakeConn, msg []byte, h stanzaCounter) {
	f.ToClient <- msg
	<-h.got
}

var (
	peer    = jid.MustParse("peer@example.net/r")
	inbound = []byte(`<message xmlns='jabber:client' from='peer@example.net/r' to='anon@example.net/r1' type='chat' id='m1'><body>hello</body></message>`)
)

// TestAllocsPerStanza holds the allocations per sent and per received
// stanza to their budgets.
func TestAllocsPerStanza(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own; make test also runs this package without it")
	}
	h := stanzaCounter{got: make(chan struct{}, 1)}
	c, f := connectedFake(t, h)
	send := testing.AllocsPerRun(200, func() { sendOne(t, c, peer, f) })
	recv := testing.AllocsPerRun(200, func() { receiveOne(f, inbound, h) })
	t.Logf("allocations per stanza: send %.1f (budget %d), receive %.1f (budget %d)", send, allocsPerSend, recv, allocsPerReceive)
	if send > allocsPerSend {
		t.Errorf("send: %.1f allocations per stanza, budget %d", send, allocsPerSend)
	}
	if recv > allocsPerReceive {
		t.Errorf("receive: %.1f allocations per stanza, budget %d", recv, allocsPerReceive)
	}
}

// BenchmarkStanzaSend is the in-process cost of sending one message.
func BenchmarkStanzaSend(b *testing.B) {
	c, f := connectedFake(b, stanzaCounter{got: make(chan struct{}, 1)})
	b.ReportAllocs()
	for b.Loop() {
		sendOne(b, c, peer, f)
	}
}

// BenchmarkStanzaReceive is the in-process cost of receiving one message up
// to the Handler.
func BenchmarkStanzaReceive(b *testing.B) {
	h := stanzaCounter{got: make(chan struct{}, 1)}
	_, f := connectedFake(b, h)
	msgs := make([][]byte, 64)
	for i := range msgs {
		msgs[i] = []byte(`<message xmlns='jabber:client' from='peer@example.net/r' type='chat' id='m` + strconv.Itoa(i) + `'><body>hello</body></message>`)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		receiveOne(f, msgs[i%len(msgs)], h)
		i++
	}
}
