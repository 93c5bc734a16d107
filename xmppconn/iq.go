package xmppconn

import (
	"context"
	"encoding/xml"
	"fmt"
	"strings"
	"sync"

	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stanza"
)

// iqPrefix marks the ids of the IQs sent with SendIQ.
const iqPrefix = "xmppconn-iq-"

// iqWaits are the IQ requests sent with SendIQ that wait for their answers.
// It has its own lock, never taken while c.mu is held.
type iqWaits struct {
	mu      sync.Mutex
	pending map[string]*iqWait // id -> waiting request; nil while none waits
	life    chan struct{}      // closed when the connection ends (FAILED or CLOSED)
}

// iqWait is one IQ request waiting for its answer.
type iqWait struct {
	to     jid.JID
	answer chan Stanza // buffered: the processor never waits for the caller
}

// lifeLocked returns the channel closed at the end of the connection.
func (w *iqWaits) lifeLocked() chan struct{} {
	if w.life == nil {
		w.life = make(chan struct{})
	}
	return w.life
}

// begin readies the waits for a new connection (Connect).
func (w *iqWaits) begin() {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.lifeLocked():
		w.life = make(chan struct{})
	default:
	}
}

// end wakes every caller still waiting: the connection is over.
func (w *iqWaits) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.lifeLocked():
	default:
		close(w.life)
	}
	w.pending = nil
}

func (w *iqWaits) forget(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.pending, id)
	if len(w.pending) == 0 {
		w.pending = nil // an idle session keeps no map
	}
}

// SendIQ sends an IQ request (iq.Type get or set; iq.ID is made when
// empty) with payload and waits for its answer, the end of ctx, or the end
// of the connection (ErrConnectionEnded). It returns the answer; an error
// answer also gives a *StanzaError. The answer must come from the JID the
// request went to, or without a from when it went to the account itself or
// its server (RFC 6120 §8.1.2.1); it reaches Config.Handler and the
// extensions as well. SendIQ needs no mellium session (Session), and its
// answers cost nothing while none waits.
func (c *Connection) SendIQ(ctx context.Context, iq stanza.IQ, payload xml.TokenReader) (Stanza, error) {
	if iq.Type != stanza.GetIQ && iq.Type != stanza.SetIQ {
		return Stanza{}, fmt.Errorf("xmppconn: send iq: type %q is not get or set", iq.Type)
	}
	if iq.ID == "" {
		iq.ID = iqPrefix + newID()
	}
	w := &iqWait{to: iq.To, answer: make(chan Stanza, 1)}
	c.iqs.mu.Lock()
	if c.iqs.pending == nil {
		c.iqs.pending = make(map[string]*iqWait)
	}
	if c.iqs.pending[iq.ID] != nil {
		c.iqs.mu.Unlock()
		return Stanza{}, fmt.Errorf("xmppconn: send iq: id %q is already waiting for an answer", iq.ID)
	}
	c.iqs.pending[iq.ID] = w
	life := c.iqs.lifeLocked()
	c.iqs.mu.Unlock()
	defer c.iqs.forget(iq.ID)

	if err := c.Send(ctx, iq.Wrap(payload)); err != nil {
		return Stanza{}, err
	}
	var end error
	select {
	case s := <-w.answer:
		return iqAnswer(s)
	case <-ctx.Done():
		end = ctx.Err()
	case <-life:
		end = ErrConnectionEnded
	}
	select {
	case s := <-w.answer: // an answer that came in time wins
		return iqAnswer(s)
	default:
		return Stanza{}, end
	}
}

// iqAnswer returns an IQ answer, with a *StanzaError when it is an error.
func iqAnswer(s Stanza) (Stanza, error) {
	if s.Attr("type") != string(stanza.ErrorIQ) {
		return s, nil
	}
	se, err := ParseStanzaError(s.Raw)
	if err != nil {
		return s, err
	}
	return s, se
}

// answerIQ hands an IQ result or error to the SendIQ waiting for it.
func (c *Connection) answerIQ(r root, elem []byte) {
	id := r.attr("id")
	if typ := r.attr("type"); typ != "result" && typ != "error" {
		return
	}
	c.iqs.mu.Lock()
	w := c.iqs.pending[id]
	c.iqs.mu.Unlock()
	if w == nil || !answeredBy(r.attr("from"), w.to, c.JID()) {
		return
	}
	select {
	case w.answer <- Stanza{Start: r.StartElement, Raw: elem}:
	default: // answered already
	}
}

// answeredBy reports whether an answer from from may come from to: the same
// JID, or no from when to is the account itself, its server, or empty (RFC
// 6120 §8.1.2.1).
func answeredBy(from string, to, self jid.JID) bool {
	if from == "" {
		return to.Equal(jid.JID{}) || to.Equal(self.Bare()) || to.Equal(self.Domain())
	}
	if strings.EqualFold(from, to.String()) {
		return true
	}
	j, err := jid.Parse(from)
	return err == nil && j.Equal(to)
}
