package xmlframe

import "strconv"

// SyntaxError reports bytes that are not what the operation accepts: input
// the Splitter cannot cut into elements, or an element that Check finds
// malformed. It wraps the encoding/xml error, when there is one.
type SyntaxError struct {
	Op     string // "split", "check" or "append"
	Offset int64  // byte offset where the problem was found; -1 when unknown
	Msg    string // what is wrong, e.g. "comment not allowed"
	Err    error  // the underlying error, if any
}

func (e *SyntaxError) Error() string {
	s := "xmlframe: " + e.Op + ": " + e.Msg
	if e.Offset >= 0 {
		s += " at offset " + strconv.FormatInt(e.Offset, 10)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *SyntaxError) Unwrap() error { return e.Err }
