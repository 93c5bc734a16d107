package bosh

// This file holds fakeServer, an in-process BOSH connection manager on
// httptest used by every test of the package. It keeps a real session: it
// processes requests in rid order, holds up to 'hold' of them, buffers its
// responses so that a retransmitted rid gets the same answer, and records
// everything the client sent. Faults are injected per HTTP request. With
// StrictOrder it behaves like ejabberd when requests come out of rid order:
// it stalls.

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
	"github.com/xmppconn/xmppconn/transport"
)

const (
	saslFeatures = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>"
	bindFeatures = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"
)

// fakeConfig is what the fake answers the session creation request with.
// Negative numbers leave an attribute out.
type fakeConfig struct {
	SID                  string                     // default "SID"
	Wait                 int                        // default 60
	Hold                 int                        // default 1; negative: hold='0'
	Requests             int                        // default 2; negative: left out
	Polling              int                        // 0: left out
	Inactivity, MaxPause int                        // 0: left out
	From                 string                     // 'from' attribute; "" leaves it out
	Ack                  bool                       // acknowledge requests (ack in the creation response)
	FeaturesLater        bool                       // send the first features in the next response, not the creation one
	Report               bool                       // answer a lagging client ack with report/time
	HoldFor              time.Duration              // answer a held request empty after this long; 0: hold until needed
	HeldLate             time.Duration              // at a terminate, answer the held requests this long after it; 0: before it
	Header               http.Header                // extra response headers
	Fault                func(r *fakeRequest) fault // per HTTP request; nil: none
	CreationBody         string                     // replaces the creation response when set
	// Reply, when set, answers each payload element the fake processes:
	// what it returns goes out like Push.
	Reply func(payload string) []string
	// StrictOrder makes the fake stall, like ejabberd, when the first
	// transmission of a rid reaches the wire before that of a lower rid:
	// it answers none of the requests of the session from then on. The
	// wire order is the order in which the fake's own client (options)
	// started the last write of each request on its connections.
	StrictOrder bool
	// ReadJitter delays the reading of each request by a random time
	// below it, after its bytes came: two requests that arrive close
	// together may be read in either order, as ejabberd's processes may
	// read them from two connections. With StrictOrder the fake then
	// stalls when it reads the first transmission of a rid after that of a
	// higher one, whatever their order on the wire.
	ReadJitter time.Duration
	// Buffer, when set, is how many responses the fake remembers for
	// retransmission, the highest rids: a connection manager that takes no
	// acks need remember only 'requests' of them (XEP-0124 §14.3; ejabberd
	// keeps that many). A retransmitted rid it forgot gets item-not-found.
	Buffer int
}

// fakeRequest is one HTTP request as the fake received it.
type fakeRequest struct {
	Attempt  int               // 1 the first time this rid is seen
	RID      uint64            // 0 when missing
	Attrs    map[string]string // attributes by qualified name: "rid", "xml:lang", "xmpp:restart"
	Children []string          // payload elements, serialized self-contained
	Raw      []byte            // the request body as sent
	Header   http.Header
	Remote   string // the client's address, one per connection
	Wire     uint64 // with StrictOrder: position on the wire of the request's last write

	afterReport bool
}

type faultKind int

const (
	faultNone     faultKind = iota
	faultStatus             // answer with Status, without processing
	faultRaw                // answer with Body (200), without processing
	faultDrop               // process, then close the connection instead of answering
	faultSwallow            // process, then never answer (until the client gives up)
	faultLose               // do not process, never answer (a lost request)
	faultRedirect           // answer 302 to Body
)

type fault struct {
	Kind   faultKind
	Status int
	Body   string
}

// held is a processed request waiting for its response.
type held struct {
	rid  uint64
	resp chan []byte // receives the response once; nil when its HTTP request is gone
}

type fakeServer struct {
	t      *testing.T
	cfg    fakeConfig
	srv    *httptest.Server
	client *http.Client // the client of options()
	wire   *wireLog     // with StrictOrder: the writes of client

	done      chan struct{} // closed at cleanup: releases every handler
	closeOnce sync.Once
	stalled   chan struct{} // closed when a StrictOrder fake stalls

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced at every change
	requests  []*fakeRequest
	attempts  map[uint64]int
	flight    int // HTTP requests open, terminate excluded
	maxFlight int

	created   bool
	next      uint64              // next rid to process
	waiting   map[uint64]*arrival // arrived out of order
	held      []*held
	responses map[uint64][]byte // buffered answers, by rid
	answered  map[uint64]bool
	lastAns   uint64
	outq      []string // payloads for the next response
	rawNext   *string  // a raw body for the next response
	received  []string // payloads the client sent, in rid order
	restarts  int
	ended     bool              // terminated by the client
	reported  bool              // a response with 'report' was sent
	firstWire map[uint64]uint64 // StrictOrder: wire position of each rid's first arrival
	stall     string            // StrictOrder: why the fake stalled; "" while it has not
	maxRead   uint64            // StrictOrder with ReadJitter: the highest rid read
	forgotten int               // retransmissions whose answer the Buffer had dropped
}

// reportSeen is true for requests after the first answer with 'report'; it
// lets a fault apply to the original request only.
func (r *fakeRequest) reportSeen() bool { return r.afterReport }

// arrival is a request waiting for its predecessors.
type arrival struct {
	req *fakeRequest
	h   *held
}

func newFakeServer(t *testing.T, cfg fakeConfig, tlsServer bool) *fakeServer {
	t.Helper()
	if cfg.SID == "" {
		cfg.SID = "SID"
	}
	if cfg.Wait == 0 {
		cfg.Wait = 60
	}
	switch {
	case cfg.Hold == 0:
		cfg.Hold = 1
	case cfg.Hold < 0:
		cfg.Hold = 0
	}
	if cfg.Requests == 0 {
		cfg.Requests = 2
	}
	f := &fakeServer{
		t:         t,
		cfg:       cfg,
		done:      make(chan struct{}),
		changed:   make(chan struct{}),
		attempts:  make(map[uint64]int),
		waiting:   make(map[uint64]*arrival),
		responses: make(map[uint64][]byte),
		answered:  make(map[uint64]bool),
		stalled:   make(chan struct{}),
		firstWire: make(map[uint64]uint64),
	}
	if tlsServer {
		f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	} else {
		f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	}
	f.client = f.srv.Client()
	if cfg.StrictOrder {
		f.wire = &wireLog{last: make(map[string]uint64)}
		tr := f.srv.Client().Transport.(*http.Transport).Clone()
		tr.DialContext = f.wire.dial(tr.DialContext)
		f.client = &http.Client{Transport: tr}
	}
	t.Cleanup(f.close)
	return f
}

// close stops the fake and closes the idle connections of its client; it
// runs at cleanup and may run before.
func (f *fakeServer) close() {
	f.closeOnce.Do(func() {
		close(f.done)
		f.srv.Close()
		f.client.CloseIdleConnections()
	})
}

// options returns client options that reach the fake quickly.
func (f *fakeServer) options() *Options {
	return &Options{
		HTTPClient: f.client,
		Backoff:    []time.Duration{time.Millisecond},
		Wait:       time.Duration(f.cfg.Wait) * time.Second,
	}
}

// Stalled returns a channel closed when a StrictOrder fake stalls.
func (f *fakeServer) Stalled() <-chan struct{} { return f.stalled }

// Stall returns why the fake stalled, or "".
func (f *fakeServer) Stall() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stall
}

// wireLog numbers the writes the fake's client makes, across all its
// connections: the order in which bytes were put on the wire.
type wireLog struct {
	mu   sync.Mutex
	seq  uint64
	last map[string]uint64 // by the client's local address: the last write started
}

// dial wraps the dialer of the fake's client.
func (w *wireLog) dial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &wireConn{Conn: c, log: w, key: c.LocalAddr().String()}, nil
	}
}

// at returns the position of the last write started on the client
// connection whose local address is key (the server's RemoteAddr).
func (w *wireLog) at(key string) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last[key]
}

type wireConn struct {
	net.Conn
	log *wireLog
	key string
}

// Write numbers the write before it starts, so that the number is known by
// the time the server has read the bytes.
func (c *wireConn) Write(p []byte) (int, error) {
	c.log.mu.Lock()
	c.log.seq++
	c.log.last[c.key] = c.log.seq
	c.log.mu.Unlock()
	return c.Conn.Write(p)
}

// checkOrderLocked records where the first transmission of req's rid was on
// the wire (with ReadJitter: when it was read) and stalls the fake when it
// was out of rid order with another first transmission. Retransmissions may come after higher rids: the
// server has seen their rid before.
func (f *fakeServer) checkOrderLocked(req *fakeRequest) {
	if req.Attempt != 1 || f.stall != "" {
		return
	}
	if f.cfg.ReadJitter > 0 {
		if req.RID < f.maxRead {
			f.stall = fmt.Sprintf("rid %d was read before rid %d", f.maxRead, req.RID)
			close(f.stalled)
			f.changedLocked()
		}
		f.maxRead = max(f.maxRead, req.RID)
		return
	}
	for rid, at := range f.firstWire {
		if rid < req.RID && at > req.Wire || rid > req.RID && at < req.Wire {
			lo, hi := min(rid, req.RID), max(rid, req.RID)
			f.stall = fmt.Sprintf("rid %d reached the wire before rid %d", hi, lo)
			close(f.stalled)
			f.changedLocked()
			return
		}
	}
	f.firstWire[req.RID] = req.Wire
}

func (f *fakeServer) changedLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// await blocks until cond holds (checked under the lock at every change), or
// fails the test after a generous deadline.
func (f *fakeServer) await(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		ok := cond()
		ch := f.changed
		f.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			f.t.Fatalf("fake server: timed out waiting for %s", what)
		}
	}
}

// awaitRequests waits until n HTTP requests have arrived.
func (f *fakeServer) awaitRequests(n int) {
	f.t.Helper()
	f.await(fmt.Sprintf("%d requests", n), func() bool { return len(f.requests) >= n })
}

// awaitHeld waits until n requests are held.
func (f *fakeServer) awaitHeld(n int) {
	f.t.Helper()
	f.await(fmt.Sprintf("%d held requests", n), func() bool { return len(f.held) >= n })
}

// awaitReceived waits until the client has sent n payload elements.
func (f *fakeServer) awaitReceived(n int) {
	f.t.Helper()
	f.await(fmt.Sprintf("%d received elements", n), func() bool { return len(f.received) >= n })
}

// Requests returns a copy of every HTTP request received so far.
func (f *fakeServer) Requests() []*fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*fakeRequest(nil), f.requests...)
}

// Received returns the payloads the client sent, in rid order.
func (f *fakeServer) Received() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.received...)
}

// MaxFlight returns the most HTTP requests open at once (terminate excluded).
func (f *fakeServer) MaxFlight() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxFlight
}

// Push queues payloads for the client: they go out in the response to the
// oldest held request, or the next request processed.
func (f *fakeServer) Push(payloads ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outq = append(f.outq, payloads...)
	f.flushLocked()
}

// PushBody answers the oldest held request (or the next one) with a raw body.
func (f *fakeServer) PushBody(raw string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rawNext = &raw
	f.flushLocked()
}

// Release answers the oldest held request with an empty body (as when wait
// expires).
func (f *fakeServer) Release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.held) > 0 {
		h := f.held[0]
		f.held = f.held[1:]
		f.answerLocked(h, f.emptyBody(""))
	}
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	req, err := parseFakeRequest(raw)
	if err != nil {
		f.t.Errorf("fake server: client sent a bad body %q: %v", raw, err)
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	req.Header = r.Header.Clone()
	req.Remote = r.RemoteAddr
	if f.cfg.ReadJitter > 0 {
		time.Sleep(rand.N(f.cfg.ReadJitter))
	}
	terminate := req.Attrs["type"] == "terminate"
	if f.wire != nil {
		req.Wire = f.wire.at(r.RemoteAddr)
	}

	f.mu.Lock()
	req.afterReport = f.reported
	f.attempts[req.RID]++
	req.Attempt = f.attempts[req.RID]
	f.requests = append(f.requests, req)
	if f.cfg.StrictOrder {
		f.checkOrderLocked(req)
		if f.stall != "" {
			// Like ejabberd: no answer, to this request or any other.
			f.mu.Unlock()
			f.hang(r)
			return
		}
	}
	if !terminate {
		f.flight++
		f.maxFlight = max(f.maxFlight, f.flight)
		defer func() {
			f.mu.Lock()
			f.flight--
			f.changedLocked()
			f.mu.Unlock()
		}()
	}
	f.changedLocked()
	var ft fault
	if f.cfg.Fault != nil {
		ft = f.cfg.Fault(req)
	}
	for k, v := range f.cfg.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")

	switch ft.Kind {
	case faultStatus:
		f.mu.Unlock()
		w.WriteHeader(ft.Status)
		return
	case faultRaw:
		f.mu.Unlock()
		_, _ = io.WriteString(w, ft.Body)
		return
	case faultRedirect:
		f.mu.Unlock()
		http.Redirect(w, r, ft.Body, http.StatusFound)
		return
	case faultLose:
		f.mu.Unlock()
		f.hang(r)
		return
	}

	if req.Attrs["sid"] == "" {
		resp := f.createLocked(req)
		f.mu.Unlock()
		f.write(w, r, resp, ft)
		return
	}
	if req.Attrs["sid"] != f.cfg.SID || !f.created {
		f.mu.Unlock()
		_, _ = io.WriteString(w, "<body type='terminate' condition='item-not-found' xmlns='http://jabber.org/protocol/httpbind'/>")
		return
	}
	if resp, ok := f.responses[req.RID]; ok {
		// A retransmission of a request already answered.
		f.mu.Unlock()
		f.write(w, r, resp, ft)
		return
	}
	if f.answered[req.RID] {
		// Answered, and the answer forgotten (Buffer).
		f.forgotten++
		f.mu.Unlock()
		_, _ = io.WriteString(w, "<body type='terminate' condition='item-not-found' xmlns='http://jabber.org/protocol/httpbind'/>")
		return
	}
	ch := make(chan []byte, 1)
	h := f.findLocked(req.RID)
	if h != nil {
		// A retransmission of a request processed but not yet answered:
		// the new HTTP request takes the place of the old one.
		select {
		case h.resp <- nil:
		default:
		}
		h.resp = ch
	} else {
		h = &held{rid: req.RID, resp: ch}
		f.waiting[req.RID] = &arrival{req: req, h: h}
		f.processLocked()
	}
	f.mu.Unlock()

	var expire <-chan time.Time
	if f.cfg.HoldFor > 0 {
		t := time.NewTimer(f.cfg.HoldFor)
		defer t.Stop()
		expire = t.C
	}
	for {
		select {
		case resp := <-ch:
			if resp != nil {
				f.write(w, r, resp, ft)
			}
			return
		case <-expire:
			expire = nil
			f.mu.Lock()
			for i, x := range f.held {
				if x == h {
					f.held = append(f.held[:i:i], f.held[i+1:]...)
					f.answerLocked(h, f.emptyBody(""))
					break
				}
			}
			f.mu.Unlock()
		case <-r.Context().Done():
			return
		case <-f.done:
			return
		}
	}
}

// findLocked returns the held or waiting request with this rid.
func (f *fakeServer) findLocked(rid uint64) *held {
	for _, h := range f.held {
		if h.rid == rid {
			return h
		}
	}
	if a := f.waiting[rid]; a != nil {
		return a.h
	}
	return nil
}

// write sends a response, or applies a fault that happens after processing.
func (f *fakeServer) write(w http.ResponseWriter, r *http.Request, resp []byte, ft fault) {
	switch ft.Kind {
	case faultDrop:
		hj, ok := w.(http.Hijacker)
		if !ok {
			f.t.Errorf("fake server: cannot hijack")
			return
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
		return
	case faultSwallow:
		f.hang(r)
		return
	}
	_, _ = w.Write(resp)
}

func (f *fakeServer) hang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-f.done:
	}
}

func (f *fakeServer) createLocked(req *fakeRequest) []byte {
	f.created = true
	f.next = req.RID + 1
	if f.cfg.CreationBody != "" {
		return []byte(f.cfg.CreationBody)
	}
	var b strings.Builder
	b.WriteString("<body")
	attr := func(name string, v int) {
		if v >= 0 && !(v == 0 && (name == "polling" || name == "inactivity" || name == "maxpause")) {
			fmt.Fprintf(&b, " %s='%d'", name, v)
		}
	}
	fmt.Fprintf(&b, " sid='%s'", f.cfg.SID)
	attr("wait", f.cfg.Wait)
	attr("hold", f.cfg.Hold)
	attr("requests", f.cfg.Requests)
	attr("polling", f.cfg.Polling)
	attr("inactivity", f.cfg.Inactivity)
	attr("maxpause", f.cfg.MaxPause)
	if f.cfg.Ack {
		fmt.Fprintf(&b, " ack='%d'", req.RID)
	}
	if f.cfg.From != "" {
		fmt.Fprintf(&b, " from='%s'", f.cfg.From)
	}
	b.WriteString(" ver='1.11' xmpp:version='1.0'")
	b.WriteString(" xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' xmlns:stream='http://etherx.jabber.org/streams'")
	if f.cfg.FeaturesLater {
		f.outq = append(f.outq, saslFeatures)
		b.WriteString("/>")
	} else {
		b.WriteString(">" + saslFeatures + "</body>")
	}
	return []byte(b.String())
}

// processLocked processes the requests that are next in rid order.
func (f *fakeServer) processLocked() {
	for {
		a := f.waiting[f.next]
		if a == nil {
			break
		}
		delete(f.waiting, f.next)
		f.next++
		req := a.req
		f.received = append(f.received, req.Children...)
		if f.cfg.Reply != nil {
			for _, p := range req.Children {
				f.outq = append(f.outq, f.cfg.Reply(p)...)
			}
		}
		if req.Attrs["type"] == "terminate" {
			f.ended = true
			held := f.held
			f.held = nil
			answerHeld := func() {
				for _, h := range held {
					f.answerLocked(h, f.emptyBody(""))
				}
			}
			if f.cfg.HeldLate == 0 {
				answerHeld()
			}
			f.answerLocked(a.h, []byte("<body type='terminate' xmlns='http://jabber.org/protocol/httpbind'/>"))
			if f.cfg.HeldLate > 0 {
				time.AfterFunc(f.cfg.HeldLate, func() {
					f.mu.Lock()
					defer f.mu.Unlock()
					answerHeld()
				})
			}
			continue
		}
		if req.Attrs["xmpp:restart"] == "true" {
			f.restarts++
			f.outq = append(f.outq, bindFeatures)
		}
		if ack, _ := strconv.ParseUint(req.Attrs["ack"], 10, 64); f.cfg.Report && ack != 0 && ack < f.lastAns && f.answered[ack+1] {
			// XEP-0124 §9.2: the client has not seen a response we sent.
			f.reported = true
			f.answerLocked(a.h, []byte(fmt.Sprintf("<body report='%d' time='10' xmlns='http://jabber.org/protocol/httpbind'/>", ack+1)))
			continue
		}
		f.held = append(f.held, a.h)
	}
	f.flushLocked()
}

// flushLocked answers held requests: the oldest with what is queued, and
// any beyond 'hold' with an empty body. A stalled fake answers nothing.
func (f *fakeServer) flushLocked() {
	if f.stall != "" {
		return
	}
	if len(f.held) > 0 && (len(f.outq) > 0 || f.rawNext != nil) {
		h := f.held[0]
		f.held = f.held[1:]
		if f.rawNext != nil {
			f.answerLocked(h, []byte(*f.rawNext))
			f.rawNext = nil
		} else {
			f.answerLocked(h, f.emptyBody(strings.Join(f.outq, "")))
			f.outq = nil
		}
	}
	for len(f.held) > f.cfg.Hold {
		h := f.held[0]
		f.held = f.held[1:]
		f.answerLocked(h, f.emptyBody(""))
	}
	f.changedLocked()
}

func (f *fakeServer) emptyBody(payload string) []byte {
	if payload == "" {
		return []byte("<body xmlns='http://jabber.org/protocol/httpbind'/>")
	}
	return []byte("<body xmlns='http://jabber.org/protocol/httpbind' xmlns:stream='http://etherx.jabber.org/streams'>" + payload + "</body>")
}

// answerLocked sends (and buffers) the response to a processed request.
func (f *fakeServer) answerLocked(h *held, resp []byte) {
	f.responses[h.rid] = resp
	if f.cfg.Buffer > 0 && len(f.responses) > f.cfg.Buffer {
		delete(f.responses, slices.Min(slices.Collect(maps.Keys(f.responses))))
	}
	f.answered[h.rid] = true
	f.lastAns = max(f.lastAns, h.rid)
	if h.resp != nil {
		h.resp <- resp
	}
	f.changedLocked()
}

// parseFakeRequest reads a request <body/>.
func parseFakeRequest(raw []byte) (*fakeRequest, error) {
	if err := xmlframe.Check(raw, transport.Limits{}); err != nil {
		return nil, err
	}
	d := xml.NewDecoder(bytes.NewReader(raw))
	req := &fakeRequest{Raw: raw, Attrs: make(map[string]string)}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if start.Name.Space != nsHTTPBind || start.Name.Local != "body" {
			return nil, fmt.Errorf("root is %v", start.Name)
		}
		for _, a := range start.Attr {
			switch a.Name.Space {
			case "":
				req.Attrs[a.Name.Local] = a.Value
			case nsXML:
				req.Attrs["xml:"+a.Name.Local] = a.Value
			case nsXBOSH:
				req.Attrs["xmpp:"+a.Name.Local] = a.Value
			case "xmlns":
				req.Attrs["xmlns:"+a.Name.Local] = a.Value
			default:
				return nil, fmt.Errorf("attribute in unexpected namespace %v", a.Name)
			}
		}
		if s, ok := req.Attrs["rid"]; ok {
			if req.RID, err = strconv.ParseUint(s, 10, 64); err != nil {
				return nil, err
			}
		}
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, err
			}
			switch t := tok.(type) {
			case xml.StartElement:
				elem, err := xmlframe.AppendElement(nil, t, d, nsClient)
				if err != nil {
					return nil, err
				}
				req.Children = append(req.Children, string(elem))
			case xml.EndElement:
				return req, nil
			}
		}
	}
}

// byRID returns the first request seen for each rid, in rid order.
func byRID(reqs []*fakeRequest) []*fakeRequest {
	var out []*fakeRequest
	for _, r := range reqs {
		if r.Attempt == 1 {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RID < out[j].RID })
	return out
}
