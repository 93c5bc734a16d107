package jitsi

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"mellium.im/xmlstream"
	"mellium.im/xmpp/jid"
)

func mustJID(t *testing.T, s string) jid.JID {
	t.Helper()
	j, err := jid.Parse(s)
	if err != nil {
		t.Fatalf("jid.Parse(%q): %v", s, err)
	}
	return j
}

func fmtV(v any) string { return fmt.Sprintf("%v", v) }

// encodeTokens serializes tokens as the session's encoder would.
func encodeTokens(t *testing.T, r xml.TokenReader) string {
	t.Helper()
	var b strings.Builder
	e := xml.NewEncoder(&b)
	if _, err := xmlstream.Copy(e, r); err != nil {
		t.Fatalf("encode: %v", err)
	}
	if err := e.Flush(); err != nil {
		t.Fatalf("encode: %v", err)
	}
	return b.String()
}
