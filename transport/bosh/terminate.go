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
type TerminateError struct {
	Condition string // the 'condition' attribute, e.g. "system-shutdown"; "" for a clean end
	// Text is the human-readable text the server gave, if any: the <text/>
	// of the stream error carried by a remote-stream-error.
	Text string
	// StreamError is the <stream:error/> carried by a remote-stream-error,
	// self-contained (namespaces declared on it); nil otherwise. The same
	// element is also returned by ReadElement before this error.
	StreamError []byte
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

// terminateError turns a type='terminate' body into the error ReadElement
// returns.
func terminateError(b *body) error {
	if b.condition == ConditionSeeOtherURI && b.uri != "" {
		return &transport.RedirectError{Kind: transport.RedirectSeeOtherURI, Target: b.uri}
	}
	e := &TerminateError{Condition: b.condition}
	if b.streamError != nil {
		e.StreamError = bytes.Clone(b.streamError)
		e.Text = streamErrorText(b.streamError)
	}
	return e
}

// streamErrorText returns the <text/> of a serialized <stream:error/>, or "".
func streamErrorText(elem []byte) string {
	d := xml.NewDecoder(bytes.NewReader(elem))
	depth := 0
	inText := false
	var sb strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return strings.TrimSpace(sb.String())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			inText = depth == 2 && t.Name.Space == nsStreamErrors && t.Name.Local == "text"
		case xml.EndElement:
			if inText {
				return strings.TrimSpace(sb.String())
			}
			depth--
		case xml.CharData:
			if inText {
				sb.Write(t)
			}
		}
	}
}
