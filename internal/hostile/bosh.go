package hostile

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
)

// Namespaces of BOSH (XEP-0124, XEP-0206).
const (
	NSHTTPBind = "http://jabber.org/protocol/httpbind"
	NSXBOSH    = "urn:xmpp:xbosh"
)

// boshBatch is the most payload a response carries, so that a flood stays
// within the client's bound on one body (1 MiB by default, the serialized
// children twice that) unless a single element is larger.
const boshBatch = 768 << 10

// boshUnread is the most client elements a session keeps for a script that
// does not read them: older ones are dropped, as a server that ignores what
// it gets would.
const boshUnread = 4096

// boshBacklog is the most payload a session queues for responses the client
// has not asked for yet: Send waits beyond it, as a server writing to a
// socket nobody reads would.
const boshBacklog = 1 << 20

// BOSHOptions changes how a BOSHServer behaves beside its script. The zero
// value is a plain XEP-0206 connection manager over TLS.
type BOSHOptions struct {
	// Plain serves http:// instead of https://.
	Plain bool
	// Creation sets attributes of the session creation response by name
	// (sid, wait, hold, requests, polling, inactivity, maxpause, ver, from,
	// xmpp:version, or any other); an empty value leaves one out.
	Creation map[string]string
	// Intercept, when set, sees every request first; when it returns true
	// it has answered the request itself (an HTTP error, a drip, a response
	// that never ends) and the session does not see it.
	Intercept func(w http.ResponseWriter, r *http.Request, req *BOSHRequest) bool
	// HoldFor is how long a request is held without anything to send;
	// default 20 s.
	HoldFor time.Duration
	// TLS replaces the CA's server configuration (another certificate).
	TLS *tls.Config
}

// BOSHRequest is one request as the server received it.
type BOSHRequest struct {
	N        int               // the server's count of HTTP requests, from 1
	Attrs    map[string]string // the <body/>'s attributes by local name (rid, sid, restart, type)
	Children []string          // its payload elements, self-contained
}

// BOSHServer is a BOSH connection manager on httptest that runs a Script
// on every session it creates.
type BOSHServer struct {
	URL    string // http:// or https:// URL of the endpoint
	srv    *httptest.Server
	script Script
	opts   BOSHOptions
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu        sync.Mutex
	sessions  map[string]*boshSession
	n         int // HTTP requests seen
	flight    int // requests being answered (terminate excluded)
	maxFlight int
}

// NewBOSH starts a BOSHServer that presents ca's certificate (unless
// opts.Plain) and runs s on each session.
func NewBOSH(ca *CA, opts BOSHOptions, s Script) *BOSHServer {
	if opts.HoldFor <= 0 {
		opts.HoldFor = 20 * time.Second
	}
	b := &BOSHServer{script: s, opts: opts, sessions: make(map[string]*boshSession)}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.srv = httptest.NewUnstartedServer(http.HandlerFunc(b.serve))
	b.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if opts.Plain {
		b.srv.Start()
	} else {
		b.srv.TLS = opts.TLS
		if b.srv.TLS == nil {
			b.srv.TLS = ca.ServerConfig()
		}
		b.srv.StartTLS()
	}
	b.URL = b.srv.URL + "/http-bind"
	return b
}

// Close stops the scripts and the server, and waits for them.
func (b *BOSHServer) Close() {
	b.once.Do(func() {
		b.cancel()
		b.srv.CloseClientConnections()
		b.srv.Close()
		b.wg.Wait()
	})
}

// Requests returns the number of HTTP requests the server got.
func (b *BOSHServer) Requests() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// MaxInFlight returns the most requests (terminate excluded) the server was
// answering at once.
func (b *BOSHServer) MaxInFlight() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.maxFlight
}

func (b *BOSHServer) serve(w http.ResponseWriter, r *http.Request) {
	b.wg.Add(1)
	defer b.wg.Done()
	data, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		return
	}
	req, err := parseBOSHRequest(data)
	b.mu.Lock()
	b.n++
	if req != nil {
		req.N = b.n
	}
	b.mu.Unlock()
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if b.opts.Intercept != nil && b.opts.Intercept(w, r, req) {
		return
	}
	if req.Attrs["type"] != "terminate" {
		b.mu.Lock()
		b.flight++
		b.maxFlight = max(b.maxFlight, b.flight)
		b.mu.Unlock()
		defer func() {
			b.mu.Lock()
			b.flight--
			b.mu.Unlock()
		}()
	}
	sid := req.Attrs["sid"]
	if sid == "" {
		b.create(w, r, req)
		return
	}
	b.mu.Lock()
	s := b.sessions[sid]
	b.mu.Unlock()
	if s == nil {
		writeBody(w, "type='terminate' condition='item-not-found'", nil)
		return
	}
	s.handle(w, r, req)
}

// create starts a session and its script, and answers the creation request.
func (b *BOSHServer) create(w http.ResponseWriter, r *http.Request, req *BOSHRequest) {
	rid, err := strconv.ParseUint(req.Attrs["rid"], 10, 64)
	if err != nil {
		http.Error(w, "bad rid", http.StatusBadRequest)
		return
	}
	var raw [8]byte
	_, _ = rand.Read(raw[:])
	attrs := map[string]string{
		"sid": hex.EncodeToString(raw[:]), "wait": "60", "hold": "1", "requests": "2",
		"ver": "1.11", "from": Domain, "xmpp:version": "1.0",
	}
	for k, v := range b.opts.Creation {
		attrs[k] = v
	}
	s := &boshSession{
		srv: b, sid: attrs["sid"], nextRID: rid + 1, hold: 1, query: r.URL.Query(),
		opens: []bool{false}, changed: make(chan struct{}),
	}
	if h, err := strconv.Atoi(attrs["hold"]); err == nil && h >= 0 && h < 3 {
		s.hold = h
	}
	s.ctx, s.cancel = context.WithCancel(b.ctx)
	b.mu.Lock()
	b.sessions[s.sid] = s
	b.mu.Unlock()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.script(s.ctx, s)
		s.end("")
	}()
	names := make([]string, 0, len(attrs))
	for k, v := range attrs {
		if v != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var a strings.Builder
	for _, k := range names {
		a.WriteString(" " + k + "='" + Escape(attrs[k]) + "'")
	}
	writeBody(w, strings.TrimSpace(a.String()), nil)
}

// writeBody answers a request with a <body/> with attrs and children. It
// writes piece by piece, without a copy of the whole body: this server runs
// in the process whose heap the suite measures, and bodies of boshBatch
// under way at once took several MiB of it.
func writeBody(w http.ResponseWriter, attrs string, children []string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	open := "<body xmlns='" + NSHTTPBind + "' xmlns:xmpp='" + NSXBOSH + "' xmlns:stream='" + NSStream + "'"
	if attrs != "" {
		open += " " + attrs
	}
	if len(children) == 0 {
		_, _ = io.WriteString(w, open+"/>")
		return
	}
	_, _ = io.WriteString(w, open+">")
	for _, c := range children {
		if _, err := io.WriteString(w, c); err != nil {
			return
		}
	}
	_, _ = io.WriteString(w, "</body>")
}

// parseBOSHRequest reads a request <body/>.
func parseBOSHRequest(data []byte) (*BOSHRequest, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var start xml.StartElement
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		if t, ok := tok.(xml.StartElement); ok {
			start = t
			break
		}
	}
	if start.Name.Local != "body" {
		return nil, errors.New("hostile: request root is not <body/>")
	}
	req := &BOSHRequest{Attrs: make(map[string]string)}
	for _, a := range start.Attr {
		req.Attrs[a.Name.Local] = a.Value
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			out, err := xmlframe.AppendElement(nil, t, d, "jabber:client")
			if err != nil {
				return nil, err
			}
			req.Children = append(req.Children, string(out))
		case xml.EndElement:
			return req, nil
		}
	}
}

// boshSession is one session: a Peer for its script.
type boshSession struct {
	srv    *BOSHServer
	sid    string
	hold   int
	query  url.Values
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	changed chan struct{} // closed and replaced at every change
	nextRID uint64
	opens   []bool   // stream opens and restarts not yet accepted
	inq     []string // client elements not yet received
	out     []string // server elements not yet sent
	outSize int
	held    []uint64 // rids of the requests held, in order
	closed  bool     // the client sent a terminate
	ended   bool     // the script ended the session
	endBody string   // the attributes and children of the terminate body
}

func (s *boshSession) Query() url.Values { return s.query }

// changeLocked wakes everything that waits for the session.
func (s *boshSession) changeLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// wait waits for a change, or for ctx or the request to end; false when
// they did. s.mu is held on entry and on return.
func (s *boshSession) wait(ctx context.Context, t <-chan time.Time) bool {
	ch := s.changed
	s.mu.Unlock()
	defer s.mu.Lock()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	case <-t:
		return false
	}
}

func (s *boshSession) handle(w http.ResponseWriter, r *http.Request, req *BOSHRequest) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	rid, _ := strconv.ParseUint(req.Attrs["rid"], 10, 64)

	s.mu.Lock()
	defer s.mu.Unlock()
	for rid > s.nextRID && !s.ended {
		if !s.wait(ctx, nil) {
			return
		}
	}
	if rid == s.nextRID {
		s.nextRID++
		s.inq = append(s.inq, req.Children...)
		if n := len(s.inq) - boshUnread; n > 0 {
			s.inq = append([]string(nil), s.inq[n:]...)
		}
		if req.Attrs["restart"] == "true" || req.Attrs["restart"] == "1" {
			s.opens = append(s.opens, true)
		}
		if req.Attrs["type"] == "terminate" {
			s.closed = true
		}
		s.changeLocked()
	}
	if s.closed && req.Attrs["type"] == "terminate" {
		writeBody(w, "type='terminate'", nil)
		return
	}
	s.held = append(s.held, rid)
	sort.Slice(s.held, func(i, j int) bool { return s.held[i] < s.held[j] })
	release := func() {
		for i, h := range s.held {
			if h == rid {
				s.held = append(s.held[:i], s.held[i+1:]...)
				break
			}
		}
		s.changeLocked()
	}
	t := time.NewTimer(s.srv.opts.HoldFor)
	defer t.Stop()
	for {
		switch {
		case s.ended || s.closed:
			// What is left goes with the oldest request, which the client
			// processes first.
			var children []string
			if s.held[0] == rid {
				children = s.takeLocked()
			}
			release()
			attrs := s.endBody
			if attrs == "" {
				attrs = "type='terminate'"
			}
			writeBody(w, attrs, children)
			return
		case s.held[0] == rid && (len(s.out) > 0 || len(s.held) > s.hold):
			release()
			if len(s.out) > 0 && strings.HasPrefix(s.out[0], rawMark) {
				_, _ = w.Write([]byte(strings.TrimPrefix(s.out[0], rawMark)))
				s.out = s.out[1:]
				return
			}
			writeBody(w, "", s.takeLocked())
			return
		}
		if !s.wait(ctx, t.C) {
			release()
			if ctx.Err() == nil { // held long enough: an empty answer
				writeBody(w, "", nil)
			}
			return
		}
	}
}

// takeLocked takes the elements for one response.
func (s *boshSession) takeLocked() []string {
	n, size := 0, 0
	for n < len(s.out) && !strings.HasPrefix(s.out[n], rawMark) && (n == 0 || size+len(s.out[n]) <= boshBatch) {
		size += len(s.out[n])
		n++
	}
	taken := s.out[:n:n]
	s.out = s.out[n:]
	s.outSize -= size
	if len(s.out) == 0 {
		s.out = nil
	}
	return taken
}

// end ends the session with a terminate body of attrs ("": a clean end).
func (s *boshSession) end(attrs string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.ended, s.endBody = true, attrs
		s.changeLocked()
	}
}

func (s *boshSession) Accept(ctx context.Context) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.opens) == 0 {
		if s.closed || !s.wait(ctx, nil) {
			return false, ErrClientClosed
		}
	}
	restart := s.opens[0]
	s.opens = s.opens[1:]
	return restart, nil
}

func (s *boshSession) Send(ctx context.Context, elem string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.outSize > boshBacklog {
		if s.closed || !s.wait(ctx, nil) {
			return ErrClientClosed
		}
	}
	if s.closed || s.ended {
		return ErrClientClosed
	}
	s.out = append(s.out, elem)
	s.outSize += len(elem)
	s.changeLocked()
	return nil
}

func (s *boshSession) Recv(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.inq) == 0 {
		if s.closed || !s.wait(ctx, nil) {
			return "", ErrClientClosed
		}
	}
	e := s.inq[0]
	s.inq = s.inq[1:]
	return e, nil
}

// EndBOSH ends the BOSH session of p with a terminate body carrying attrs
// (for example "type='terminate' condition='see-other-uri'") and children;
// it does nothing on another transport. The script should return after it.
func EndBOSH(p Peer, attrs string, children ...string) {
	s, ok := p.(*boshSession)
	if !ok {
		return
	}
	s.mu.Lock()
	s.out = append(s.out, children...)
	s.mu.Unlock()
	s.end(attrs)
}

// IsBOSH reports whether p is a BOSH session.
func IsBOSH(p Peer) bool {
	_, ok := p.(*boshSession)
	return ok
}

// rawBOSH makes the next response of p's session the body as given,
// whatever it holds; it does nothing on another transport.
func rawBOSH(p Peer, body string) {
	s, ok := p.(*boshSession)
	if !ok {
		return
	}
	s.mu.Lock()
	s.out = append(s.out, rawMark+body)
	s.changeLocked()
	s.mu.Unlock()
}

// rawMark marks an element of the out queue that is a whole body.
const rawMark = "\x00raw:"
