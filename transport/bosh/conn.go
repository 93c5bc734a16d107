package bosh

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xmppconn/xmppconn/transport"
)

// closeTimeout bounds how long Close waits for the answer to its terminate
// request, whatever the context allows.
const closeTimeout = 5 * time.Second

// heldGrace bounds how long Close waits, once the terminate is answered,
// for the answers to the requests the server held (awaitHeld).
const heldGrace = 100 * time.Millisecond

// Conn is one XMPP stream over a BOSH session. It implements transport.Conn.
//
// Acknowledgements (XEP-0124 §9): the session request carries ack='1', and
// every later request whose predecessors have not all been answered carries
// ack set to the highest rid answered in order. A response with a 'report'
// attribute naming a request still unanswered makes the Conn abort that
// request's HTTP exchange and retransmit it at once, with the same rid and
// body, to get the lost response from the server's buffer. The server's own
// 'ack' values are recorded (Params.Ack) but not acted on: a lost request
// shows as an HTTP error or timeout, which is retried anyway.
type Conn struct {
	url    string
	domain string
	opts   settings
	client *http.Client
	clock  clock

	// ctx is cancelled when the session ends (Close or failure): it aborts
	// every HTTP exchange and stops the goroutines, which wg counts.
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	pollTimer timer // runs the scheduler when a paced poll is due (schedule.go)

	// timeout, when set, replaces 1.1 x wait as the HTTP timeout (tests).
	timeout time.Duration

	closeDone chan struct{} // closed when Close has finished

	mu      sync.Mutex
	state   connState
	closed  bool  // Close was called
	err     error // why the session ended, when it did
	sid     string
	params  Params
	header  transport.Header
	nextRID uint64              // rid of the next new request
	nextIn  uint64              // rid of the next response to process, in order
	out     []outItem           // elements and restarts waiting for a request
	flight  int                 // HTTP exchanges under way (terminate excluded)
	pending map[uint64]*request // sent, response not yet processed
	arrived map[uint64]*body    // responses waiting for an earlier one
	readq   [][]byte            // elements for ReadElement
	readqN  int                 // bytes in readq
	outN    int                 // bytes in out
	notify  chan struct{}       // closed and replaced when readq or err changes
	readers []func()            // NotifyReadable callbacks waiting for readq or err
	settled chan struct{}       // closed and replaced when a response arrives

	// Poll pacing (XEP-0124 §11): the last new request, whether it was
	// empty and when it was sent, and whether its response brought nothing.
	lastRID     uint64
	lastEmpty   bool
	lastSent    time.Time
	lastNothing bool

	status   transport.Status
	tlsState *tls.ConnectionState

	// Rid order at the connection manager (order.go): lastRead is closed
	// once the request with rid nextRID-1 counts as read, nil before the
	// first request; untraced is set once a try got an answer without
	// httptrace's GotConn, from a RoundTripper that does not report its
	// writes. unread is set when a response brings elements, at
	// deliveredAt, and cleared when the reader has taken them all and waits
	// for more: until then, during negotiation, no empty poll starts
	// (schedule.go).
	lastRead    chan struct{}
	untraced    atomic.Bool
	unread      bool
	deliveredAt time.Time
	live        bool // Negotiated was called: polls wait for no reader
}

var (
	_ transport.Conn         = (*Conn)(nil)
	_ transport.ReadNotifier = (*Conn)(nil)
	_ transport.Negotiator   = (*Conn)(nil)
)

type connState int

const (
	stateNew      connState = iota // Dial done, no session request yet
	stateCreating                  // session request under way
	stateOpen                      // session created
	stateFailed                    // session creation failed
)

// outItem is an element waiting to be sent, or a stream restart.
type outItem struct {
	elem    []byte
	restart bool
}

// Dial returns a Conn for the BOSH endpoint rawURL (http or https, used as
// is, query included) and the XMPP domain. It does no network I/O: Open
// sends the session creation request. ctx is not used and is there for
// symmetry with the other transports.
func Dial(ctx context.Context, rawURL, domain string, opts *Options) (*Conn, error) {
	_ = ctx
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("bosh: dial: invalid endpoint url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, errors.New("bosh: dial: endpoint url must be http:// or https:// with a host")
	}
	if domain == "" {
		return nil, errors.New("bosh: dial: empty domain")
	}
	s := opts.settings()
	var hc *http.Client
	if opts != nil {
		hc = opts.HTTPClient
	}
	if hc == nil {
		hc = defaultClient
	}
	client := *hc
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	ctx, cancel := context.WithCancel(context.Background())
	return &Conn{
		url:       rawURL,
		domain:    domain,
		opts:      s,
		client:    &client,
		clock:     realClock{},
		ctx:       ctx,
		cancel:    cancel,
		closeDone: make(chan struct{}),
		nextRID:   initialRID(),
		pending:   make(map[uint64]*request),
		arrived:   make(map[uint64]*body),
		notify:    make(chan struct{}),
		settled:   make(chan struct{}),
		params: Params{
			Wait: time.Duration(waitSeconds(s.wait)) * time.Second,
			Hold: s.hold,
		},
	}, nil
}

// initialRID returns a random first rid in [2^32, 2^52): large and
// unpredictable (XEP-0124 §14.1), with room for 2^52 requests below 2^53.
func initialRID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	const lo, hi = 1 << 32, 1 << 52
	return lo + binary.BigEndian.Uint64(b[:])%(hi-lo)
}

// SID returns the BOSH session id, or "" before the session is created. It is
// a session secret: log it with care.
func (c *Conn) SID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sid
}

// Params returns the session parameters in use.
func (c *Conn) Params() Params {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.params
}

// Open creates the BOSH session (restart false) and returns the stream header
// taken from the session creation response: ID is the sid, From the server's
// 'from' or the domain. The stream features come in that response or a
// later one; ReadElement returns them either way. With restart true, after
// SASL succeeded, Open queues a request with xmpp:restart='true' and returns
// without waiting for its answer, which brings the new features.
//
// The session creation request is sent with ctx: an httptrace.ClientTrace
// in it sees that request (and its retries), as net/http reports them.
func (c *Conn) Open(ctx context.Context, restart bool) (transport.Header, error) {
	if restart {
		return c.restart()
	}
	return c.create(ctx)
}

func (c *Conn) create(ctx context.Context) (transport.Header, error) {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return transport.Header{}, transport.ErrClosed
	case c.state != stateNew:
		c.mu.Unlock()
		return transport.Header{}, errors.New("bosh: open: session already requested")
	}
	c.state = stateCreating
	r := c.newRequestLocked(kindSession)
	r.body = sessionBody(r.rid, c.domain, &c.opts)
	c.lastRID = r.rid
	c.mu.Unlock()

	octx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()
	b, err := c.exchange(octx, r, c.opts.tries)

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return transport.Header{}, transport.ErrClosed
	}
	if err == nil {
		err = c.establishLocked(r, b)
	}
	if err != nil {
		c.state = stateFailed
		err = fmt.Errorf("bosh: session request: %w", err)
		c.failLocked(err)
		return transport.Header{}, err
	}
	return c.header, nil
}

// establishLocked adopts the session creation response and starts the
// session: the first long-poll goes out before it returns.
func (c *Conn) establishLocked(r *request, b *body) error {
	if b.typ == "terminate" {
		return terminateError(b, c.opts.redact)
	}
	if b.sid == "" {
		return &MalformedError{Reason: "session creation response without sid"}
	}
	c.sid = b.sid
	c.params = adoptParams(b, c.params)
	c.header = transport.Header{ID: b.sid, From: b.from, Version: b.xmppVersion, Lang: b.lang}
	if c.header.From == "" {
		c.header.From = c.domain
	}
	if c.header.Lang == "" {
		c.header.Lang = c.opts.lang
	}
	c.nextIn = r.rid + 1
	c.state = stateOpen
	c.queueLocked(b.children)
	c.scheduleLocked()
	return nil
}

func (c *Conn) restart() (transport.Header, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return transport.Header{}, transport.ErrClosed
	case c.err != nil:
		return transport.Header{}, c.err
	case c.state != stateOpen:
		return transport.Header{}, errors.New("bosh: restart: no session")
	}
	c.out = append(c.out, outItem{restart: true})
	c.scheduleLocked()
	return c.header, nil
}

// ReadElement returns the next element the server sent: the children of the
// response bodies one by one, in rid order, each self-contained (stanzas
// carry xmlns='jabber:client'). A <stream:error/> is returned like any
// other element. Once the session is over it returns the reason, after the
// elements that came before it: a *TerminateError (clean: it matches
// transport.ErrStreamClosed), a *transport.RedirectError, an *HTTPError, a
// *MalformedError, a *transport.LimitError or a network error, wrapped.
// transport.Transient tells whether a new session may succeed: each of these
// errors of the package implements transport.Error (the *TerminateError
// through the error that wraps it). After Close it returns
// transport.ErrClosed.
func (c *Conn) ReadElement(ctx context.Context) ([]byte, error) {
	for {
		c.mu.Lock()
		switch {
		case c.closed:
			c.mu.Unlock()
			return nil, transport.ErrClosed
		case len(c.readq) > 0:
			e := c.readq[0]
			c.readq[0] = nil
			c.readq = c.readq[1:]
			if len(c.readq) == 0 {
				c.readq = nil
			}
			full := c.readqN >= c.queueBound()
			c.readqN -= len(e)
			if full && c.readqN < c.queueBound() {
				c.scheduleLocked() // the polls held back for room go now
			}
			c.mu.Unlock()
			return e, nil
		case c.err != nil:
			err := c.err
			c.mu.Unlock()
			return nil, err
		case c.state == stateNew:
			c.mu.Unlock()
			return nil, errors.New("bosh: read: session not opened")
		}
		c.readerWaitsLocked()
		ch := c.notify
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// WriteElement queues elem, which must be one complete self-contained
// element, for the next request: at once if the server allows one more
// request, else with everything queued meanwhile in the request that follows
// the next response. elem is copied.
func (c *Conn) WriteElement(ctx context.Context, elem []byte) error {
	_ = ctx
	if len(bytes.TrimSpace(elem)) == 0 {
		return errors.New("bosh: write: empty element")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		switch {
		case c.closed:
			return transport.ErrClosed
		case c.err != nil:
			return c.err
		case c.state != stateOpen:
			return errors.New("bosh: write: no session")
		}
		if c.outN < c.queueBound() {
			break
		}
		// Past the bound the writer waits for the requests to take what
		// waits: a server that answers nothing slows the client down
		// instead of growing its queue.
		settled := c.settled
		c.mu.Unlock()
		select {
		case <-settled:
		case <-ctx.Done():
			c.mu.Lock()
			return ctx.Err()
		case <-c.ctx.Done():
		}
		c.mu.Lock()
	}
	c.out = append(c.out, outItem{elem: bytes.Clone(elem)})
	c.outN += len(elem)
	c.scheduleLocked()
	return nil
}

// queueBound is the most bytes held in each of the Conn's queues, what the
// server sent and the reader has not taken, and what the writer gave and no
// request has taken: past it the Conn starts no request that does not have
// to go (schedule.go), and the writer waits. Twice the bound of one
// response body.
func (c *Conn) queueBound() int { return 2 * c.opts.limits.MaxElementSize }

// Close ends the session: it sends a type='terminate' request carrying the
// elements still queued and an unavailable presence (at once, even when the
// 'requests' limit is reached, as XEP-0124 §11 allows for terminate), waits
// for its answer at most until ctx is done or a few seconds have passed,
// gives the requests the server held up to 100 ms more to come back (so that
// their kept-alive connections serve the next session), then cancels the
// requests still open and waits for every goroutine of the Conn to end. A
// ReadElement blocked meanwhile returns transport.ErrClosed. Close may be
// called more than once; later calls wait for the first to finish and
// return nil.
func (c *Conn) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		select {
		case <-c.closeDone:
		case <-ctx.Done():
		}
		return nil
	}
	c.waitSlotLocked(ctx)
	if c.closed { // Abort came while we waited
		c.mu.Unlock()
		<-c.closeDone
		return nil
	}
	c.closed = true
	c.broadcastLocked()
	var done chan error
	if c.state == stateOpen && c.err == nil {
		payload := make([][]byte, 0, len(c.out)+1)
		for _, it := range c.out {
			if !it.restart {
				payload = append(payload, it.elem)
			}
		}
		payload = append(payload, []byte(unavailable))
		c.out, c.outN = nil, 0
		r := c.newRequestLocked(kindTerminate)
		r.body = payloadBody(r.rid, c.sid, c.ackLocked(r.rid), payload, true)
		done = make(chan error, 1)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			_, err := c.exchange(c.ctx, r, 1)
			done <- err
		}()
	}
	c.mu.Unlock()

	var err error
	if done != nil {
		t := time.NewTimer(closeTimeout)
		select {
		case err = <-done:
		case <-ctx.Done():
			err = ctx.Err()
		case <-t.C:
			err = errors.New("no answer to terminate request")
		}
		t.Stop()
	}
	ended := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(ended)
	}()
	if done != nil && err == nil {
		c.awaitHeld(ctx, ended)
	}
	c.cancel()
	c.mu.Lock()
	c.stopPollTimerLocked()
	c.mu.Unlock()
	<-ended
	close(c.closeDone)
	if err != nil {
		return fmt.Errorf("bosh: close: %w", err)
	}
	return nil
}

// awaitHeld gives the requests still out once the terminate is answered
// (the one the server held) heldGrace to come back: the connection
// manager answers them as the session ends (Prosody and ejabberd do), and
// a request cancelled before its answer is read closes its connection,
// which the next session would have taken from the pool.
func (c *Conn) awaitHeld(ctx context.Context, ended <-chan struct{}) {
	t := time.NewTimer(heldGrace)
	defer t.Stop()
	select {
	case <-ended:
	case <-t.C:
	case <-ctx.Done():
	}
}

// Abort ends the Conn at once without a terminate request: the requests
// under way are cancelled (their connections closed), and the server's
// session lives on until its inactivity timeout, so a XEP-0198 session can
// be resumed on a new one. It waits for the Conn's goroutines to end, which
// cancelled requests do at once.
func (c *Conn) Abort() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.cancel() // a Close under way stops waiting for its terminate
		return
	}
	c.closed = true
	c.broadcastLocked()
	c.stopPollTimerLocked()
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	close(c.closeDone)
}

// waitSlotLocked waits, bounded by ctx and closeTimeout, until fewer than
// the allowed number of requests are in flight, so that the terminate goes
// out in rid order behind the requests already sent instead of racing them:
// a connection manager that takes a lower rid arriving late for a repeat
// (Prosody 0.12 does) would drop a message that the terminate overtook.
// Called and returns with c.mu held.
func (c *Conn) waitSlotLocked(ctx context.Context) {
	t := time.NewTimer(closeTimeout)
	defer t.Stop()
	for c.state == stateOpen && c.err == nil && c.flight >= c.maxFlightLocked() {
		ch := c.settled
		c.mu.Unlock()
		expired := false
		select {
		case <-ch:
		case <-ctx.Done():
			expired = true
		case <-t.C:
			expired = true
		}
		c.mu.Lock()
		if expired {
			return
		}
	}
}

// ConnectionState returns the TLS state of the last HTTPS response, and
// false over plain HTTP or before any response.
func (c *Conn) ConnectionState() (tls.ConnectionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tlsState == nil {
		return tls.ConnectionState{}, false
	}
	return *c.tlsState, true
}

// Status returns the status code and a copy of the headers of the last HTTP
// response.
func (c *Conn) Status() transport.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.status
	s.Header = s.Header.Clone()
	return s
}

// record keeps the status, headers and TLS state of a response.
func (c *Conn) record(resp *http.Response) {
	c.mu.Lock()
	c.status.HTTPStatus = resp.StatusCode
	c.status.Header = resp.Header // ours once Do returned; Status copies it
	if resp.TLS != nil {
		c.tlsState = resp.TLS
	}
	c.mu.Unlock()
	if c.opts.onResponse != nil {
		c.opts.onResponse(resp.StatusCode, resp.Header)
	}
}

// requestTimeout is the HTTP timeout of one try: the wait plus a tenth of
// it, and at least minTimeoutMargin more than the wait, for the answer to a
// request the server does not hold to cross a slow network (a wait of 0 is
// a server that holds nothing).
func (c *Conn) requestTimeout() time.Duration {
	if c.timeout > 0 {
		return c.timeout
	}
	c.mu.Lock()
	w := c.params.Wait
	c.mu.Unlock()
	return w + max(w/10, minTimeoutMargin)
}

// queueLocked makes elements available to ReadElement.
func (c *Conn) queueLocked(elems [][]byte) {
	if len(elems) == 0 {
		return
	}
	c.readq = append(c.readq, elems...)
	for _, e := range elems {
		c.readqN += len(e)
	}
	c.unread, c.deliveredAt = true, c.clock.Now()
	c.broadcastLocked()
}

// failLocked ends the session with err, unless it already ended.
func (c *Conn) failLocked(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	c.out, c.outN = nil, 0
	c.cancel()
	c.stopPollTimerLocked()
	c.broadcastLocked()
}

// NotifyReadable implements transport.ReadNotifier.
func (c *Conn) NotifyReadable(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readableLocked() {
		f()
		return
	}
	c.readers = append(c.readers, f)
	c.readerWaitsLocked()
}

// readableLocked reports whether ReadElement would return at once.
func (c *Conn) readableLocked() bool {
	return c.closed || len(c.readq) > 0 || c.err != nil || c.state == stateNew
}

// broadcastLocked wakes every ReadElement waiting, and runs the
// NotifyReadable callbacks once there is something to read.
func (c *Conn) broadcastLocked() {
	close(c.notify)
	c.notify = make(chan struct{})
	if len(c.readers) > 0 && c.readableLocked() {
		fs := c.readers
		c.readers = nil
		for _, f := range fs {
			f()
		}
	}
}
