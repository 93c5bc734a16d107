package xmppconn

import (
	"encoding/xml"
	"errors"
	"strings"
	"time"

	"mellium.im/xmpp/stanza"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
)

// The errors of package xmppconn, in one place. Those a Connect or a lost
// session ends with are wrapped in the events.Failed that ConnectionFailed
// carries: errors.Is and errors.As reach them through it.

// ErrConnectionEnded is returned by a call that waited for an answer (SendIQ,
// and the calls of packages built on it) when the connection ended first
// (FAILED or CLOSED).
var ErrConnectionEnded = errors.New("xmppconn: connection ended before the answer came")

// ErrAttemptTimeout is the cause of a connect or recovery attempt cut short
// by Config.Reconnect.AttemptTimeout. It is a timeout (Timeout reports
// true, as net.Error does), so a recovery tries again.
var ErrAttemptTimeout error = timeoutError("xmppconn: attempt timed out")

// timeoutError is a sentinel that is a timeout in net.Error's sense.
type timeoutError string

func (e timeoutError) Error() string   { return string(e) }
func (e timeoutError) Timeout() bool   { return true }
func (e timeoutError) Temporary() bool { return true }

// ErrDisconnected is returned by a Connect that Disconnect interrupted.
var ErrDisconnected = errors.New("xmppconn: disconnected by the client")

// StateError reports a call that the connection's state does not allow, such
// as Connect on a connection that is already connected.
type StateError struct {
	Op    string
	State events.State
}

func (e *StateError) Error() string {
	return "xmppconn: cannot " + e.Op + " in state " + e.State.String()
}

// ConfigError reports an unusable Config.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "xmppconn: config " + e.Field + ": " + e.Msg }

// ProtocolError reports server input that breaks the protocol during
// negotiation: an unexpected element, missing features, a malformed answer.
type ProtocolError struct {
	Step string // "features", "sasl", "bind", ...
	Msg  string
	Err  error // underlying error, if any
}

func (e *ProtocolError) Error() string {
	s := "xmppconn: " + e.Step + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// ResumeError reports that an XEP-0198 resumption was asked for and got no
// usable answer (neither <resumed/> nor <failed/>).
type ResumeError struct {
	Err error
}

func (e *ResumeError) Error() string { return "xmppconn: resume: " + e.Err.Error() }

func (e *ResumeError) Unwrap() error { return e.Err }

// BindError reports that the server refused resource binding.
type BindError struct {
	Err *StanzaError
}

func (e *BindError) Error() string {
	return "xmppconn: bind refused: " + string(e.Err.Condition())
}

func (e *BindError) Unwrap() error { return e.Err }

// ErrNotConnected is returned by calls that need a session while the
// connection has none (before the first CONNECTED, or after the end).
var ErrNotConnected = errors.New("xmppconn: not connected")

// ErrQueueFull is returned by a send while the session is down and
// Config.QueueLimit stanzas are already waiting for it to come back.
var ErrQueueFull = errors.New("xmppconn: send queue full while the session is down")

// ErrPingTimeout is the cause of a session lost because the server stopped
// answering XEP-0199 pings.
var ErrPingTimeout = errors.New("xmppconn: server stopped answering pings")

// TokenError reports that the connection has no token it may send: the
// source has none (or only the one the server refused), or gave only
// expired ones. It is reported as connection.passwordRequired. The error
// text never holds the token.
type TokenError struct {
	// Reason says what happened, e.g. "token expired and the token source
	// has no other".
	Reason string
	// Refusal is the server's SASL failure when the server refused the
	// token; nil when the client's own expiry check did.
	Refusal *auth.FailureError
	// Err is what the token source returned (auth.ErrNoToken, or its own
	// error); nil when the source was not asked.
	Err error
}

func (e *TokenError) Error() string {
	s := "xmppconn: token: " + e.Reason
	if e.Err != nil {
		s += ": " + auth.RedactURL(e.Err.Error())
	}
	return s
}

// Unwrap returns the source's error and the server's refusal, so that
// errors.Is(err, auth.ErrNoToken) and errors.As(err, **auth.FailureError)
// both work.
func (e *TokenError) Unwrap() []error {
	var errs []error
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.Refusal != nil {
		errs = append(errs, e.Refusal)
	}
	return errs
}

// errNoTokenSource is returned by RefreshToken on a Connection without
// Config.Token.
var errNoTokenSource = errors.New("xmppconn: refresh token: the connection does not use tokens (Config.Token is nil)")

// Reasons of a *RedirectRefusedError.
const (
	RedirectReasonDisabled  = "redirects are disabled"
	RedirectReasonTooMany   = "too many redirects"
	RedirectReasonDowngrade = "downgrade from TLS to plaintext"
	RedirectReasonForeign   = "endpoint on another domain"
	RedirectReasonInvalid   = "invalid redirect target"
)

// RedirectRefusedError reports a redirect the policy did not follow. It is
// reported as connection.otherError (connection.droppedError for a live
// session) with Reason "redirect to TARGET refused: REASON", and is never
// retried.
type RedirectRefusedError struct {
	Kind   string // transport.RedirectSeeOtherHost, RedirectSeeOtherURI or RedirectHTTP
	Target string // where the server pointed, token redacted
	Reason string // one of the RedirectReason* constants, possibly with detail
	Err    error  // the transport's *transport.RedirectError, or the stream.Error
}

func (e *RedirectRefusedError) Error() string {
	return "xmppconn: redirect (" + e.Kind + ") to " + e.Target + " refused: " + e.Reason
}

func (e *RedirectRefusedError) Unwrap() error { return e.Err }

// ErrSASL2NoAnswer matches (with errors.Is) a *NoAnswerError of the SASL2
// exchange: the server took <authenticate/> (or a <response/>) and sent
// nothing back within the bound. Servers whose SASL2 modules fail inside
// their handlers do this (Prosody 0.12 with the prosody-modules snapshot of
// mod_sasl2_sm, for instance). The Connection then marks SASL2 as broken on
// the server and negotiates again at once with RFC 6120 SASL on a fresh
// transport, within the same attempt: the caller only sees this error when
// the fallback cannot run (SASL2 was the only SASL offered).
var ErrSASL2NoAnswer = errors.New("xmppconn: sasl2: no answer from the server")

// NoAnswerError reports that the server left a negotiation step without
// the answer the client waits for, within the bound (Config.Ping.Timeout).
// It ends the attempt instead of leaving it hanging until the caller's
// context or Reconnect.AttemptTimeout ends it. A timeout is transient: a
// lost session whose recovery attempt ends with it is tried again.
type NoAnswerError struct {
	Step    string        // "features" or "sasl2"
	Waiting string        // what the client waited for, e.g. "<stream:features/>"
	Bound   time.Duration // how long it waited

	noSASL1 bool // the server offered no RFC 6120 SASL to fall back to
}

func (e *NoAnswerError) Error() string {
	return "xmppconn: " + e.Step + ": no " + e.Waiting + " from the server within " + e.Bound.String()
}

// Is makes errors.Is(err, ErrSASL2NoAnswer) true for the SASL2 steps.
func (e *NoAnswerError) Is(target error) bool {
	return target == ErrSASL2NoAnswer && e.Step == "sasl2"
}

// ContinueError reports that a SASL2 server asked for more steps after the
// SASL exchange (XEP-0388 <continue/>: a second factor, a password change)
// that the client does not implement. The client aborted the
// authentication; the error wraps an *auth.FailureError with condition
// "aborted", so that it is reported as connection.passwordRequired and never
// retried.
type ContinueError struct {
	Tasks []string // the tasks the server offered
	Text  string   // the server's <text/>, if any
}

func (e *ContinueError) Error() string {
	s := "xmppconn: sasl2: server asks for unsupported tasks [" + strings.Join(e.Tasks, " ") + "]"
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// Unwrap returns the authentication failure the abort amounts to.
func (e *ContinueError) Unwrap() error {
	text := e.Text
	if text == "" {
		text = "authentication needs unsupported tasks: " + strings.Join(e.Tasks, " ")
	}
	return &auth.FailureError{Condition: "aborted", Text: text}
}

// StanzaError is an RFC 6120 stanza error (§8.3) that the server or a peer
// answered with: mellium's stanza.Error, plus the application-specific
// condition (§8.3.4) that mellium does not keep. errors.Is matches it
// against a stanza.Error as mellium does (an empty type or condition is a
// wildcard), for example errors.Is(err, stanza.Error{Condition:
// stanza.NotAuthorized}), and against an AppCondition.
type StanzaError struct {
	Err stanza.Error
	// App is the application-specific condition element, if any: its name
	// and attributes (Jitsi's <displayname-required
	// xmlns='http://jitsi.org/jitmeet' lobby='true'/>, say).
	App *xml.StartElement
}

// Error returns the condition and the server's text, if any.
func (e *StanzaError) Error() string {
	s := "xmppconn: stanza error: " + string(e.Condition())
	if t := e.Text(); t != "" {
		s += ": " + t
	}
	return s
}

// Condition returns the defined condition, e.g. "not-authorized".
func (e *StanzaError) Condition() stanza.Condition { return e.Err.Condition }

// Type returns the error type: auth, cancel, continue, modify or wait.
func (e *StanzaError) Type() stanza.ErrorType { return e.Err.Type }

// Text returns the server's <text/> (the one without a language, else
// any), or "".
func (e *StanzaError) Text() string {
	if t, ok := e.Err.Text[""]; ok {
		return t
	}
	for _, t := range e.Err.Text {
		return t
	}
	return ""
}

// Reason returns the server's text, or the condition when there is none.
func (e *StanzaError) Reason() string {
	if t := e.Text(); t != "" {
		return t
	}
	return string(e.Condition())
}

// Is reports whether target is a stanza.Error that e matches (mellium's
// rules), e's StanzaCondition, or the AppCondition e carries.
func (e *StanzaError) Is(target error) bool {
	switch t := target.(type) {
	case StanzaCondition:
		return e.Err.Condition == stanza.Condition(t)
	case AppCondition:
		return e.App != nil && e.App.Name.Space == t.Space && e.App.Name.Local == t.Local
	case stanza.Error:
		return e.Err.Is(t)
	}
	return false
}

// StanzaCondition is a defined stanza error condition (RFC 6120 §8.3.3) to
// match with errors.Is: errors.Is(err, StanzaCondition(stanza.Forbidden))
// holds for a *StanzaError with that condition. Unlike a stanza.Error value,
// it can be compared with ==.
type StanzaCondition stanza.Condition

func (c StanzaCondition) Error() string { return "xmppconn: stanza error condition " + string(c) }

// AppCondition names an application-specific stanza error condition (RFC
// 6120 §8.3.4): errors.Is(err, cond) is true for a *StanzaError that
// carries it.
type AppCondition struct {
	Space, Local string
}

func (a AppCondition) Error() string {
	return "xmppconn: stanza error condition {" + a.Space + "}" + a.Local
}

// errNotTaken ends the processing of a stream that ended while a stanza of
// it waited for room in the Handler's queue (session.go): the stream is
// already lost, so nobody sees this error.
var errNotTaken = errors.New("xmppconn: stream ended while a stanza waited for the Handler")
