package websocket

import (
	"io"
	"net/http"
	"slices"
	"strings"
)

// writeUpgrade writes req, a WebSocket upgrade (a GET with no body), as
// HTTP/1.1 in one write, as net/http's Request.Write would: the request
// line, Host, User-Agent, then the headers in key order. net/http's writer
// formats through fmt and a bufio.Writer of its own, which cost a connect
// more CPU than the rest of the handshake. A request it cannot vouch for
// (a header net/http would refuse, a body, a trailer) goes to net/http,
// which writes it or returns its error.
func writeUpgrade(w io.Writer, req *http.Request) error {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if req.Body != nil || len(req.Trailer) > 0 || len(req.TransferEncoding) > 0 || req.Close ||
		!plainHost(host) || !validHeaderValue(req.URL.RequestURI()) {
		return req.Write(w)
	}
	keys := make([]string, 0, len(req.Header))
	for k, vs := range req.Header {
		if !validHeaderName(k) || k == "Host" || k == "Content-Length" || k == "Transfer-Encoding" {
			return req.Write(w)
		}
		for _, v := range vs {
			if !validHeaderValue(v) {
				return req.Write(w)
			}
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)

	b := make([]byte, 0, 512)
	b = append(b, "GET "...)
	b = append(b, req.URL.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\n"...)
	if _, ok := req.Header["User-Agent"]; !ok {
		b = append(b, "User-Agent: Go-http-client/1.1\r\n"...)
	}
	for _, k := range keys {
		for _, v := range req.Header[k] {
			if k == "User-Agent" && v == "" {
				continue // net/http's way to send none
			}
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, strings.Trim(v, " \t")...)
			b = append(b, "\r\n"...)
		}
	}
	b = append(b, "\r\n"...)
	_, err := w.Write(b)
	return err
}

// plainHost reports whether host is written as it is: an ASCII name or
// address and port. net/http rewrites the others (an IPv6 zone is dropped,
// an international name goes to punycode), so it writes those.
func plainHost(host string) bool {
	if host == "" {
		return false
	}
	for i := 0; i < len(host); i++ {
		switch c := host[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_':
		default:
			return false
		}
	}
	return true
}

// validHeaderName reports whether k is an RFC 9110 token.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '!' || c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' ||
			c == '+' || c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~':
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v holds no control character but
// horizontal tab: nothing that could end the line or the header.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
