package auth

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
)

// Namespaces of the SASL <failure/> elements ParseFailure reads.
const (
	NSSASL  = "urn:ietf:params:xml:ns:xmpp-sasl" // RFC 6120
	NSSASL2 = "urn:xmpp:sasl:2"                  // XEP-0388
)

// nsXML is the namespace encoding/xml gives the xml: prefix (xml:lang).
const nsXML = "http://www.w3.org/XML/1998/namespace"

// The SASL failure conditions of RFC 6120 section 6.5, usable with errors.Is
// on a *FailureError.
var (
	ErrAborted              = errors.New("sasl: aborted")
	ErrAccountDisabled      = errors.New("sasl: account-disabled")
	ErrCredentialsExpired   = errors.New("sasl: credentials-expired")
	ErrEncryptionRequired   = errors.New("sasl: encryption-required")
	ErrIncorrectEncoding    = errors.New("sasl: incorrect-encoding")
	ErrInvalidAuthzID       = errors.New("sasl: invalid-authzid")
	ErrInvalidMechanism     = errors.New("sasl: invalid-mechanism")
	ErrMalformedRequest     = errors.New("sasl: malformed-request")
	ErrMechanismTooWeak     = errors.New("sasl: mechanism-too-weak")
	ErrNotAuthorized        = errors.New("sasl: not-authorized")
	ErrTemporaryAuthFailure = errors.New("sasl: temporary-auth-failure")

	// ErrNotAllowed is <not-allowed/>, which is not in RFC 6120 but is what
	// Jitsi's Prosody sends when it refuses a token.
	ErrNotAllowed = errors.New("sasl: not-allowed")
)

// conditions maps each known condition name to its sentinel.
var conditions = map[string]error{
	"aborted":                ErrAborted,
	"account-disabled":       ErrAccountDisabled,
	"credentials-expired":    ErrCredentialsExpired,
	"encryption-required":    ErrEncryptionRequired,
	"incorrect-encoding":     ErrIncorrectEncoding,
	"invalid-authzid":        ErrInvalidAuthzID,
	"invalid-mechanism":      ErrInvalidMechanism,
	"malformed-request":      ErrMalformedRequest,
	"mechanism-too-weak":     ErrMechanismTooWeak,
	"not-authorized":         ErrNotAuthorized,
	"temporary-auth-failure": ErrTemporaryAuthFailure,
	"not-allowed":            ErrNotAllowed,
}

// FailureError is a SASL <failure/> sent by the server.
// errors.Is(err, ErrNotAuthorized) and the like match its Condition; an
// unknown condition is kept as it was sent and matches no sentinel.
type FailureError struct {
	Condition string // the condition element's name, e.g. "not-authorized"
	Text      string // the server's <text/>, may be empty
	Lang      string // xml:lang of the text (or of the failure), may be empty
}

// Error returns "sasl: CONDITION" or "sasl: CONDITION: TEXT".
func (e *FailureError) Error() string {
	if e.Text == "" {
		return "sasl: " + e.Condition
	}
	return "sasl: " + e.Condition + ": " + e.Text
}

// Is reports whether target is the sentinel of e's condition.
func (e *FailureError) Is(target error) bool {
	s, ok := conditions[e.Condition]
	return ok && s == target
}

// ErrMalformedFailure reports a <failure/> element ParseFailure could not
// read. It is not a server condition: see ErrMalformedRequest for that.
var ErrMalformedFailure = errors.New("sasl: malformed failure element")

// ParseFailure parses a serialized <failure/> element of RFC 6120
// (xmlns='urn:ietf:params:xml:ns:xmpp-sasl') or of SASL2, XEP-0388
// (xmlns='urn:xmpp:sasl:2', whose condition is still in the RFC 6120
// namespace). The condition is the first child in the RFC 6120 namespace
// other than <text/>; application-specific children are ignored. Anything
// else — not XML, another element, no condition — gives an error wrapping
// ErrMalformedFailure.
func ParseFailure(elem []byte) (*FailureError, error) {
	d := xml.NewDecoder(bytes.NewReader(elem))
	root, err := rootElement(d)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedFailure, err)
	}
	if root.Name.Local != "failure" || (root.Name.Space != NSSASL && root.Name.Space != NSSASL2) {
		return nil, fmt.Errorf("%w: got <%s xmlns=%q>, want <failure xmlns=%q>",
			ErrMalformedFailure, root.Name.Local, root.Name.Space, NSSASL)
	}
	fe := &FailureError{Lang: attr(root, nsXML, "lang")}
	textAt := -1 // the child number of the first <text/>
	var text []byte
	err = walkChildren(d, func(i int, child xml.StartElement) {
		switch {
		case child.Name.Local == "text" && (child.Name.Space == NSSASL || child.Name.Space == NSSASL2):
			if textAt < 0 {
				textAt = i
				if l := attr(child, nsXML, "lang"); l != "" {
					fe.Lang = l
				}
			}
		case child.Name.Space == NSSASL && fe.Condition == "":
			fe.Condition = child.Name.Local
		}
	}, func(i int, data []byte) {
		if i == textAt {
			text = append(text, data...)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedFailure, err)
	}
	if fe.Condition == "" {
		return nil, fmt.Errorf("%w: no condition element", ErrMalformedFailure)
	}
	fe.Text = string(text)
	return fe, nil
}
