package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sentinels lists every condition with its sentinel, in RFC 6120 order.
var sentinels = []struct {
	condition string
	err       error
}{
	{"aborted", ErrAborted},
	{"account-disabled", ErrAccountDisabled},
	{"credentials-expired", ErrCredentialsExpired},
	{"encryption-required", ErrEncryptionRequired},
	{"incorrect-encoding", ErrIncorrectEncoding},
	{"invalid-authzid", ErrInvalidAuthzID},
	{"invalid-mechanism", ErrInvalidMechanism},
	{"malformed-request", ErrMalformedRequest},
	{"mechanism-too-weak", ErrMechanismTooWeak},
	{"not-authorized", ErrNotAuthorized},
	{"temporary-auth-failure", ErrTemporaryAuthFailure},
	{"not-allowed", ErrNotAllowed},
}

func TestParseFailureEveryCondition(t *testing.T) {
	for _, s := range sentinels {
		for _, tt := range []struct {
			name, elem, text string
		}{
			{"RFC 6120, no text", "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><" + s.condition + "/></failure>", ""},
			{"RFC 6120, text", "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><" + s.condition + "/><text>Go away</text></failure>", "Go away"},
			{"SASL2, text", "<failure xmlns='urn:xmpp:sasl:2'><" + s.condition + " xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><text>Go away</text></failure>", "Go away"},
		} {
			t.Run(s.condition+"/"+tt.name, func(t *testing.T) {
				fe, err := ParseFailure([]byte(tt.elem))
				if err != nil {
					t.Fatal(err)
				}
				want := &FailureError{Condition: s.condition, Text: tt.text}
				if d := cmp.Diff(want, fe); d != "" {
					t.Errorf("ParseFailure (-want +got):\n%s", d)
				}
				wantMsg := "sasl: " + s.condition
				if tt.text != "" {
					wantMsg += ": " + tt.text
				}
				if fe.Error() != wantMsg {
					t.Errorf("Error() = %q, want %q", fe.Error(), wantMsg)
				}
				var err2 error = fe
				for _, other := range sentinels {
					if got := errors.Is(err2, other.err); got != (other.err == s.err) {
						t.Errorf("errors.Is(%s, %v) = %v", s.condition, other.err, got)
					}
				}
				var as *FailureError
				if !errors.As(err2, &as) || as.Condition != s.condition {
					t.Errorf("errors.As failed")
				}
			})
		}
	}
}

func TestParseFailure(t *testing.T) {
	tests := []struct {
		name string
		elem string
		want FailureError
	}{
		{"text with xml:lang",
			`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><account-disabled/><text xml:lang='en'>Call 212-555-1212 for help.</text></failure>`,
			FailureError{Condition: "account-disabled", Text: "Call 212-555-1212 for help.", Lang: "en"}},
		{"xml:lang on the failure",
			`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl' xml:lang='de'><not-authorized/><text>Nein</text></failure>`,
			FailureError{Condition: "not-authorized", Text: "Nein", Lang: "de"}},
		{"text before the condition",
			`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><text>first</text><aborted/></failure>`,
			FailureError{Condition: "aborted", Text: "first"}},
		{"Jitsi token refusal",
			`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-allowed/><text>token expired</text></failure>`,
			FailureError{Condition: "not-allowed", Text: "token expired"}},
		{"unknown condition kept as is",
			`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><bogus-condition/></failure>`,
			FailureError{Condition: "bogus-condition"}},
		{"application-specific child ignored",
			`<failure xmlns='urn:xmpp:sasl:2'><optional-application-specific xmlns='urn:something:else'/><aborted xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><text>x</text></failure>`,
			FailureError{Condition: "aborted", Text: "x"}},
		{"prefixed namespace",
			`<sasl:failure xmlns:sasl='urn:ietf:params:xml:ns:xmpp-sasl'><sasl:temporary-auth-failure/></sasl:failure>`,
			FailureError{Condition: "temporary-auth-failure"}},
		{"escaped text and CDATA",
			`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>a &lt;b&gt; &amp; <![CDATA[<c>]]></text></failure>`,
			FailureError{Condition: "not-authorized", Text: "a <b> & <c>"}},
		{"only the first text counts",
			`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>one</text><text>two</text></failure>`,
			FailureError{Condition: "not-authorized", Text: "one"}},
		{"first condition wins",
			`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><aborted/><not-authorized/></failure>`,
			FailureError{Condition: "aborted"}},
		{"declaration, whitespace and comments around",
			"<?xml version='1.0'?>\n<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\n <!-- c -->\n <not-authorized/>\n</failure>\n<!-- end -->\n",
			FailureError{Condition: "not-authorized"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe, err := ParseFailure([]byte(tt.elem))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(&tt.want, fe); d != "" {
				t.Errorf("ParseFailure (-want +got):\n%s", d)
			}
		})
	}
	if errors.Is(&FailureError{Condition: "bogus-condition"}, ErrNotAuthorized) {
		t.Error("an unknown condition matches a sentinel")
	}
}

func TestParseFailureMalformed(t *testing.T) {
	tests := []struct{ name, elem string }{
		{"empty", ""},
		{"whitespace", "  \n"},
		{"not XML", "not-authorized"},
		{"unclosed", "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/>"},
		{"mismatched tags", "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized></failure>"},
		{"no namespace", "<failure><not-authorized/></failure>"},
		{"wrong namespace", "<failure xmlns='jabber:client'><not-authorized/></failure>"},
		{"success element", "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"},
		{"no condition", "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"},
		{"only text", "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><text>x</text></failure>"},
		{"condition in another namespace only", "<failure xmlns='urn:xmpp:sasl:2'><aborted/></failure>"},
		{"second element after", "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><aborted/></failure><x/>"},
		{"text after", "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><aborted/></failure>junk"},
		{"text before", "junk<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><aborted/></failure>"},
		{"doctype", "<!DOCTYPE failure [<!ENTITY x 'y'>]><failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><aborted/></failure>"},
		{"unknown entity", "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><aborted/><text>&x;</text></failure>"},
		{"too deep", "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><aborted/>" + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + "</failure>"},
		{"invalid UTF-8", "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><aborted/><text>\xff</text></failure>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe, err := ParseFailure([]byte(tt.elem))
			if !errors.Is(err, ErrMalformedFailure) || fe != nil {
				t.Fatalf("ParseFailure = %v, %v; want ErrMalformedFailure", fe, err)
			}
		})
	}
}

// FuzzParseFailure reads arbitrary bytes as a SASL <failure/>: exactly one
// of a FailureError and an error wrapping ErrMalformedFailure, fields no
// larger than the input, and errors.Is consistent with the condition.
func FuzzParseFailure(f *testing.F) {
	for _, s := range []string{
		"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text xml:lang='en'>x</text></failure>",
		"<failure xmlns='urn:xmpp:sasl:2'><aborted xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></failure>",
		"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, elem []byte) {
		fe, err := ParseFailure(elem)
		if (fe == nil) == (err == nil) {
			t.Fatalf("ParseFailure = %v, %v: want exactly one", fe, err)
		}
		if err != nil {
			if !errors.Is(err, ErrMalformedFailure) {
				t.Fatalf("ParseFailure(%q): %v does not wrap ErrMalformedFailure", elem, err)
			}
			return
		}
		if fe.Condition == "" {
			t.Fatal("FailureError without condition")
		}
		// Everything comes from the element: no more than it holds.
		if n := len(fe.Condition) + len(fe.Text) + len(fe.Lang); n > len(elem) {
			t.Fatalf("ParseFailure(%q) = %d bytes of fields", elem, n)
		}
		if !strings.HasPrefix(fe.Error(), "sasl: "+fe.Condition) {
			t.Fatalf("Error() = %q", fe.Error())
		}
		sentinel, known := conditions[fe.Condition]
		if known != errors.Is(fe, sentinel) || !known && errors.Is(fe, ErrNotAuthorized) {
			t.Fatalf("errors.Is disagrees with condition %q", fe.Condition)
		}
		_ = TokenExpiredFailure(fe)
	})
}
