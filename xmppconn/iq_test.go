package xmppconn

import (
	"testing"

	"mellium.im/xmpp/jid"
)

func TestAnsweredBy(t *testing.T) {
	self := jid.MustParse("a@d.example/r")
	tests := []struct {
		name, from, to string
		want           bool
	}{
		{"same JID", "focus.d.example", "focus.d.example", true},
		{"case folded", "Focus.D.Example", "focus.d.example", true},
		{"other JID", "evil.example", "focus.d.example", false},
		{"no from, asked the server", "", "d.example", true},
		{"no from, asked the account", "", "a@d.example", true},
		{"no from, asked a component", "", "focus.d.example", false},
		{"unparsable from", "@@", "focus.d.example", false},
		{"no from, asked nobody in particular", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := answeredBy(tt.from, mustParseOrZero(tt.to), self); got != tt.want {
				t.Errorf("answeredBy(%q, %q) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

// mustParseOrZero parses s, "" as the zero JID.
func mustParseOrZero(s string) jid.JID {
	if s == "" {
		return jid.JID{}
	}
	return jid.MustParse(s)
}
