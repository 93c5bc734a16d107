package xmppconn

import (
	"context"
	"fmt"
	"log/slog"

	"mellium.im/xmpp/stream"

	"github.com/xmppconn/xmppconn/auth"
)

// Secrets never leave a Connection: a server may echo the password or the
// token in its text (a SASL <failure><text/>, a stream error's <text/>, a
// close frame's reason), so every such text is redacted where it is read,
// and every error, event and log line is redacted on its way out. This file
// holds the one redaction all of them use.

// redact removes the account's secrets from text: the password and the
// token, as they are and URL-escaped, and any token=… of a URL.
func (c *Connection) redact(text string) string {
	text = auth.RedactURL(text)
	text = c.cfg.Credentials.Password.RedactIn(text)
	c.route.mu.Lock()
	tok, refused := c.route.tok, c.route.refused
	c.route.mu.Unlock()
	return c.fast.redactIn(refused.RedactIn(tok.RedactIn(text)))
}

// redactError returns err with a redacted text; errors.Is and errors.As
// still reach err.
func (c *Connection) redactError(err error) error {
	if err == nil || c.redact(err.Error()) == err.Error() {
		return err
	}
	return &redactedError{err: err, text: c.redact(err.Error())}
}

type redactedError struct {
	err  error
	text string
}

func (e *redactedError) Error() string { return e.text }
func (e *redactedError) Unwrap() error { return e.err }

// redactFailure redacts the server's text of a SASL failure where it is
// read, so that nothing downstream (the error, errors.As, the events) holds
// a secret the server echoed.
func (n *negotiator) redactFailure(fe *auth.FailureError) *auth.FailureError {
	if n.redact != nil {
		fe.Text = n.redact(fe.Text)
	}
	return fe
}

// redactText redacts server text the negotiator keeps in an error.
func (n *negotiator) redactText(s string) string {
	if n.redact == nil {
		return s
	}
	return n.redact(s)
}

// redactStanzaError redacts the texts of a stanza error the server sent.
func redactStanzaError(se *StanzaError, redact func(string) string) *StanzaError {
	if redact == nil || len(se.Err.Text) == 0 {
		return se
	}
	texts := make(map[string]string, len(se.Err.Text))
	for lang, t := range se.Err.Text {
		texts[lang] = redact(t)
	}
	se.Err.Text = texts
	return se
}

// redactStreamError does the same for the texts of a stream error.
func redactStreamError(se stream.Error, redact func(string) string) stream.Error {
	if redact == nil {
		return se
	}
	texts := append(se.Text[:0:0], se.Text...)
	for i := range texts {
		texts[i].Value = redact(texts[i].Value)
	}
	se.Text = texts
	return se
}

// refusedReason is the reason of a refused token: what happened, and the
// server's own text (redacted where it was read), as lib-jitsi-meet keeps it.
func refusedReason(what string, fe *auth.FailureError) string {
	if fe == nil || fe.Text == "" {
		return what
	}
	return what + ": " + fe.Text
}

// redactingHandler is a slog.Handler that redacts the message and every
// attribute of a record before the next handler sees it.
type redactingHandler struct {
	next   slog.Handler
	redact func(string) string
}

func (h redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return redactingHandler{next: h.next.WithAttrs(clean), redact: h.redact}
}

func (h redactingHandler) WithGroup(name string) slog.Handler {
	return redactingHandler{next: h.next.WithGroup(name), redact: h.redact}
}

// attr redacts one attribute: strings, errors and anything printed.
func (h redactingHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		clean := make([]any, len(g))
		for i, ga := range g {
			clean[i] = h.attr(ga)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.redact(err.Error()))
		}
		return slog.String(a.Key, h.redact(fmt.Sprint(v.Any())))
	}
	return slog.Attr{Key: a.Key, Value: v}
}
