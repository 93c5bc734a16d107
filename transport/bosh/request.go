package bosh

import (
	"context"
	"strconv"
)

// Namespaces of XEP-0124, XEP-0206 and RFC 6120 used on the wire.
const (
	nsHTTPBind     = "http://jabber.org/protocol/httpbind"
	nsXBOSH        = "urn:xmpp:xbosh"
	nsClient       = "jabber:client"
	nsStreams      = "http://etherx.jabber.org/streams"
	nsStreamErrors = "urn:ietf:params:xml:ns:xmpp-streams"
	nsXML          = "http://www.w3.org/XML/1998/namespace"
)

// unavailable is the presence a terminate request carries (XEP-0124 §13).
const unavailable = "<presence type='unavailable' xmlns='jabber:client'/>"

type requestKind int

const (
	kindSession   requestKind = iota // the session creation request
	kindPayload                      // payloads, or none: a long-poll
	kindRestart                      // xmpp:restart='true'
	kindTerminate                    // type='terminate'
)

// request is one BOSH request. Its body is built once, and every
// retransmission sends exactly these bytes: at once for a session creation,
// restart or terminate; for payloads (or none) when its first try takes its
// turn (sealLocked), so that what is written while it waits for the request
// below it goes with it (schedule.go, absorbLocked).
type request struct {
	rid  uint64
	kind requestKind
	// body, once set, is what every try sends. Until then payload holds
	// the elements the request carries; both are guarded by Conn.mu until
	// body is set.
	body    []byte
	payload [][]byte
	size    int  // bytes in payload
	empty   bool // no payloads: a long-poll or a poll

	// kick asks for an immediate retransmission (the server reported the
	// response as lost). cancelAttempt, guarded by Conn.mu, aborts the HTTP
	// exchange under way.
	kick          chan struct{}
	cancelAttempt context.CancelFunc

	writeOrder // rid order at the connection manager (order.go)
}

// newRequestLocked allocates the next rid for a request of this kind; the
// caller sets its body. rids increase by one per request and are never
// reused; the request waits for the one allocated before it to count as
// read by the connection manager before it goes on the wire.
func (c *Conn) newRequestLocked(kind requestKind) *request {
	r := &request{rid: c.nextRID, kind: kind, kick: make(chan struct{}, 1)}
	r.after = c.lastRead
	r.read = make(chan struct{})
	c.lastRead = r.read
	c.nextRID++
	return r
}

// sessionBody returns the session creation request (XEP-0124 §7.1,
// XEP-0206 §4). The client asks for response acknowledgements with ack='1'.
func sessionBody(rid uint64, domain string, s *settings) []byte {
	b := make([]byte, 0, 320)
	b = append(b, "<body"...)
	b = appendAttr(b, "content", "text/xml; charset=utf-8")
	b = appendAttr(b, "hold", strconv.Itoa(s.hold))
	b = appendAttr(b, "rid", strconv.FormatUint(rid, 10))
	b = appendAttr(b, "to", domain)
	b = appendAttr(b, "ver", "1.11")
	b = appendAttr(b, "wait", strconv.FormatInt(waitSeconds(s.wait), 10))
	b = appendAttr(b, "ack", "1")
	b = appendAttr(b, "xml:lang", s.lang)
	b = appendAttr(b, "xmpp:version", "1.0")
	if s.route != "" {
		b = appendAttr(b, "route", s.route)
	}
	if s.from != "" {
		b = appendAttr(b, "from", s.from)
	}
	b = appendAttr(b, "xmlns", nsHTTPBind)
	b = appendAttr(b, "xmlns:xmpp", nsXBOSH)
	return append(b, "/>"...)
}

// restartBody returns a stream restart request (XEP-0206 §5). ack is
// omitted when zero.
func restartBody(rid uint64, sid string, ack uint64, domain, lang string) []byte {
	b := make([]byte, 0, 200)
	b = append(b, "<body"...)
	b = appendAttr(b, "rid", strconv.FormatUint(rid, 10))
	b = appendAttr(b, "sid", sid)
	if ack != 0 {
		b = appendAttr(b, "ack", strconv.FormatUint(ack, 10))
	}
	b = appendAttr(b, "to", domain)
	b = appendAttr(b, "xml:lang", lang)
	b = appendAttr(b, "xmpp:restart", "true")
	b = appendAttr(b, "xmlns", nsHTTPBind)
	b = appendAttr(b, "xmlns:xmpp", nsXBOSH)
	return append(b, "/>"...)
}

// payloadBody returns a request carrying payload (possibly none), or a
// terminate request when terminate is true. ack is omitted when zero.
func payloadBody(rid uint64, sid string, ack uint64, payload [][]byte, terminate bool) []byte {
	n := 100
	for _, p := range payload {
		n += len(p)
	}
	b := make([]byte, 0, n)
	b = append(b, "<body"...)
	b = appendAttr(b, "rid", strconv.FormatUint(rid, 10))
	b = appendAttr(b, "sid", sid)
	if ack != 0 {
		b = appendAttr(b, "ack", strconv.FormatUint(ack, 10))
	}
	if terminate {
		b = appendAttr(b, "type", "terminate")
	}
	b = appendAttr(b, "xmlns", nsHTTPBind)
	if len(payload) == 0 {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	for _, p := range payload {
		b = append(b, p...)
	}
	return append(b, "</body>"...)
}

// appendAttr appends " name='value'" with value escaped for a single-quoted
// attribute.
func appendAttr(b []byte, name, value string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, '=', '\'')
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '\'':
			b = append(b, "&apos;"...)
		case '"':
			b = append(b, "&quot;"...)
		case '\t', '\n', '\r':
			b = append(b, "&#x"...)
			b = strconv.AppendUint(b, uint64(c), 16)
			b = append(b, ';')
		default:
			b = append(b, c)
		}
	}
	return append(b, '\'')
}
