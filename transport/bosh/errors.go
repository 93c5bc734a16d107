package bosh

import (
	"net/http"
	"strconv"
)

// HTTPError reports a non-2xx, non-3xx HTTP answer from the connection
// manager. 400, 403, 404 and the other 4xx codes (but 408 and 429) end the
// session at once (XEP-0124 §17); 5xx, 408 and 429 are retried with the same
// rid first.
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

// retryable reports whether a request answered with this status may be sent
// again: server errors and the two 4xx codes that mean "try later".
func retryable(status int) bool {
	return status >= 500 || status == http.StatusRequestTimeout || status == http.StatusTooManyRequests
}

// MalformedError reports a response that is not a usable BOSH <body/>: bad
// XML, another root element, a bad attribute value, or a session creation
// response without a sid. The session cannot continue. Bounds broken by the
// response are reported as *transport.LimitError instead.
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
