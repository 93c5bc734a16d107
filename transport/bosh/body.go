package bosh

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
	"github.com/xmppconn/xmppconn/transport"
)

// body is a parsed response <body/>: the attributes the client uses and the
// children, each serialized as a self-contained element.
type body struct {
	typ, condition string
	sid            string
	from, lang     string
	xmppVersion    string
	uri            string // the <uri/> of a see-other-uri terminate

	// Numeric attributes; -1 when absent.
	wait, hold, requests, polling, inactivity, maxpause int64
	// ack and report are rids; 0 when absent.
	ack, report uint64

	children    [][]byte
	streamError []byte // the last <stream:error/> child, also in children
}

// readBody reads a response body of at most max bytes; size is its
// Content-Length, or -1 when unknown. A known size within max is read into
// a buffer of that size, in one go.
func readBody(r io.Reader, size int64, max int) ([]byte, error) {
	if size >= 0 && size <= int64(max) {
		data := make([]byte, size)
		if _, err := io.ReadFull(r, data); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		return data, nil
	}
	data, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > max {
		return nil, &transport.LimitError{What: "element size", Limit: max}
	}
	return data, nil
}

// parseBody parses one response. The <body/> and its children must be well
// formed and within l (the size of the whole body, the depth of each child);
// children that name no namespace, or the httpbind one, are put in
// jabber:client. A broken bound gives a *transport.LimitError, anything else
// a *MalformedError.
//
// Each child is serialized self-contained, with the namespaces it uses
// declared on it, so the children together can be far larger than the
// body: a namespace declared once on the <body/> is declared again on every
// child that uses it (32 KB of such children took 40 MB). The children of
// one body may take at most childrenBudget(l) bytes together; beyond it the
// body is refused with a *transport.LimitError whose Limit is that budget.
func parseBody(data []byte, l transport.Limits) (*body, error) {
	l = l.WithDefaults()
	data, ok := skipDeclaration(data)
	if !ok {
		return nil, &MalformedError{Reason: "unterminated XML declaration"}
	}
	// The body itself is one more level of nesting than its children.
	if err := xmlframe.Check(data, transport.Limits{MaxElementSize: l.MaxElementSize, MaxDepth: l.MaxDepth + 1}); err != nil {
		var le *transport.LimitError
		if errors.As(err, &le) {
			if le.What == "nesting depth" {
				le = &transport.LimitError{What: le.What, Limit: l.MaxDepth}
			}
			return nil, le
		}
		return nil, &MalformedError{Reason: "not one well-formed element", Err: err}
	}

	if b, ok := parseUsualBody(data, childrenBudget(l)); ok {
		return b, nil
	}
	return decodeBody(data, l)
}

// decodeBody is parseBody after the check, for every body: it decodes the
// body with encoding/xml and serializes each child with
// xmlframe.AppendElementLimit.
func decodeBody(data []byte, l transport.Limits) (*body, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var start xml.StartElement
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, &MalformedError{Reason: "no root element", Err: err}
		}
		if t, ok := tok.(xml.StartElement); ok {
			start = t
			break
		}
	}
	if start.Name.Space != nsHTTPBind || start.Name.Local != "body" {
		return nil, &MalformedError{Reason: "root element is not <body xmlns='" + nsHTTPBind + "'/>"}
	}
	b, err := bodyAttrs(start.Attr)
	if err != nil {
		return nil, err
	}

	buf := make([]byte, 0, len(data))
	budget := childrenBudget(l)
	tr := remapNS{d}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, &MalformedError{Reason: "reading body", Err: err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space == nsHTTPBind && t.Name.Local == "uri" {
				if b.uri, err = readText(d); err != nil {
					return nil, err
				}
				continue
			}
			if t.Name.Space == nsHTTPBind {
				t.Name.Space = nsClient
			}
			n := len(buf)
			buf, err = xmlframe.AppendElementLimit(buf, t, tr, nsClient, budget)
			if err != nil {
				var le *transport.LimitError
				if errors.As(err, &le) {
					return nil, le
				}
				return nil, &MalformedError{Reason: "child <" + t.Name.Local + "/>", Err: err}
			}
			elem := buf[n:len(buf):len(buf)]
			b.children = append(b.children, elem)
			if t.Name.Space == nsStreams && t.Name.Local == "error" {
				b.streamError = elem
			}
		case xml.EndElement:
			return b, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, &MalformedError{Reason: "text directly inside <body/>"}
			}
		}
	}
}

// childrenBudget is the most bytes the serialized children of one body may
// take together: twice the bound on the body, room for children that each
// declare a namespace or two the body declared for them, never a blow-up.
func childrenBudget(l transport.Limits) int { return 2 * l.MaxElementSize }

// bodyAttrs reads the attributes of a response <body/>.
func bodyAttrs(attrs []xml.Attr) (*body, error) {
	b := &body{wait: -1, hold: -1, requests: -1, polling: -1, inactivity: -1, maxpause: -1}
	for _, a := range attrs {
		var err error
		switch a.Name.Space {
		case "":
			switch a.Name.Local {
			case "type":
				b.typ = a.Value
			case "condition":
				b.condition = a.Value
			case "sid":
				b.sid = a.Value
			case "from":
				b.from = a.Value
			case "wait":
				b.wait, err = parseCount(a.Value)
			case "hold":
				b.hold, err = parseCount(a.Value)
			case "requests":
				b.requests, err = parseCount(a.Value)
			case "polling":
				b.polling, err = parseCount(a.Value)
			case "inactivity":
				b.inactivity, err = parseCount(a.Value)
			case "maxpause":
				b.maxpause, err = parseCount(a.Value)
			case "ack":
				b.ack, err = parseRID(a.Value)
			case "report":
				b.report, err = parseRID(a.Value)
			}
		case nsXBOSH:
			if a.Name.Local == "version" {
				b.xmppVersion = a.Value
			}
		case nsXML:
			if a.Name.Local == "lang" {
				b.lang = a.Value
			}
		}
		if err != nil {
			return nil, &MalformedError{Reason: "attribute " + a.Name.Local, Err: err}
		}
	}
	return b, nil
}

// maxCount bounds the numeric attributes (seconds, counts) so that they fit a
// time.Duration; a larger number counts as maxCount, which is beyond the
// range of every parameter (see Params).
const maxCount = 1 << 31

// parseCount parses a non-negative decimal number, saturated at maxCount.
func parseCount(s string) (int64, error) {
	s = strings.TrimSpace(s)
	// Digits only: ParseUint reports an overflow before it sees a stray
	// character, which would take "99…9A" for the largest number.
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, errors.New("not a decimal number")
	}
	n, err := strconv.ParseUint(s, 10, 64)
	var ne *strconv.NumError
	if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
		return maxCount, nil
	}
	if err != nil {
		return 0, err
	}
	return int64(min(n, maxCount)), nil
}

// maxRID is the largest rid XEP-0124 §14.1 allows: 2^53 - 1.
const maxRID = 1<<53 - 1

func parseRID(s string) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err == nil && (n == 0 || n > maxRID) {
		err = errors.New("out of range")
	}
	return n, err
}

// readText returns the text of an element whose start was just read; the
// element must hold nothing else.
func readText(d *xml.Decoder) (string, error) {
	var sb strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return "", &MalformedError{Reason: "reading <uri/>", Err: err}
		}
		switch t := tok.(type) {
		case xml.CharData:
			sb.Write(t)
		case xml.EndElement:
			return strings.TrimSpace(sb.String()), nil
		case xml.StartElement:
			return "", &MalformedError{Reason: "element inside <uri/>"}
		}
	}
}

// skipDeclaration returns data without a byte order mark, leading whitespace
// and an XML declaration; false when a declaration does not end.
func skipDeclaration(data []byte) ([]byte, bool) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	data = bytes.TrimLeft(data, " \t\r\n")
	if !bytes.HasPrefix(data, []byte("<?xml")) {
		return data, true
	}
	i := bytes.Index(data, []byte("?>"))
	if i < 0 {
		return nil, false
	}
	return data[i+2:], true
}

// remapNS puts elements in the httpbind namespace (children that inherited
// the <body/>'s default namespace) into jabber:client, as XEP-0206 §3 intends.
type remapNS struct{ d *xml.Decoder }

func (r remapNS) Token() (xml.Token, error) {
	tok, err := r.d.Token()
	switch t := tok.(type) {
	case xml.StartElement:
		if t.Name.Space == nsHTTPBind {
			t.Name.Space = nsClient
		}
		return t, err
	case xml.EndElement:
		if t.Name.Space == nsHTTPBind {
			t.Name.Space = nsClient
		}
		return t, err
	}
	return tok, err
}
