package bosh

import (
	"net/http"
	"time"

	"github.com/xmppconn/xmppconn/transport"
)

// Options holds the settings of a BOSH connection. The zero value of every
// field is a sensible default, and a nil *Options means all defaults.
type Options struct {
	// HTTPClient sends the requests; nil means the client NewHTTPClient
	// returns, one shared by the process (a clone of http.DefaultTransport
	// whose connections acknowledge at once: see QuickAckDial, and set it
	// on your own transport too). Its connection pool is reused
	// (keep-alive). Redirects are never followed:
	// the Conn uses a shallow copy whose CheckRedirect stops at the first
	// response, and an HTTP 3xx is reported as a *transport.RedirectError
	// of kind transport.RedirectHTTP. A Timeout on the client must be longer
	// than Wait, or every long-poll fails.
	HTTPClient *http.Client

	// Header holds extra request headers, sent with every request.
	Header http.Header

	// Wait is the longest time the server may hold a request (the 'wait'
	// attribute, in whole seconds); default 60 s. The HTTP timeout of a
	// request is the wait the server answered with plus a tenth, and at
	// least 5 s more than it (see Params).
	Wait time.Duration

	// Hold is the number of requests the server may keep waiting (the
	// 'hold' attribute); 0 means the default, 1, which XEP-0124 asks of a
	// client that cannot pipeline HTTP requests, as net/http cannot. More
	// than 2 counts as 2. A negative value asks for hold='0', a polling
	// session.
	Hold int

	// Lang is the xml:lang of the stream; default "en".
	Lang string

	// Route and From are the optional 'route' (proto:host:port) and 'from'
	// attributes of the session creation request. From is the client's bare
	// JID, the from of the stream: RFC 6120 §4.7.1 asks a client to send it
	// on a stream protected by TLS, and only there (over http:// it would
	// show the account to anyone on the path), so the caller decides.
	Route, From string

	// Tries is the number of times one request is sent before the session is
	// declared lost, the first included; default 3. A failure that would
	// come again (a certificate that failed verification, an HTTP 4xx but
	// 408 and 429, a malformed answer) ends the session at the first try.
	// Retransmissions the server asks for, and resends of a try that died
	// on a kept-alive connection the server had just closed, do not count.
	Tries int

	// Backoff lists the pauses between tries: before the second try, the
	// third, and so on, the last one repeating; default 0.5 s, 1 s.
	Backoff []time.Duration

	// Limits bounds a response <body/>: its size in bytes and the nesting
	// depth of its children.
	Limits transport.Limits

	// Redact removes secrets from the server's text the Conn keeps in its
	// errors (a redirect target); nil: none.
	Redact transport.Redactor

	// OnResponse, when set, sees the status and headers of every HTTP
	// response (a Jitsi deployment names its shard in one). It runs on the
	// request's goroutine: it must not block nor call the Conn, and must not
	// change or keep header.
	OnResponse func(status int, header http.Header)
}

// Defaults.
const (
	DefaultWait  = 60 * time.Second
	DefaultHold  = 1
	DefaultLang  = "en"
	DefaultTries = 3
)

// defaultBackoff is the pause before the second try, then the third and later.
var defaultBackoff = []time.Duration{500 * time.Millisecond, time.Second}

// settings is Options with the defaults applied.
type settings struct {
	header      http.Header
	wait        time.Duration
	hold        int
	lang        string
	route, from string
	tries       int
	backoff     []time.Duration
	limits      transport.Limits
	onResponse  func(int, http.Header)
	redact      transport.Redactor
}

func (o *Options) settings() settings {
	if o == nil {
		o = &Options{}
	}
	s := settings{
		header:  o.Header.Clone(),
		wait:    o.Wait,
		hold:    o.Hold,
		lang:    o.Lang,
		route:   o.Route,
		from:    o.From,
		tries:   o.Tries,
		backoff: append([]time.Duration(nil), o.Backoff...),
		limits:  o.Limits.WithDefaults(),

		onResponse: o.OnResponse,
		redact:     o.Redact,
	}
	if s.wait <= 0 {
		s.wait = DefaultWait
	}
	switch {
	case s.hold == 0:
		s.hold = DefaultHold
	case s.hold < 0:
		s.hold = 0
	case s.hold > maxHold:
		s.hold = maxHold
	}
	if s.lang == "" {
		s.lang = DefaultLang
	}
	if s.tries <= 0 {
		s.tries = DefaultTries
	}
	if len(s.backoff) == 0 {
		s.backoff = defaultBackoff
	}
	return s
}

// backoffBefore returns the pause before try number n (n >= 2).
func (s *settings) backoffBefore(n int) time.Duration {
	i := n - 2
	if i >= len(s.backoff) {
		i = len(s.backoff) - 1
	}
	if i < 0 {
		i = 0
	}
	return s.backoff[i]
}

// waitSeconds returns the 'wait' attribute to request: whole seconds, at
// least 1.
func waitSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return s
}
