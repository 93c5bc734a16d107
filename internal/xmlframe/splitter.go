package xmlframe

import "bytes"

// Scanner states of a Splitter. Each names what the next byte may be.
const (
	stTop       uint8 = iota // between top-level elements
	stLT                     // after '<'
	stStartName              // in the name of a start tag
	stInTag                  // in a start tag, between attributes
	stAttrName               // in an attribute name
	stAttrEq                 // after an attribute name, before '='
	stAttrQuote              // after '=', before the opening quote
	stAttrValue              // in a quoted attribute value
	stSlash                  // after '/' in a start tag
	stContent                // character data inside an element
	stBang                   // after "<!" inside an element: expecting "[CDATA["
	stCDATA                  // inside a CDATA section
	stEndName                // in the name of an end tag
	stEndSpace               // after the name of an end tag
	stDecl                   // after "<?" at depth 0: expecting "xml"
	stDeclBody               // inside "<?xml ...?>"
)

const (
	cdataOpen = "[CDATA["
	declName  = "xml"
	// maxKeep bounds the capacity a Splitter keeps between elements, so that
	// one huge element does not pin its buffer for the life of the stream.
	maxKeep = 64 << 10
)

// Splitter cuts an outbound byte stream (what an encoding/xml Encoder writes,
// in arbitrary chunks: partial elements, several elements in one write, large
// stanzas) into complete top-level elements.
//
// Whitespace between top-level elements is dropped. An end tag at depth 0
// (like the "</stream:stream>" mellium writes when its session closes) is not
// an element: it is dropped and sets Ended. A "<?xml ...?>" declaration at
// depth 0 is dropped. Comments, other processing instructions and DOCTYPE
// declarations are errors, as is text outside an element. Attribute values
// may contain '>' and quotes of the other kind; CDATA sections may contain
// '<' and '>'.
//
// A Splitter is a lightweight scanner, not a parser: it finds element
// boundaries and rejects what XMPP forbids, but it does not check names,
// entities or that end tags match their start tags (Check does). The zero
// value is ready to use. A Splitter is not safe for concurrent use.
type Splitter struct {
	buf   []byte // bytes of the incomplete element, from its '<'
	state uint8
	quote byte // the quote that opened the current attribute value
	match int  // bytes matched of cdataOpen or declName, or ']' seen in CDATA
	depth int  // open elements
	ended bool
	off   int64 // offset in the whole stream of buf[0] (or of the next byte when buf is empty)
	err   error
}

// Write appends p and calls emit for each complete element found, with a
// slice that is only valid during the call (emit copies it if it keeps it).
// It returns the first error of emit or of the scanner; after an error the
// Splitter is unusable and returns that error again.
func (s *Splitter) Write(p []byte, emit func(elem []byte) error) error {
	if s.err != nil {
		return s.err
	}
	var data []byte
	i := 0
	inBuf := len(s.buf) > 0
	if inBuf {
		i = len(s.buf)
		s.buf = append(s.buf, p...)
		data = s.buf
	} else {
		data = p
	}
	start := 0 // first byte of the pending element or construct in data

	fail := func(msg string) error {
		s.err = &SyntaxError{Op: "split", Offset: s.off + int64(i), Msg: msg}
		s.buf = nil
		return s.err
	}

	for i < len(data) {
		c := data[i]
		switch s.state {
		case stTop:
			if isSpace(c) {
				i++
				continue
			}
			if c != '<' {
				return fail("text outside an element")
			}
			start = i
			s.state = stLT

		case stLT:
			switch {
			case c == '/':
				s.state = stEndName
			case c == '?':
				if s.depth > 0 {
					return fail("processing instruction not allowed")
				}
				s.state, s.match = stDecl, 0
			case c == '!':
				if s.depth == 0 {
					return fail("comment or DOCTYPE not allowed")
				}
				s.state, s.match = stBang, 0
			case isNameByte(c):
				s.state = stStartName
			default:
				return fail("invalid character after '<'")
			}

		case stStartName:
			switch {
			case isSpace(c):
				s.state = stInTag
			case c == '/':
				s.state = stSlash
			case c == '>':
				s.depth++
				s.state = stContent
			case !isNameByte(c):
				return fail("invalid character in element name")
			}

		case stInTag:
			switch {
			case isSpace(c):
			case c == '/':
				s.state = stSlash
			case c == '>':
				s.depth++
				s.state = stContent
			case isNameByte(c):
				s.state = stAttrName
			default:
				return fail("invalid character in start tag")
			}

		case stAttrName:
			switch {
			case c == '=':
				s.state = stAttrQuote
			case isSpace(c):
				s.state = stAttrEq
			case !isNameByte(c):
				return fail("invalid character in attribute name")
			}

		case stAttrEq:
			switch {
			case isSpace(c):
			case c == '=':
				s.state = stAttrQuote
			default:
				return fail("attribute without value")
			}

		case stAttrQuote:
			switch {
			case isSpace(c):
			case c == '"' || c == '\'':
				s.quote = c
				s.state = stAttrValue
			default:
				return fail("unquoted attribute value")
			}

		case stAttrValue:
			// Skip to the closing quote, refusing '<' on the way.
			rest := data[i:]
			n := bytes.IndexByte(rest, s.quote)
			if n < 0 {
				n = len(rest)
			}
			if bytes.IndexByte(rest[:n], '<') >= 0 {
				i += bytes.IndexByte(rest[:n], '<')
				return fail("'<' in attribute value")
			}
			i += n
			if n == len(rest) {
				continue
			}
			s.state = stInTag

		case stSlash:
			if c != '>' {
				return fail("expected '>' after '/'")
			}
			if s.depth == 0 {
				if err := s.emit(data[start:i+1], emit); err != nil {
					return err
				}
				start = i + 1
				s.state = stTop
			} else {
				s.state = stContent
			}

		case stContent:
			n := bytes.IndexByte(data[i:], '<')
			if n < 0 {
				i = len(data)
				continue
			}
			i += n
			s.state = stLT

		case stBang:
			if c != cdataOpen[s.match] {
				return fail("comment or DOCTYPE not allowed")
			}
			s.match++
			if s.match == len(cdataOpen) {
				s.state, s.match = stCDATA, 0
			}

		case stCDATA:
			switch {
			case c == ']':
				s.match++
			case c == '>' && s.match >= 2:
				s.state, s.match = stContent, 0
			default:
				s.match = 0
			}

		case stEndName:
			switch {
			case c == '>':
				if data[i-1] == '/' {
					return fail("empty end tag")
				}
				if err := s.endTag(data, &start, i, emit); err != nil {
					return err
				}
			case isSpace(c):
				if data[i-1] == '/' {
					return fail("empty end tag")
				}
				s.state = stEndSpace
			case !isNameByte(c):
				return fail("invalid character in end tag")
			}

		case stEndSpace:
			switch {
			case isSpace(c):
			case c == '>':
				if err := s.endTag(data, &start, i, emit); err != nil {
					return err
				}
			default:
				return fail("invalid character in end tag")
			}

		case stDecl:
			if s.match < len(declName) {
				if c != declName[s.match] {
					return fail("processing instruction not allowed")
				}
				s.match++
				break
			}
			if !isSpace(c) && c != '?' {
				return fail("processing instruction not allowed")
			}
			s.state, s.match = stDeclBody, 0
			continue // the byte may be the '?' of "?>"

		case stDeclBody:
			switch {
			case c == '?':
				s.match = 1
			case c == '>' && s.match == 1:
				start = i + 1 // drop the declaration
				s.state, s.match = stTop, 0
			default:
				s.match = 0
			}
		}
		i++
	}

	// Keep what belongs to an unfinished element (or construct) for the next
	// Write; data[start:] is all of it, since start is only moved past
	// complete elements.
	if s.state == stTop {
		start = len(data)
	}
	rest := data[start:]
	if inBuf {
		n := copy(s.buf, rest)
		s.buf = s.buf[:n]
	} else {
		s.buf = append(s.buf[:0], rest...)
	}
	if len(s.buf) == 0 && cap(s.buf) > maxKeep {
		s.buf = nil
	}
	s.off += int64(start)
	return nil
}

// endTag handles the '>' at data[i] that ends an end tag.
func (s *Splitter) endTag(data []byte, start *int, i int, emit func([]byte) error) error {
	switch s.depth {
	case 0: // the end of the stream, not an element
		s.ended = true
		*start = i + 1
		s.state = stTop
	case 1:
		s.depth = 0
		if err := s.emit(data[*start:i+1], emit); err != nil {
			return err
		}
		*start = i + 1
		s.state = stTop
	default:
		s.depth--
		s.state = stContent
	}
	return nil
}

func (s *Splitter) emit(elem []byte, emit func([]byte) error) error {
	if err := emit(elem); err != nil {
		s.err = err
		s.buf = nil
		return err
	}
	return nil
}

// Ended reports whether an end tag at depth 0 (the end of the stream) was
// seen.
func (s *Splitter) Ended() bool { return s.ended }

// Buffered returns the number of bytes of an incomplete element held.
func (s *Splitter) Buffered() int { return len(s.buf) }

// isSpace reports whether c is XML whitespace.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// isNameByte reports whether c may appear in an XML name. Every byte of a
// multi-byte UTF-8 sequence is accepted; Check validates names fully.
func isNameByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case c == ':' || c == '_' || c == '-' || c == '.':
		return true
	case c >= 0x80:
		return true
	}
	return false
}
