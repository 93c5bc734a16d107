package xmlframe

import (
	"bytes"
	"encoding/xml"

	"github.com/xmppconn/xmppconn/transport"
)

// undeclaredStreamError is the raw name of the one root element CheckLenient
// reads without a declaration of its prefix.
var undeclaredStreamError = xml.Name{Space: "stream", Local: "error"}

// streamPrefixDecl is what CheckLenient inserts into the start tag of such
// a root.
const streamPrefixDecl = " xmlns:stream='" + streamsNS + "'"

// CheckLenient is Check with one tolerance, for a known server bug, and
// returns the element to hand on.
//
// Prosody 13.0.1's mod_websocket serializes a stream error before its
// outbound filter could declare the stream prefix, so the WebSocket message
// is <stream:error><system-shutdown xmlns='…'/></stream:error> with
// "stream" undeclared, although each RFC 7395 message is a complete
// document. When elem's root element is exactly stream:error, that prefix
// is undeclared on it, and elem passes Check otherwise, CheckLenient returns
// a copy of elem with xmlns:stream='http://etherx.jabber.org/streams'
// inserted right after the root's name, so that it reads as any stream
// error does (the copy may exceed l.MaxElementSize by that declaration).
// Nothing else is tolerated: an undeclared prefix on a child, on an
// attribute (even of the root), or on another root element (such as
// stream:features) is an error as in Check.
//
// In every other case it returns elem itself and what Check returns.
func CheckLenient(elem []byte, l transport.Limits) ([]byte, error) {
	tolerated, err := check(elem, l, true)
	if err != nil || !tolerated {
		return elem, err
	}
	// The root's raw name follows its '<' directly (encoding/xml read it so).
	at := bytes.IndexByte(elem, '<') + 1 + len("stream:error")
	out := make([]byte, 0, len(elem)+len(streamPrefixDecl))
	out = append(out, elem[:at]...)
	out = append(out, streamPrefixDecl...)
	return append(out, elem[at:]...), nil
}
