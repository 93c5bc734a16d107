package bosh

import "time"

// Params are the session parameters in use: what the server answered in
// its session creation response (XEP-0124 §7.2), each clamped to the range
// below; where the server said nothing, what the client asked for. A value
// the server chose outside its range is replaced by the nearest bound, so
// that no server can make the client open more requests, wait longer or
// spin faster than these ranges allow, however large the number (even
// beyond 64 bits). A value that is not a plain decimal number (digits,
// spaces around them allowed; no sign, no fraction) makes the response
// malformed: Open fails with a *MalformedError.
//
//	attribute   range                      absent, or 0
//	wait        0 .. the wait asked for    absent: the wait asked for; 0: the server holds nothing
//	hold        0 .. the hold asked for    absent: the hold asked for
//	requests    1 .. hold+1                no limit from the server: hold+1
//	polling     0 .. 60 s                  no interval
//	inactivity  0 .. 10 min                unset
//	maxpause    0 .. 10 min                pausing unsupported
//
// XEP-0124 requires wait and hold to be no more than asked for, and
// recommends requests of 2 or hold+1: a client that cannot pipeline HTTP
// requests (net/http does not) gains nothing from more. The client asks for
// a hold of at most 2 (Options.Hold), so it never has more than 3 requests
// in flight (the terminate request of Close aside). polling, inactivity and maxpause have no bound in the XEP;
// servers use a few seconds to a few minutes (Prosody: polling 5 s,
// inactivity 60 s; ejabberd: inactivity 30 s, maxpause 120 s). Lower
// bounds on the client's side are the safe direction for inactivity and
// maxpause (it pauses less, it shows itself sooner); for polling, a server
// asking more than a minute between polls gets one a minute rather than
// sessions that look hung.
//
// Two more bounds hold whatever the server says: the HTTP timeout of a
// request is its wait plus a tenth, and at least 5 s more than the wait;
// and two empty requests in a row, the first answered at once with
// nothing, are at least 1 s apart (polling, if larger, applies instead), so
// that a server answering every poll at once cannot make the client spin.
type Params struct {
	Wait       time.Duration // longest time a request is held
	Hold       int           // requests the server keeps waiting at most
	Requests   int           // simultaneous requests allowed; 0 when the server set no limit
	Polling    time.Duration // shortest time between two empty polls; 0 when unset
	Inactivity time.Duration // longest time without a request held; 0 when unset
	MaxPause   time.Duration // longest pause the server grants; 0 when unsupported
	Ack        bool          // the server acknowledges requests
}

// Bounds of the session parameters (see Params).
const (
	maxHold         = 2 // the most Options.Hold asks for
	maxPolling      = time.Minute
	maxInactivity   = 10 * time.Minute
	maxMaxPause     = 10 * time.Minute
	minPollInterval = time.Second // between two empty requests answered with nothing

	// minTimeoutMargin is the least time a request is given beyond the wait.
	minTimeoutMargin = 5 * time.Second
)

// adoptParams returns the parameters of the session creation response b,
// each clamped to its range; asked holds the wait and hold asked for.
func adoptParams(b *body, asked Params) Params {
	p := Params{Wait: asked.Wait, Hold: asked.Hold, Ack: b.ack != 0}
	if b.wait >= 0 {
		p.Wait = min(seconds(b.wait), asked.Wait)
	}
	if b.hold >= 0 {
		p.Hold = int(min(b.hold, int64(asked.Hold)))
	}
	if b.requests > 0 {
		p.Requests = int(min(b.requests, int64(p.Hold)+1))
	}
	if b.polling > 0 {
		p.Polling = min(seconds(b.polling), maxPolling)
	}
	if b.inactivity > 0 {
		p.Inactivity = min(seconds(b.inactivity), maxInactivity)
	}
	if b.maxpause > 0 {
		p.MaxPause = min(seconds(b.maxpause), maxMaxPause)
	}
	return p
}

// seconds converts a count parsed by parseCount, at most maxCount.
func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }
