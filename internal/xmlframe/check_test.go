package xmlframe

import (
	"errors"
	"strings"
	"testing"

	"github.com/xmppconn/xmppconn/transport"
)

func TestCheck(t *testing.T) {
	small := transport.Limits{MaxElementSize: 64, MaxDepth: 3}
	tests := []struct {
		name   string
		elem   string
		limits transport.Limits
		want   string // "" ok, "size", "depth", or "syntax"
	}{
		{"stanza", "<message xmlns='jabber:client'><body>hi &amp; bye</body></message>", transport.Limits{}, ""},
		{"surrounding whitespace", "\n <a/> \r\n", transport.Limits{}, ""},
		{"stream features with prefix", "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><x xmlns='y'/></stream:features>", transport.Limits{}, ""},
		{"xml:lang", "<a xml:lang='en'/>", transport.Limits{}, ""},
		{"prefixed attribute declared", "<a xmlns:p='urn:p' p:x='1'><p:b/></a>", transport.Limits{}, ""},
		{"CDATA", "<a><![CDATA[<b>]]></a>", transport.Limits{}, ""},
		{"at size limit", "<a>" + strings.Repeat("x", 64-7) + "</a>", small, ""},
		{"over size limit", "<a>" + strings.Repeat("x", 64-6) + "</a>", small, "size"},
		{"default size limit", "<a>" + strings.Repeat("x", transport.DefaultMaxElementSize) + "</a>", transport.Limits{}, "size"},
		{"at depth limit", "<a><b><c/></b></a>", small, ""},
		{"over depth limit", "<a><b><c><d/></c></b></a>", small, "depth"},
		{"default depth limit", strings.Repeat("<a>", 65) + strings.Repeat("</a>", 65), transport.Limits{}, "depth"},
		{"empty", "  ", transport.Limits{}, "syntax"},
		{"two elements", "<a/><b/>", transport.Limits{}, "syntax"},
		{"text after element", "<a/>x", transport.Limits{}, "syntax"},
		{"text only", "hello", transport.Limits{}, "syntax"},
		{"unclosed", "<a><b></b>", transport.Limits{}, "syntax"},
		{"mismatched end", "<a></b>", transport.Limits{}, "syntax"},
		{"mismatched prefix", "<p:a xmlns:p='x'></q:a>", transport.Limits{}, "syntax"},
		{"undeclared element prefix", "<stream:error/>", transport.Limits{}, "syntax"},
		{"undeclared attribute prefix", "<a p:x='1'/>", transport.Limits{}, "syntax"},
		{"prefix out of scope", "<a><b xmlns:p='x'/><p:c/></a>", transport.Limits{}, "syntax"},
		{"duplicate attribute", "<a x='1' x='2'/>", transport.Limits{}, "syntax"},
		{"comment", "<a><!-- c --></a>", transport.Limits{}, "syntax"},
		{"processing instruction", "<a><?pi x?></a>", transport.Limits{}, "syntax"},
		{"declaration", "<?xml version='1.0'?><a/>", transport.Limits{}, "syntax"},
		{"doctype", "<!DOCTYPE a><a/>", transport.Limits{}, "syntax"},
		{"undefined entity", "<a>&nbsp;</a>", transport.Limits{}, "syntax"},
		{"bad utf-8", "<a>\xff</a>", transport.Limits{}, "syntax"},
		{"colon-only name", "<:/>", transport.Limits{}, "syntax"},
		{"empty prefix", "<:a/>", transport.Limits{}, "syntax"},
		{"local part starts with a digit", "<p:0 xmlns:p='x'/>", transport.Limits{}, "syntax"},
		{"prefix undeclared with empty value", "<p:a xmlns:p=''/>", transport.Limits{}, "syntax"},
		{"lt in attribute", "<a x='<'/>", transport.Limits{}, "syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check([]byte(tt.elem), tt.limits)
			var le *transport.LimitError
			var se *SyntaxError
			switch tt.want {
			case "":
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
			case "size", "depth":
				what := map[string]string{"size": "element size", "depth": "nesting depth"}[tt.want]
				if !errors.As(err, &le) || le.What != what {
					t.Fatalf("Check = %v, want LimitError for %s", err, what)
				}
			case "syntax":
				if !errors.As(err, &se) || se.Op != "check" {
					t.Fatalf("Check = %v, want *SyntaxError", err)
				}
			}
		})
	}
}
