package bosh

import (
	"net/http"
	"strconv"

	"github.com/xmppconn/xmppconn/transport"
)

// The errors of the package that can end a session say what they mean for
// the session layer by behaviour (transport.Error). A *TerminateError does
// through the error that wraps it, since its Condition field takes the name
// of the method.
var (
	_ transport.Error        = (*HTTPError)(nil)
	_ transport.HTTPStatuser = (*HTTPError)(nil)
	_ transport.Error        = (*MalformedError)(nil)
	_ transport.Error        = (*terminated)(nil)
	_ transport.ServerTexter = (*terminated)(nil)
	_ transport.Error        = recoverableError{}
	_ transport.Error        = (*readError)(nil)
)

// HTTPError reports a non-2xx, non-3xx HTTP answer from the connection
// manager. 400, 403, 404 and the other 4xx codes (but 408 and 429) end the
// session at once (XEP-0124 §17); 5xx, 408 and 429 are retried with the same
// rid first. For the session, a 5xx (or a status of 0: no answer) is
// transient, and every other status final: a new session would get it
// again.
type HTTPError struct {
	Status  int  // the HTTP status code
	Retried bool // the request was sent more than once before giving up
}

func (e *HTTPError) Error() string {
	s := "bosh: http status " + strconv.Itoa(e.Status)
	if t := http.StatusText(e.Status); t != "" {
		s += " (" + t + ")"
	}
	if e.Retried {
		s += " after retries"
	}
	return s
}

// Transient reports whether a new session may succeed: a 5xx, or no status.
func (e *HTTPError) Transient() bool { return e.Status >= 500 || e.Status == 0 }

// Condition returns "": an HTTP error names no protocol condition.
func (e *HTTPError) Condition() string { return "" }

// HTTPStatus returns the status code.
func (e *HTTPError) HTTPStatus() int { return e.Status }

// retryable reports whether a request answered with this status may be sent
// again: server errors and the two 4xx codes that mean "try later".
func retryable(status int) bool {
	return status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
}

// MalformedError reports a response that is not a usable BOSH <body/>: bad
// XML, another root element, a bad attribute value, or a session creation
// response without a sid. The session cannot continue, and it is final: a
// new session would get the same answer. Bounds broken by the response are
// reported as *transport.LimitError instead.
type MalformedError struct {
	Reason string // what is wrong, e.g. "root element is not <body/>"
	Err    error  // the underlying parse error, if any
}

func (e *MalformedError) Error() string {
	s := "bosh: malformed response body: " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *MalformedError) Unwrap() error { return e.Err }

// Transient returns false: the server would answer the same way again.
func (e *MalformedError) Transient() bool { return false }

// Condition returns "".
func (e *MalformedError) Condition() string { return "" }

// recoverableError is a type='error' response: the deprecated recoverable
// binding error of XEP-0124, after which the request is sent again. Once
// the tries are spent it ends the session, transient: the server had
// trouble with this session, not with the client.
type recoverableError struct{}

func (recoverableError) Error() string     { return "bosh: recoverable binding error" }
func (recoverableError) Transient() bool   { return true }
func (recoverableError) Condition() string { return "" }

// errRecoverable is the error of a type='error' response.
var errRecoverable error = recoverableError{}

// readError reports a response body that could not be read whole: the
// connection broke or timed out in the middle of it. Transient, like the
// network error it wraps, unless that error says otherwise (a cancelled
// context).
type readError struct{ err error }

func (e *readError) Error() string { return "bosh: read response: " + e.err.Error() }

// Unwrap returns the error of the read.
func (e *readError) Unwrap() error { return e.err }

func (e *readError) Transient() bool {
	if t, known := transport.Transient(e.err); known {
		return t
	}
	return true
}

func (e *readError) Condition() string { return "" }
