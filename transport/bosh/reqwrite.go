package bosh

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// defaultUserAgent is what net/http sends when a request sets none.
const defaultUserAgent = "Go-http-client/1.1"

// requestBytes returns req as it goes on the wire, with its body, and
// closes the body. A request as the Conn makes them (a POST with a
// Content-Length, plain headers, an ASCII host) is written by hand, byte
// for byte what Request.Write writes (TestRequestBytes), which formats
// through fmt and a transfer writer of its own: a tenth of the CPU of a
// request on loopback. Anything else goes through Request.Write.
func requestBytes(req *http.Request) ([]byte, error) {
	if !plainRequest(req) {
		// Request.Write reports WroteRequest itself, to the trace of its
		// context: it writes to a buffer here, so it gets none.
		var b bytes.Buffer
		err := req.WithContext(context.Background()).Write(&b)
		return b.Bytes(), err
	}
	n := int(req.ContentLength)
	keys := make([]string, 0, len(req.Header))
	host := hostOf(req)
	size := len(req.Method) + len(req.URL.RequestURI()) + len(host) + len(defaultUserAgent) + n + 80
	for k, vs := range req.Header {
		if _, skip := excludedHeaders[k]; !skip {
			keys = append(keys, k)
		}
		for _, v := range vs {
			size += len(k) + len(v) + 4
		}
	}
	slices.Sort(keys)
	ua := defaultUserAgent
	if vs, ok := req.Header["User-Agent"]; ok {
		ua = ""
		if len(vs) > 0 {
			ua = vs[0]
		}
	}

	b := make([]byte, 0, size)
	b = append(b, req.Method...)
	b = append(b, ' ')
	b = append(b, req.URL.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\n"...)
	if ua != "" {
		b = append(b, "User-Agent: "...)
		b = append(b, ua...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, req.ContentLength, 10)
	b = append(b, "\r\n"...)
	for _, k := range keys {
		for _, v := range req.Header[k] {
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	b = append(b, "\r\n"...)

	head := len(b)
	b = slices.Grow(b, n)[:head+n]
	_, err := io.ReadFull(req.Body, b[head:])
	if err == nil {
		// The body must end where Content-Length says, as Request.Write
		// checks.
		var one [1]byte
		if m, _ := req.Body.Read(one[:]); m > 0 {
			err = errors.New("bosh: request body longer than its ContentLength")
		}
	}
	if cerr := req.Body.Close(); err == nil {
		err = cerr
	}
	return b, err
}

// excludedHeaders are the headers requestBytes writes itself, or that
// Request.Write leaves out of the header map.
var excludedHeaders = map[string]struct{}{
	"Host":              {},
	"User-Agent":        {},
	"Content-Length":    {},
	"Transfer-Encoding": {},
	"Trailer":           {},
}

// plainRequest reports whether requestBytes may write req by hand: what
// Request.Write would write for it is exactly the simple form.
func plainRequest(req *http.Request) bool {
	if req.Method != http.MethodPost || req.ContentLength <= 0 || req.Body == nil || req.Body == http.NoBody ||
		req.Close || len(req.TransferEncoding) > 0 || req.Trailer != nil || req.URL == nil || req.URL.Opaque != "" ||
		!plainText(hostOf(req), false) || strings.ContainsAny(hostOf(req), "%[") || !plainText(req.URL.RequestURI(), false) {
		return false
	}
	for k, vs := range req.Header {
		if !headerName(k) {
			return false
		}
		for _, v := range vs {
			if !plainText(v, true) || strings.TrimSpace(v) != v {
				return false
			}
		}
	}
	if vs, ok := req.Header["User-Agent"]; ok && len(vs) != 1 {
		return false
	}
	return true
}

// plainText reports whether s is printable ASCII (and spaces, when
// spaces is set): nothing Request.Write would encode, replace or refuse.
func plainText(s string, spaces bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > '~' || c < ' ' || c == ' ' && !spaces {
			return false
		}
	}
	return true
}

// hostOf returns the host Request.Write names in the Host header.
func hostOf(req *http.Request) string {
	if req.Host != "" {
		return req.Host
	}
	return req.URL.Host
}

// headerName reports whether k is a header name of letters, digits and
// hyphens, which Request.Write writes as it is.
func headerName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
