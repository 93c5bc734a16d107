package xmppconn

import (
	"bytes"
	"encoding/xml"
	"sync"

	"mellium.im/xmlstream"
	"mellium.im/xmpp"
	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/internal/burst"
)

// dispatcher hands the stanzas of the live session to Config.Handler, in
// order, one at a time. It runs on a goroutine that exists only while
// stanzas wait: an idle session keeps no goroutine, decoder or encoder for
// its Handler. Once the caller asks for the mellium session
// (Connection.Session), stanzas go to that session's Serve instead, which
// also matches the answers to its SendIQ.
type dispatcher struct {
	mu   sync.Mutex
	pipe *stanzaPipe // set once the mellium session serves the Handler
	q    burst.Queue[[]byte]
}

// handOff routes every later stanza to pipe and returns a channel closed
// once the stanzas queued before have been handled, so that mellium's Serve
// starts after them, never beside them.
func (d *dispatcher) handOff(pipe *stanzaPipe) <-chan struct{} {
	d.mu.Lock()
	d.pipe = pipe
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.q.WaitIdle()
		close(done)
	}()
	return done
}

// reset forgets the mellium session at the end of the connection.
func (d *dispatcher) reset() {
	d.mu.Lock()
	d.pipe = nil
	d.mu.Unlock()
}

// deliver passes one inbound stanza (r is its root, elem its bytes) to the
// Handler. It waits for the Handler only while Config.InboundLimit bytes
// wait for it already; taken is false when the end of l's stream ended the
// wait and the stanza was dropped.
func (c *Connection) deliver(l *link, r root, elem []byte) (taken bool) {
	d := &c.disp
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.pipe != nil:
		d.pipe.deliver(elem)
	case c.cfg.Handler != nil:
		// Past Config.InboundLimit the processor waits for the Handler,
		// and the read behind it waits for the processor.
		var stop <-chan struct{}
		if l != nil {
			stop = l.stop
		}
		start, queued := d.q.PushWait(elem, cap(elem)+elementOverhead, c.cfg.InboundLimit, stop)
		if start {
			c.loops.Add(1) // the processor or goLive holds a count
			go c.handleCounted()
		}
		return queued
	case r.Name.Local == "iq" && needsAnswer(r.attr("type")) && l != nil:
		// Nobody handles it; an IQ request still gets its answer
		// (RFC 6120 §8.2.3), written off the processor.
		c.owe(l, serviceUnavailable(r))
	}
	return true
}

// runHandler handles queued stanzas until none is left.
func (c *Connection) runHandler() {
	for {
		elem, ok := c.disp.q.Next()
		if !ok {
			return
		}
		if err := c.handle(elem); err != nil {
			c.log.Error("xmppconn: handler", "err", err)
		}
	}
}

// handle runs the Handler on one stanza, as mellium's Serve does: the
// stanza's from is cleared when it is the account's bare JID, the Handler
// reads the stanza's content and writes replies, and an IQ request it left
// unanswered gets service-unavailable.
func (c *Connection) handle(elem []byte) error {
	d := xml.NewDecoder(bytes.NewReader(elem))
	tok, err := d.Token()
	if err != nil {
		return err
	}
	start, ok := tok.(xml.StartElement)
	if !ok {
		return errNotStart
	}
	start = start.Copy()
	bare := c.JID().Bare().String()
	for i, a := range start.Attr {
		if a.Name.Local == "from" {
			if a.Value == bare {
				start.Attr[i].Value = ""
			}
			break
		}
	}
	// An IQ request is kept as it came (the Handler may change start), for
	// the answer it may not give.
	var request *root
	if start.Name.Local == "iq" && needsAnswer(attrValue(start.Attr, "type")) {
		request = &root{start.Copy()}
	}
	rw := &handlerRW{TokenReader: xmlstream.InnerElement(d), c: c, id: attrValue(start.Attr, "id")}
	defer rw.drop()
	if err := c.cfg.Handler.HandleXMPP(rw, &start); err != nil {
		return err
	}
	if request != nil && !rw.answered {
		return c.out.send(serviceUnavailable(*request))
	}
	return nil
}

// needsAnswer reports whether an IQ of type typ is a request.
func needsAnswer(typ string) bool { return typ == "get" || typ == "set" }

func attrValue(attrs []xml.Attr, local string) string {
	for _, a := range attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// serviceUnavailable is the error answer to an IQ request nobody handles.
func serviceUnavailable(r root) []byte {
	var b bytes.Buffer
	b.WriteString("<iq xmlns='jabber:client' type='error' id='")
	b.WriteString(xmlEscape(r.attr("id")))
	b.WriteByte('\'')
	if from := r.attr("from"); from != "" {
		b.WriteString(" to='")
		b.WriteString(xmlEscape(from))
		b.WriteByte('\'')
	}
	b.WriteString("><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>")
	return b.Bytes()
}

// handlerRW is what the Handler gets: the stanza's content to read, and a
// writer whose every complete top-level element is sent as one stanza.
type handlerRW struct {
	xml.TokenReader
	c        *Connection
	e        *stanzaEncoder // taken from the pool at the first token
	id       string         // the id of the stanza being handled
	answered bool           // an IQ result or error with that id was written
}

var _ xmlstream.TokenReadEncoder = (*handlerRW)(nil)

// EncodeToken implements xmlstream.TokenWriter.
func (w *handlerRW) EncodeToken(t xml.Token) error {
	if w.e == nil {
		w.e = getEncoder()
	}
	if s, ok := t.(xml.StartElement); ok && w.e.depth == 0 && s.Name.Local == "iq" &&
		(s.Name.Space == "" || s.Name.Space == stanza.NSClient) &&
		attrValue(s.Attr, "id") == w.id && !needsAnswer(attrValue(s.Attr, "type")) {
		w.answered = true
	}
	if err := w.e.EncodeToken(t); err != nil {
		return err
	}
	if _, ok := t.(xml.EndElement); ok && w.e.depth == 0 {
		if err := w.e.Flush(); err != nil {
			return err
		}
		elem := bytes.Clone(w.e.buf.Bytes())
		w.e.buf.Reset()
		return w.c.out.send(elem)
	}
	return nil
}

// Flush implements xmlstream.Flusher. Elements are sent once complete, so
// there is nothing to do.
func (w *handlerRW) Flush() error { return nil }

// Encode implements xmlstream.Encoder.
func (w *handlerRW) Encode(v any) error {
	if wt, ok := v.(xmlstream.WriterTo); ok {
		_, err := wt.WriteXML(w)
		return err
	}
	b, err := xml.Marshal(v)
	if err != nil {
		return err
	}
	return w.copyXML(b)
}

// EncodeElement implements xmlstream.Encoder.
func (w *handlerRW) EncodeElement(v any, start xml.StartElement) error {
	var b bytes.Buffer
	enc := xml.NewEncoder(&b)
	if err := enc.EncodeElement(v, start); err != nil {
		return err
	}
	if err := enc.Flush(); err != nil {
		return err
	}
	return w.copyXML(b.Bytes())
}

// copyXML writes the elements of b through EncodeToken, so that they are
// normalised and sent like any other reply.
func (w *handlerRW) copyXML(b []byte) error {
	_, err := xmlstream.Copy(w, xml.NewDecoder(bytes.NewReader(b)))
	return err
}

// drop returns the encoder; an element the Handler left unfinished is not
// sent.
func (w *handlerRW) drop() {
	if w.e == nil {
		return
	}
	if w.e.depth != 0 {
		w.c.log.Error("xmppconn: handler left an element unfinished; not sent")
	}
	w.e.release(w.e.depth == 0)
	w.e = nil
}

// handlerAdapter makes a Handler error a log line when mellium's Serve runs
// the Handler, as it is when the dispatcher does: a failing Handler does not
// end the session.
type handlerAdapter struct {
	c *Connection
	h xmpp.Handler
}

// HandleXMPP implements xmpp.Handler.
func (a handlerAdapter) HandleXMPP(t xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	if a.h == nil {
		return nil
	}
	if err := a.h.HandleXMPP(t, start); err != nil {
		a.c.log.Error("xmppconn: handler", "err", err)
	}
	return nil
}
