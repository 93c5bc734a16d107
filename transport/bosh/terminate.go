package bosh

import (
	"bytes"
	"encoding/xml"
	"strings"

	"github.com/xmppconn/xmppconn/transport"
)

// Terminal binding conditions of XEP-0124 §17.2 and XEP-0206, as found in
// TerminateError.Condition. A condition the server sends that is not in this
// list is kept as it is.
const (
	ConditionBadRequest             = "bad-request"
	ConditionHostGone               = "host-gone"
	ConditionHostUnknown            = "host-unknown"
	ConditionImproperAddressing     = "improper-addressing"
	ConditionInternalServerError    = "internal-server-error"
	ConditionItemNotFound           = "item-not-found"
	ConditionOtherRequest           = "other-request"
	ConditionPolicyViolation        = "policy-violation"
	ConditionRemoteConnectionFailed = "remote-connection-failed"
	ConditionRemoteStreamError      = "remote-stream-error"
	ConditionSeeOtherURI            = "see-other-uri"
	ConditionSystemShutdown         = "system-shutdown"
	ConditionUndefinedCondition     = "undefined-condition"
)

// TerminateError reports that the server ended the session with a
// type='terminate' body. A terminate without a condition is a clean end of
// the stream: errors.Is(err, transport.ErrStreamClosed) is then true. A
// see-other-uri terminate is reported as a *transport.RedirectError instead.
//
// The error a Conn returns wraps the *TerminateError in one that implements
// transport.Error and transport.ServerTexter (a TerminateError cannot have a
// Condition method beside its Condition field); errors.As finds the
// *TerminateError through it.
type TerminateError struct {
	Condition string // the 'condition' attribute, e.g. "system-shutdown"; "" for a clean end
	// Text is the human-readable text the server gave, if any: the <text/>
	// of the stream error carried by a remote-stream-error.
	Text string
	// StreamError is the <stream:error/> carried by a remote-stream-error,
	// self-contained (namespaces declared on it); nil otherwise. The same
	// element is also returned by ReadElement before this error.
	StreamError []byte
	// StreamCondition is the defined condition of StreamError, e.g.
	// "conflict"; "" when there is none.
	StreamCondition string
}

func (e *TerminateError) Error() string {
	if e.Condition == "" {
		return "bosh: session terminated by server"
	}
	return "bosh: session terminated by server: " + e.Condition
}

// Is reports whether target is transport.ErrStreamClosed and the terminate
// carried no error condition.
func (e *TerminateError) Is(target error) bool {
	return target == transport.ErrStreamClosed && e.Condition == ""
}

// Transient reports whether a new session may succeed after this
// terminate: after a clean end, item-not-found (the server forgot the
// session), remote-connection-failed, system-shutdown, undefined-condition
// and other-request; after a remote-stream-error whose stream error is
// system-shutdown, connection-timeout, reset, internal-server-error or
// remote-connection-failed. Every other condition (host-unknown,
// host-gone, improper-addressing, bad-request, policy-violation,
// see-other-uri without a URI, a condition unknown to XEP-0124, another
// stream error) would come again.
func (e *TerminateError) Transient() bool {
	switch e.Condition {
	case "", ConditionItemNotFound, ConditionRemoteConnectionFailed, ConditionSystemShutdown,
		ConditionUndefinedCondition, ConditionOtherRequest:
		return true
	case ConditionRemoteStreamError:
		switch e.StreamCondition {
		case "system-shutdown", "connection-timeout", "reset", "internal-server-error", "remote-connection-failed":
			return true
		}
	}
	return false
}

// ServerText returns Text, the server's own words: redact it before
// showing it.
func (e *TerminateError) ServerText() string { return e.Text }

// terminated is the error a terminate ends the session with: the
// *TerminateError, with the methods of transport.Error.
type terminated struct{ err *TerminateError }

func (e *terminated) Error() string { return e.err.Error() }

// Unwrap returns the *TerminateError.
func (e *terminated) Unwrap() error { return e.err }

func (e *terminated) Transient() bool { return e.err.Transient() }

// Condition returns the condition of the stream error of a
// remote-stream-error, when it names one (the session reports it as it
// would a stream error over WebSocket), else the terminate condition.
func (e *terminated) Condition() string {
	if e.err.Condition == ConditionRemoteStreamError && e.err.StreamCondition != "" {
		return e.err.StreamCondition
	}
	return e.err.Condition
}

func (e *terminated) ServerText() string { return e.err.Text }

// terminateError turns a type='terminate' body into the error ReadElement
// returns.
func terminateError(b *body, redact transport.Redactor) error {
	if b.condition == ConditionSeeOtherURI && b.uri != "" {
		return &transport.RedirectError{Kind: transport.RedirectSeeOtherURI, Target: redact.Text(b.uri)}
	}
	e := &TerminateError{Condition: b.condition}
	if b.streamError != nil {
		e.StreamCondition, e.Text = streamErrorDetails(b.streamError)
		e.Text = redact.Text(e.Text)
		e.StreamError = []byte(redact.Text(string(b.streamError)))
	}
	return &terminated{err: e}
}

// streamErrorDetails returns the defined condition and the <text/> of a
// serialized <stream:error/>, each "" when absent.
func streamErrorDetails(elem []byte) (condition, text string) {
	d := xml.NewDecoder(bytes.NewReader(elem))
	depth := 0
	inText, textDone := false, false
	var sb strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return condition, strings.TrimSpace(sb.String())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth != 2 || t.Name.Space != nsStreamErrors {
				continue
			}
			switch {
			case t.Name.Local == "text":
				inText = !textDone
			case condition == "":
				condition = t.Name.Local
			}
		case xml.EndElement:
			if inText && depth == 2 {
				inText, textDone = false, true
			}
			depth--
		case xml.CharData:
			if inText {
				sb.Write(t)
			}
		}
	}
}
