package xmppconn

import (
	"bytes"

	"github.com/xmppconn/xmppconn/internal/xmlframe"
)

// saslText returns the text of a SASL element (challenge, response,
// success) when the element holds only base64 text, without decoding it as
// XML: an exchange step reads one at every round trip. ok is false for
// anything else (children, references, CDATA, characters base64 does not
// use), which the XML decoder then reads. elem is one element as the
// transport gives it: checked, so well formed.
func saslText(elem []byte) (text []byte, ok bool) {
	end, selfClosing := xmlframe.TagEnd(elem)
	switch {
	case end < 0:
		return nil, false
	case selfClosing:
		return nil, true // <success/>: no text
	}
	rest := elem[end:]
	lt := bytes.IndexByte(rest, '<')
	// The text must run to the end tag, the element's last markup.
	if lt < 0 || lt+1 >= len(rest) || rest[lt+1] != '/' || bytes.IndexByte(rest[lt+1:], '<') >= 0 {
		return nil, false
	}
	text = rest[:lt]
	for _, c := range text {
		if !isBase64Text(c) {
			return nil, false
		}
	}
	return text, true
}

// isBase64Text reports whether c may appear in base64 text as
// encoding/base64 reads it: its alphabet, padding, and newlines (a carriage
// return, which XML turns into a newline, goes to the decoder).
func isBase64Text(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '+' || c == '/' || c == '=' || c == '\n'
}
