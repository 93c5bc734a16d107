package xmppconn_test

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"

	"encoding/xml"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/internal/xmpptest"
	"github.com/xmppconn/xmppconn/xmppconn"
)

var update = flag.Bool("update", false, "rewrite golden transcripts in ../testdata/golden")

// scriptedBOSH is a BOSH server that answers a whole login: session
// creation with PLAIN offered, SASL success, restart, bind, a message and
// terminate. It answers every request at once (an empty poll gets an empty
// body; polling='2' keeps the client from polling in a loop) and records
// every request that carries something, by rid.
type scriptedBOSH struct {
	mu       sync.Mutex
	requests map[uint64]string // by rid
	release  chan struct{}
	once     sync.Once
	message  chan struct{} // closed when a request carried a <message/>
}

const boshFeaturesPlain = `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`
const boshFeaturesBind = `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`

func (s *scriptedBOSH) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	body := string(raw)
	reply := func(attrs, inner string) {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		io.WriteString(w, "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams' "+attrs+">"+inner+"</body>")
	}
	empty := strings.HasSuffix(body, "/>") && !strings.Contains(body, "restart") && !strings.Contains(body, "terminate") && strings.Contains(body, "sid=")
	var rid uint64
	if m := regexp.MustCompile(`rid='(\d+)'`).FindStringSubmatch(body); m != nil {
		rid, _ = strconv.ParseUint(m[1], 10, 64)
	}
	_ = empty
	if !empty {
		s.mu.Lock()
		s.requests[rid] = body
		s.mu.Unlock()
	}
	switch {
	case !strings.Contains(body, "sid="):
		reply("sid='SID' wait='60' requests='2' hold='1' inactivity='60' polling='2' ver='1.11' from='example.net' xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'", boshFeaturesPlain)
	case strings.Contains(body, "<auth "):
		reply("", "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>")
	case strings.Contains(body, "xmpp:restart='true'"):
		reply("", boshFeaturesBind)
	case strings.Contains(body, "urn:ietf:params:xml:ns:xmpp-bind"):
		id := regexp.MustCompile(`<iq[^>]* id='([^']+)'`).FindStringSubmatch(body)[1]
		reply("", "<iq xmlns='jabber:client' type='result' id='"+id+"'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@example.net/golden</jid></bind></iq>")
	case strings.Contains(body, "<message"):
		close(s.message)
		reply("", "")
	case strings.Contains(body, "type='terminate'"):
		s.once.Do(func() { close(s.release) })
		reply("type='terminate'", "")
	default:
		reply("", "")
	}
}

// normalizeBOSH hides what changes from run to run: rid, sid, stanza ids,
// and the 'ack' of later requests, which is there only while an earlier
// response is outstanding (timing, not protocol). The session request's
// ack='1' stays.
func normalizeBOSH(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.Contains(l, "sid=") {
			lines[i] = regexp.MustCompile(` ack='\d+'`).ReplaceAllString(l, "")
		}
	}
	s = strings.Join(lines, "\n")
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`rid='\d+'`),
		regexp.MustCompile(`ack='\d+'`),
	} {
		s = re.ReplaceAllStringFunc(s, func(m string) string { return m[:strings.Index(m, "=")] + "='N'" })
	}
	return regexp.MustCompile(`<iq([^>]*) id='[^']+'`).ReplaceAllString(s, "<iq$1 id='ID'")
}

// TestGoldenBOSHLogin compares the request bodies of a whole BOSH login —
// session creation, SASL, restart, bind, a message, terminate — with the
// recorded transcript. Empty long-poll requests are left out: how many the
// client has open at a given moment is timing, not protocol.
func TestGoldenBOSHLogin(t *testing.T) {
	xmpptest.NoLeaks(t)
	srv := &scriptedBOSH{release: make(chan struct{}), requests: map[uint64]string{}, message: make(chan struct{})}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer hs.Client().CloseIdleConnections()
	c := xmppconn.New(xmppconn.Config{
		URL:         hs.URL + "/http-bind",
		Domain:      "example.net",
		HTTPClient:  hs.Client(),
		Credentials: auth.Credentials{Username: "alice", Password: auth.NewSecret("golden-pw")},
		AllowPlain:  true,
		Resource:    "golden",
	})
	ctx := xmpptest.Context(t)
	if err := c.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	msg := stanza.Message{ID: "m1", To: jid.MustParse("bob@example.net"), Type: stanza.ChatMessage}
	if err := c.Send(ctx, msg.Wrap(xmlstream.Wrap(xmlstream.Token(xml.CharData("hello")), xml.StartElement{Name: xml.Name{Local: "body"}}))); err != nil {
		t.Fatal(err)
	}
	// The message travels in a request of its own once the server has it;
	// a Disconnect before that would carry it in the terminate body instead.
	<-srv.message
	if err := c.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	rids := make([]uint64, 0, len(srv.requests))
	for rid := range srv.requests {
		rids = append(rids, rid)
	}
	slices.Sort(rids)
	var lines []string
	for _, rid := range rids {
		lines = append(lines, srv.requests[rid])
	}
	got := normalizeBOSH(strings.Join(lines, "\n")) + "\n"
	srv.mu.Unlock()
	const path = "../testdata/golden/bosh-login.golden"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("BOSH requests differ from %s (-want +got):\n%s", path, diff)
	}
}

// TestBOSHServerErrorsEndOnce: once the session is up, the BOSH endpoint
// answers every request with HTTP 500. The transport retries each request
// with the same rid, then gives up; the connection ends with exactly one
// ConnectionFailed of type connection.serverError carrying the status.
func TestBOSHServerErrorsEndOnce(t *testing.T) {
	xmpptest.NoLeaks(t)
	srv := &scriptedBOSH{release: make(chan struct{}), requests: map[uint64]string{}, message: make(chan struct{})}
	var broken atomic.Bool
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	defer hs.Close()
	defer hs.Client().CloseIdleConnections()
	c := xmppconn.New(xmppconn.Config{
		URL:         hs.URL + "/http-bind",
		Domain:      "example.net",
		HTTPClient:  hs.Client(),
		Credentials: auth.Credentials{Username: "alice", Password: auth.NewSecret("pw")},
		AllowPlain:  true,
		Reconnect:   xmppconn.ReconnectConfig{Disabled: true},
		Ping:        xmppconn.PingConfig{Disabled: true},
	})
	rec := xmpptest.Record(c)
	if err := c.Connect(xmpptest.Context(t)); err != nil {
		t.Fatal(err)
	}
	broken.Store(true)
	// Something to send, so a request meets the errors at once.
	if err := xmpptest.SendBody(xmpptest.Context(t), c, jid.MustParse("bob@example.net"), "x"); err != nil {
		t.Fatal(err)
	}
	ev := rec.WaitFor(t, 30*time.Second, "ConnectionFailed", func(e events.Event) bool { return e.Type() == events.ConnectionFailed })
	_ = c.Disconnect(context.Background())
	xmpptest.Flush(t, c)
	f := ev.(events.Failed)
	if f.Err != events.ServerError || f.Details.HTTPStatus != http.StatusInternalServerError {
		t.Errorf("failure = %s, http_status %d; want serverError, 500", f.Err, f.Details.HTTPStatus)
	}
	if n := len(rec.Failures()); n != 1 {
		t.Errorf("%d ConnectionFailed, want 1: %v", n, rec.Names())
	}
}
