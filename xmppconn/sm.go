package xmppconn

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
)

// XEP-0198 elements the client sends.
const (
	smEnable  = "<enable xmlns='urn:xmpp:sm:3' resume='true'/>"
	smRequest = "<r xmlns='urn:xmpp:sm:3'/>"
)

func smAnswer(h uint32) []byte {
	return []byte("<a xmlns='urn:xmpp:sm:3' h='" + strconv.FormatUint(uint64(h), 10) + "'/>")
}

func smResume(previd string, h uint32) []byte {
	return []byte("<resume xmlns='urn:xmpp:sm:3' previd='" + xmlEscape(previd) + "' h='" + strconv.FormatUint(uint64(h), 10) + "'/>")
}

// parseH reads an 'h' attribute: an unsigned 32-bit counter.
func parseH(s string) (uint32, error) {
	h, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, &ProtocolError{Step: "stream management", Msg: fmt.Sprintf("bad h %q", s)}
	}
	return uint32(h), nil
}

// isStanzaBytes tells whether a serialized element written by the session is
// a stanza (counted by stream management) without parsing it.
func isStanzaBytes(elem []byte) bool {
	elem = bytes.TrimLeft(elem, " \t\r\n")
	for _, name := range [...]string{"<message", "<presence", "<iq"} {
		if bytes.HasPrefix(elem, []byte(name)) && len(elem) > len(name) {
			switch elem[len(name)] {
			case ' ', '>', '/', '\t', '\r', '\n':
				return true
			}
		}
	}
	return false
}

// withDelay returns a message stanza with an XEP-0203 delay element saying
// when it was first sent; other stanzas are returned unchanged. Used when
// unacknowledged stanzas are sent again on a new session, where the peer
// would otherwise take them for new.
func withDelay(elem []byte, at time.Time, from string) []byte {
	if !bytes.HasPrefix(bytes.TrimLeft(elem, " \t\r\n"), []byte("<message")) {
		return elem
	}
	delay := "<delay xmlns='urn:xmpp:delay' stamp='" + at.UTC().Format("2006-01-02T15:04:05.000Z") + "'"
	if from != "" {
		delay += " from='" + xmlEscape(from) + "'"
	}
	delay += "/>"
	trimmed := bytes.TrimRight(elem, " \t\r\n")
	out := make([]byte, 0, len(trimmed)+len(delay)+len("</message>"))
	if bytes.HasSuffix(trimmed, []byte("/>")) && !bytes.HasSuffix(trimmed, []byte("</message>")) {
		// <message .../>: open it to add the child.
		out = append(out, trimmed[:len(trimmed)-2]...)
		out = append(out, '>')
		out = append(out, delay...)
		return append(out, "</message>"...)
	}
	i := bytes.LastIndex(trimmed, []byte("</"))
	if i < 0 {
		return elem
	}
	out = append(out, trimmed[:i]...)
	out = append(out, delay...)
	return append(out, trimmed[i:]...)
}

// ackRequested takes the server's <r/>: an <a/> is owed to it (nil on the
// link's ctrl, which the payer writes with h as it is then), unless one
// owed on this stream is not written yet: that one answers this request
// too, as it carries every stanza handled before it is written.
func (c *Connection) ackRequested(l *link) {
	if c.out.ackOwed.Swap(l) == l {
		return
	}
	if !c.owe(l, nil) {
		c.out.ackOwed.CompareAndSwap(l, nil)
	}
}

// answerAck writes the owed <a/>. The debt is cleared before h is read, so
// that a request read meanwhile gets an answer of its own or this one.
func (c *Connection) answerAck() {
	c.out.ackOwed.Store(nil)
	c.out.write(smAnswer(c.inH.Load()))
}
