package hostile

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"
)

// Domain is the XMPP domain every server of the suite serves.
const Domain = "example.com"

// Namespaces of the elements the servers send.
const (
	NSStream       = "http://etherx.jabber.org/streams"
	NSSASL         = "urn:ietf:params:xml:ns:xmpp-sasl"
	NSBind         = "urn:ietf:params:xml:ns:xmpp-bind"
	NSStreamErrors = "urn:ietf:params:xml:ns:xmpp-streams"
	NSStanzaErrors = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSSM           = "urn:xmpp:sm:3"
	NSSASL2        = "urn:xmpp:sasl:2"
	NSFraming      = "urn:ietf:params:xml:ns:xmpp-framing"
)

// Features returns <stream:features/> offering SASL with mechs.
func Features(mechs ...string) string {
	var b strings.Builder
	b.WriteString("<stream:features xmlns:stream='" + NSStream + "'><mechanisms xmlns='" + NSSASL + "'>")
	for _, m := range mechs {
		b.WriteString("<mechanism>" + Escape(m) + "</mechanism>")
	}
	b.WriteString("</mechanisms></stream:features>")
	return b.String()
}

// LoginFeatures offers PLAIN (taken over TLS with a password) and
// ANONYMOUS (taken with a token).
var LoginFeatures = Features("PLAIN", "ANONYMOUS")

// BindFeatures offers resource binding, and XEP-0198 when sm is true.
func BindFeatures(sm bool) string {
	s := "<stream:features xmlns:stream='" + NSStream + "'><bind xmlns='" + NSBind + "'/>"
	if sm {
		s += "<sm xmlns='" + NSSM + "'/>"
	}
	return s + "</stream:features>"
}

// SASLSuccess is an RFC 6120 <success/> without additional data.
const SASLSuccess = "<success xmlns='" + NSSASL + "'/>"

// SASLFailure returns an RFC 6120 <failure/> with condition and, when not
// empty, text.
func SASLFailure(condition, text string) string {
	s := "<failure xmlns='" + NSSASL + "'><" + condition + "/>"
	if text != "" {
		s += "<text xml:lang='en'>" + Escape(text) + "</text>"
	}
	return s + "</failure>"
}

// Challenge returns an RFC 6120 <challenge/> carrying data.
func Challenge(data []byte) string {
	return "<challenge xmlns='" + NSSASL + "'>" + base64.StdEncoding.EncodeToString(data) + "</challenge>"
}

// StreamError returns a <stream:error/> with condition and, when not empty,
// text.
func StreamError(condition, text string) string {
	s := "<stream:error xmlns:stream='" + NSStream + "'><" + condition + " xmlns='" + NSStreamErrors + "'/>"
	if text != "" {
		s += "<text xmlns='" + NSStreamErrors + "'>" + Escape(text) + "</text>"
	}
	return s + "</stream:error>"
}

// BindResult answers the bind request id with the full JID alice@example.com/r1.
func BindResult(id string) string {
	return "<iq xmlns='jabber:client' type='result' id='" + Escape(id) + "'><bind xmlns='" + NSBind + "'><jid>alice@" + Domain + "/r1</jid></bind></iq>"
}

// BindError answers the bind request id with a stanza error holding text.
func BindError(id, condition, text string) string {
	return "<iq xmlns='jabber:client' type='error' id='" + Escape(id) + "'><error type='cancel'><" + condition +
		" xmlns='" + NSStanzaErrors + "'/><text xmlns='" + NSStanzaErrors + "'>" + Escape(text) + "</text></error></iq>"
}

// Message returns a chat message to alice numbered n with a body of size
// bytes (at least the number).
func Message(n, size int) string {
	body := fmt.Sprintf("%d ", n)
	if len(body) < size {
		body += strings.Repeat("x", size-len(body))
	}
	return fmt.Sprintf("<message xmlns='jabber:client' from='bob@%s/b' to='alice@%s/r1' type='chat' id='m%d'><body>%s</body></message>", Domain, Domain, n, body)
}

// Escape escapes s for XML text and attribute values.
func Escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

var idAttr = regexp.MustCompile(`\sid=["']([^"']*)["']`)

// IDOf returns the id attribute of the root of elem ("" when it has none).
func IDOf(elem string) string {
	end := strings.IndexByte(elem, '>')
	if end < 0 {
		end = len(elem)
	}
	m := idAttr.FindStringSubmatch(elem[:end])
	if m == nil {
		return ""
	}
	return m[1]
}

// Authenticate plays the start of a login: it accepts the stream, offers
// features and returns the client's first SASL element (<auth/>).
func Authenticate(ctx context.Context, p Peer, features string) (string, error) {
	if _, err := p.Accept(ctx); err != nil {
		return "", err
	}
	if err := p.Send(ctx, features); err != nil {
		return "", err
	}
	return p.Recv(ctx)
}

// LoginToBind plays a login up to the bind request and returns its id:
// PLAIN or ANONYMOUS accepted whatever the credentials, the stream
// restarted, binding offered (with XEP-0198 when sm is true).
func LoginToBind(ctx context.Context, p Peer, sm bool) (string, error) {
	if _, err := Authenticate(ctx, p, LoginFeatures); err != nil {
		return "", err
	}
	if err := p.Send(ctx, SASLSuccess); err != nil {
		return "", err
	}
	if _, err := p.Accept(ctx); err != nil {
		return "", err
	}
	if err := p.Send(ctx, BindFeatures(sm)); err != nil {
		return "", err
	}
	for {
		e, err := p.Recv(ctx)
		if err != nil {
			return "", err
		}
		if strings.Contains(e, NSBind) {
			return IDOf(e), nil
		}
	}
}

// Login plays a whole login: LoginToBind, then the bind result.
func Login(ctx context.Context, p Peer, sm bool) error {
	id, err := LoginToBind(ctx, p, sm)
	if err != nil {
		return err
	}
	return p.Send(ctx, BindResult(id))
}

// Drain reads what the client sends until it closes the stream or ctx ends,
// and returns how many elements came.
func Drain(ctx context.Context, p Peer) int {
	n := 0
	for {
		if _, err := p.Recv(ctx); err != nil {
			return n
		}
		n++
	}
}

// SASL2Features returns <stream:features/> offering XEP-0388 SASL2 (alone)
// with mechs.
func SASL2Features(mechs ...string) string {
	var b strings.Builder
	b.WriteString("<stream:features xmlns:stream='" + NSStream + "'><authentication xmlns='" + NSSASL2 + "'>")
	for _, m := range mechs {
		b.WriteString("<mechanism>" + Escape(m) + "</mechanism>")
	}
	b.WriteString("</authentication></stream:features>")
	return b.String()
}

// SASL2Failure returns a SASL2 <failure/> with an RFC 6120 condition and
// text.
func SASL2Failure(condition, text string) string {
	return "<failure xmlns='" + NSSASL2 + "'><" + condition + " xmlns='" + NSSASL + "'/><text>" + Escape(text) + "</text></failure>"
}
