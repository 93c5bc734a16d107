package xmppconn

import (
	"context"
	"crypto/tls"
	"net/http/httptrace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/transport"
)

// Phases of a connect or recovery attempt, the Name of a Phase, in the order
// they happen. A phase that does not apply is absent: no dns for an IP
// address, no tls over ws:// or http://, no stream_restart after SASL2, no
// bind after a resumption.
const (
	// PhaseDiscover is the XEP-0156 lookup of the endpoint, when Config.URL
	// is a bare domain (first attempt only).
	PhaseDiscover = "discover"
	// PhaseRedial covers dials of the attempt that did not lead to its end:
	// a redirect that was followed, a token refused as expired and asked
	// for again, SASL2 left unanswered and tried again with RFC 6120 SASL.
	// The phases of the last dial follow it.
	PhaseRedial = "redial"
	// PhaseDNS is the host name lookup of the endpoint.
	PhaseDNS = "dns"
	// PhaseConnect is the TCP connection; with Config.Dial, the whole of
	// the custom dial.
	PhaseConnect = "connect"
	// PhaseTLS is the TLS handshake (wss://, https://).
	PhaseTLS = "tls"
	// PhaseWebSocketUpgrade is the HTTP upgrade request and its 101 answer.
	PhaseWebSocketUpgrade = "websocket_upgrade"
	// PhaseBOSHSession is the BOSH session creation request and its answer.
	PhaseBOSHSession = "bosh_session"
	// PhaseStreamOpen is the stream's opening up to the server's
	// <stream:features/>: over WebSocket the <open/> round trip and the
	// features; over BOSH the wait for the features after the session
	// creation answer (often nothing: they come in that answer).
	PhaseStreamOpen = "stream_open"
	// PhaseSASL is one SASL step (RFC 6120 SASL or SASL2): step 1 runs from
	// the features to the server's first answer to <auth/> or
	// <authenticate/>, each later step from a <response/> to the next
	// answer. With SASL2 the last step holds the Bind 2 bind and the
	// inline stream management.
	PhaseSASL = "sasl"
	// PhaseStreamRestart is the stream restart after RFC 6120 SASL, up to
	// the new <stream:features/>.
	PhaseStreamRestart = "stream_restart"
	// PhaseResume is the XEP-0198 <resume/> and its answer (a recovery).
	PhaseResume = "resume"
	// PhaseBind is resource binding (RFC 6120 §7) up to its result.
	PhaseBind = "bind"
	// PhaseSession is the RFC 3921 session request, which a few servers
	// still require.
	PhaseSession = "session"
	// PhaseSMEnable is the XEP-0198 <enable/> sent behind the bind
	// request's result, up to the server's <enabled/> or <failed/>. The
	// client does not wait for it, so it is measured on the live stream and
	// is not part of Attempt.Total: it is Attempt.SMEnable, never in
	// Attempt.Phases.
	PhaseSMEnable = "sm_enable"
)

// Transports of an Attempt.
const (
	TransportWebSocket = "websocket"
	TransportBOSH      = "bosh"
	TransportCustom    = "custom" // Config.Dial
)

// Attempt is what one connect or recovery attempt measured, and what the
// server offered in it. Connection.LastAttempt returns it.
//
// Phases are contiguous: each begins where the one before it ended, the
// first at Start, the last ends at Start+Total, so their durations add up
// to Total. A phase that the transport repeated (a BOSH session request
// tried again after a network error) appears again where it happened.
type Attempt struct {
	Start time.Time // when the attempt began, before any lookup or dial
	// Total runs from Start to the negotiated session, or to the failure;
	// while the attempt is in progress, to now.
	Total      time.Duration
	Phases     []Phase
	InProgress bool // the attempt has not ended yet
	Connected  bool // the attempt ended with a session, new or resumed
	Resumed    bool // the XEP-0198 session was resumed

	// SMEnable is the round trip of the XEP-0198 <enable/> sent behind the
	// bind result (PhaseSMEnable); zero when none was sent (stream
	// management off or not offered, enabled inline with SASL2) or before
	// its answer came.
	SMEnable time.Duration

	Transport string // TransportWebSocket, TransportBOSH or TransportCustom
	Endpoint  string // the URL dialled last, token redacted

	Offered   Offered // what the server offered
	Mechanism string  // the SASL mechanism used; "" when SASL did not start
	SASL2     bool    // authenticated with SASL2 (XEP-0388)
	Bind2     bool    // bound with Bind 2 (XEP-0386)

	TLS TLSInfo // the TLS connection of the endpoint; zero without TLS
}

// Phase is one timed step of an Attempt.
type Phase struct {
	Name     string        // one of the Phase constants
	Step     int           // 1, 2, … for PhaseSASL; 0 for the others
	Start    time.Duration // since Attempt.Start
	Duration time.Duration
}

// Key returns the phase's name, with the step of a SASL step ("sasl_1",
// "sasl_2"): a key that is unique within an Attempt unless the transport
// repeated a phase.
func (p Phase) Key() string {
	if p.Step == 0 {
		return p.Name
	}
	return p.Name + "_" + strconv.Itoa(p.Step)
}

// Duration returns the time spent in the phases named name (all SASL steps
// for PhaseSASL), and whether there was any.
func (a Attempt) Duration(name string) (time.Duration, bool) {
	var d time.Duration
	found := false
	for _, p := range a.Phases {
		if p.Name == name {
			d += p.Duration
			found = true
		}
	}
	return d, found
}

// Offered is what the server offered in its stream features.
type Offered struct {
	// Mechanisms are the RFC 6120 SASL mechanisms, as offered.
	Mechanisms []string
	// SASL2 tells whether XEP-0388 SASL2 was offered, with SASL2Mechanisms.
	SASL2           bool
	SASL2Mechanisms []string
	// Bind2 tells whether XEP-0386 Bind 2 was offered inline in SASL2.
	Bind2 bool
	// StreamManagement tells whether XEP-0198 was offered: on the
	// authenticated stream, or inline in SASL2.
	StreamManagement bool
	// ChannelBinding lists the XEP-0440 channel-binding types offered.
	ChannelBinding []string
}

// MechanismOffered reports whether mech was offered, with RFC 6120 SASL or
// SASL2 (case-insensitive).
func (o Offered) MechanismOffered(mech string) bool {
	eq := func(m string) bool { return strings.EqualFold(m, mech) }
	return slices.ContainsFunc(o.Mechanisms, eq) || slices.ContainsFunc(o.SASL2Mechanisms, eq)
}

// TLSInfo describes the TLS connection of an endpoint.
type TLSInfo struct {
	Version     uint16 // tls.VersionTLS12, tls.VersionTLS13, …; 0 without TLS (tls.VersionName names it)
	CipherSuite uint16 // tls.CipherSuiteName names it
	// EarliestCertExpiry is the earliest NotAfter of the certificates the
	// server presented (its certificate and the chain it sent).
	EarliestCertExpiry time.Time
}

// LastAttempt returns what the most recent connect or recovery attempt
// measured (the one in progress, if any), and false before the first
// attempt. The value is a copy: reading it costs the caller. Recording
// costs an attempt a dozen clock readings and the HTTP trace hooks of its
// dial (about 15 small allocations, 2 % of a connect's), nothing per
// stanza; the Connection keeps the last attempt's record.
func (c *Connection) LastAttempt() (Attempt, bool) {
	r := c.lastAttempt.Load()
	if r == nil {
		return Attempt{}, false
	}
	return r.snapshot(), true
}

// phaseID names a phase in an attemptRecord; idNone is the start of a dial
// whose first phase is not known yet.
type phaseID uint8

const (
	idNone phaseID = iota
	idDiscover
	idRedial
	idDNS
	idConnect
	idTLS
	idUpgrade
	idBOSHSession
	idStreamOpen
	idSASL
	idStreamRestart
	idResume
	idBind
	idSession
)

var phaseNames = [...]string{
	idNone:          PhaseConnect,
	idDiscover:      PhaseDiscover,
	idRedial:        PhaseRedial,
	idDNS:           PhaseDNS,
	idConnect:       PhaseConnect,
	idTLS:           PhaseTLS,
	idUpgrade:       PhaseWebSocketUpgrade,
	idBOSHSession:   PhaseBOSHSession,
	idStreamOpen:    PhaseStreamOpen,
	idSASL:          PhaseSASL,
	idStreamRestart: PhaseStreamRestart,
	idResume:        PhaseResume,
	idBind:          PhaseBind,
	idSession:       PhaseSession,
}

// boundary is where a phase begins.
type boundary struct {
	id   phaseID
	step uint8
	at   time.Duration // since the attempt's start
}

// attemptRecord is what an attempt records as it goes: phase boundaries,
// not durations, so that a mark is one clock reading and the phases are
// contiguous by construction. The dial's HTTP hooks run on net/http's
// goroutines and the <enabled/> on the processor, hence the lock.
type attemptRecord struct {
	start time.Time

	mu        sync.Mutex
	marks     []boundary
	buf       [12]boundary // marks of a usual attempt, without an allocation
	dial      int          // index of the current dial's first mark; -1 before the first dial
	steps     uint8        // SASL steps so far
	end       time.Duration
	done      bool
	connected bool
	resumed   bool
	transport string
	endpoint  string // as dialled: it may hold a token
	offered   Offered
	mechanism string
	sasl2     bool
	bind2     bool
	tls       TLSInfo
	smSent    time.Duration // since start; valid with smPending or smAnswer
	smPending bool          // an <enable/> waits for its answer
	smAnswer  time.Duration // the answer's round trip, once it came
}

// beginAttempt starts the record of a new attempt and makes it the last one.
func (c *Connection) beginAttempt() *attemptRecord {
	r := &attemptRecord{start: time.Now(), dial: -1}
	r.marks = r.buf[:0]
	c.lastAttempt.Store(r)
	return r
}

// attemptRecord returns the record of the attempt in progress (or the last).
func (c *Connection) attemptRecord() *attemptRecord { return c.lastAttempt.Load() }

// mark begins phase id (step for SASL) now. Marking the phase in progress
// again does nothing; the first phase of a dial takes the dial's start.
// Every method of attemptRecord does nothing on a nil record.
func (r *attemptRecord) mark(id phaseID, step uint8) {
	if r == nil {
		return
	}
	at := time.Since(r.start)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.markLocked(id, step, at)
}

func (r *attemptRecord) markLocked(id phaseID, step uint8, at time.Duration) {
	if r.done {
		return // a late hook of a finished attempt
	}
	n := len(r.marks)
	switch {
	case n == 0:
		r.marks = append(r.marks, boundary{id, step, 0})
	case r.marks[n-1].id == id && r.marks[n-1].step == step:
	case r.marks[n-1].id == idNone:
		r.marks[n-1].id, r.marks[n-1].step = id, step
	default:
		r.marks = append(r.marks, boundary{id, step, at})
	}
}

// beginDial starts a dial of rawURL (transport: one of the Transport
// constants). The phases of an earlier dial of the same attempt become one
// PhaseRedial.
func (r *attemptRecord) beginDial(rawURL, transportName string) {
	if r == nil {
		return
	}
	at := time.Since(r.start)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dial >= 0 && r.dial < len(r.marks) {
		first := r.marks[r.dial]
		r.marks = append(r.marks[:r.dial], boundary{id: idRedial, at: first.at})
	}
	r.dial = len(r.marks)
	if r.dial == 0 {
		at = 0
	}
	r.marks = append(r.marks, boundary{id: idNone, at: at})
	r.transport, r.endpoint = transportName, rawURL // redacted by snapshot
	r.steps = 0
}

// settleDial names the dial's start, when no hook of the transport did, by
// what the transport does first: the upgrade, the session request, or a
// custom dial.
func (r *attemptRecord) settleDial() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.marks); n > 0 && r.marks[n-1].id == idNone {
		r.marks[n-1].id = r.requestPhaseLocked()
	}
}

// requestPhaseLocked is the phase of the transport's first request.
func (r *attemptRecord) requestPhaseLocked() phaseID {
	switch r.transport {
	case TransportWebSocket:
		return idUpgrade
	case TransportBOSH:
		return idBOSHSession
	}
	return idConnect
}

// openStream marks the stream's opening (restart false) or its restart.
// before tells whether the transport's Open is about to be called (true)
// or has returned (false): a BOSH Open holds the session request, which the
// HTTP hooks time, so its stream_open begins when it returns.
func (r *attemptRecord) openStream(restart, before bool) {
	if r == nil {
		return
	}
	if restart {
		if before {
			r.mark(idStreamRestart, 0)
		}
		return
	}
	if before == r.isBOSH() {
		return
	}
	r.settleDial()
	r.mark(idStreamOpen, 0)
}

// saslStep begins the next SASL step.
func (r *attemptRecord) saslStep() {
	if r == nil {
		return
	}
	at := time.Since(r.start)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.steps < 255 {
		r.steps++
	}
	r.markLocked(idSASL, r.steps, at)
}

// offer records what a <stream:features/> offered.
func (r *attemptRecord) offer(f *features) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	o := &r.offered
	if len(f.Mechanisms) > 0 && o.Mechanisms == nil {
		o.Mechanisms = f.Mechanisms
	}
	if s := f.SASL2; s != nil && !o.SASL2 {
		o.SASL2, o.SASL2Mechanisms = true, s.Mechanisms
		o.Bind2 = s.Inline.Bind != nil
		o.StreamManagement = o.StreamManagement || s.Inline.SM != nil
	}
	if f.SM != nil {
		o.StreamManagement = true
	}
	if cb := f.ChannelBinding; cb != nil && o.ChannelBinding == nil {
		o.ChannelBinding = []string{}
		for _, t := range cb.Types {
			o.ChannelBinding = append(o.ChannelBinding, t.Type)
		}
	}
}

// chose records the SASL mechanism in use.
func (r *attemptRecord) chose(mechanism string, sasl2 bool) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mechanism, r.sasl2 = mechanism, sasl2
}

// boundInline records a Bind 2 bind.
func (r *attemptRecord) boundInline() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bind2 = true
}

// smEnableSent records that <enable/> went out behind the bind result.
func (r *attemptRecord) smEnableSent() {
	if r == nil {
		return
	}
	at := time.Since(r.start)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.smSent, r.smPending = at, true
}

// smAnswered records the server's <enabled/> or <failed/> to <enable/>.
func (r *attemptRecord) smAnswered() {
	if r == nil {
		return
	}
	at := time.Since(r.start)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.smPending {
		r.smAnswer, r.smPending = at-r.smSent, false
	}
}

// setTLS records the TLS connection of the endpoint.
func (r *attemptRecord) setTLS(st tls.ConnectionState) {
	if r == nil {
		return
	}
	info := TLSInfo{Version: st.Version, CipherSuite: st.CipherSuite}
	for _, cert := range st.PeerCertificates {
		if info.EarliestCertExpiry.IsZero() || cert.NotAfter.Before(info.EarliestCertExpiry) {
			info.EarliestCertExpiry = cert.NotAfter
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tls = info
}

// finish ends the attempt: its total, how it ended, and the TLS state of
// tc when no handshake hook gave it.
func (r *attemptRecord) finish(tc transport.Conn, neg *negotiated) {
	if r == nil {
		return
	}
	at := time.Since(r.start)
	if tc != nil {
		r.mu.Lock()
		known := r.tls.Version != 0
		r.mu.Unlock()
		if st, ok := tc.ConnectionState(); ok && !known {
			r.setTLS(st)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.marks); n > 0 && r.marks[n-1].id == idNone {
		r.marks[n-1].id = r.requestPhaseLocked()
	}
	r.end, r.done = at, true
	if neg != nil {
		r.connected, r.resumed = true, neg.resumed
	}
}

// snapshot returns the record as an Attempt.
func (r *attemptRecord) snapshot() Attempt {
	now := time.Since(r.start)
	r.mu.Lock()
	defer r.mu.Unlock()
	end := r.end
	if !r.done {
		end = now
	}
	a := Attempt{
		Start:      r.start,
		Total:      end,
		Phases:     make([]Phase, len(r.marks)),
		InProgress: !r.done,
		Connected:  r.connected,
		Resumed:    r.resumed,
		SMEnable:   r.smAnswer,
		Transport:  r.transport,
		Endpoint:   auth.RedactURL(r.endpoint),
		Offered:    r.offered,
		Mechanism:  r.mechanism,
		SASL2:      r.sasl2,
		Bind2:      r.bind2,
		TLS:        r.tls,
	}
	a.Offered.Mechanisms = slices.Clone(r.offered.Mechanisms)
	a.Offered.SASL2Mechanisms = slices.Clone(r.offered.SASL2Mechanisms)
	a.Offered.ChannelBinding = slices.Clone(r.offered.ChannelBinding)
	for i, m := range r.marks {
		stop := end
		if i+1 < len(r.marks) {
			stop = r.marks[i+1].at
		}
		a.Phases[i] = Phase{Name: phaseNames[m.id], Step: int(m.step), Start: m.at, Duration: stop - m.at}
	}
	return a
}

// clientTrace returns the HTTP hooks that time the dial: the lookup, the
// TCP connection, the TLS handshake, then the upgrade or session request
// from the moment the connection is ready.
func (r *attemptRecord) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { r.mark(idDNS, 0) },
		ConnectStart:      func(string, string) { r.mark(idConnect, 0) },
		TLSHandshakeStart: func() { r.mark(idTLS, 0) },
		TLSHandshakeDone: func(st tls.ConnectionState, err error) {
			if err == nil {
				r.setTLS(st)
			}
		},
		GotConn: func(httptrace.GotConnInfo) { r.markRequest() },
	}
}

// traceDial returns ctx with the HTTP hooks for the dial, but for BOSH,
// whose dial sends nothing.
func (r *attemptRecord) traceDial(ctx context.Context) context.Context {
	if r == nil || r.isBOSH() {
		return ctx
	}
	return httptrace.WithClientTrace(ctx, r.clientTrace())
}

// traceSessionRequest returns ctx with the HTTP hooks when the transport is
// BOSH, whose Open sends the session creation request with it; else ctx.
func (r *attemptRecord) traceSessionRequest(ctx context.Context) context.Context {
	if r == nil || !r.isBOSH() {
		return ctx
	}
	return httptrace.WithClientTrace(ctx, r.clientTrace())
}

// isBOSH reports whether the dial in progress is a BOSH one.
func (r *attemptRecord) isBOSH() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.transport == TransportBOSH
}

// markRequest begins the transport's first request.
func (r *attemptRecord) markRequest() {
	if r == nil {
		return
	}
	at := time.Since(r.start)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.markLocked(r.requestPhaseLocked(), 0, at)
}

// transportOf names the transport that dials rawURL.
func transportOf(rawURL string, custom bool) string {
	switch s := schemeOf(rawURL); {
	case custom:
		return TransportCustom
	case strings.EqualFold(s, "ws"), strings.EqualFold(s, "wss"):
		return TransportWebSocket
	case strings.EqualFold(s, "http"), strings.EqualFold(s, "https"):
		return TransportBOSH
	}
	return ""
}
