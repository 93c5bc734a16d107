package auth

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestAddToken(t *testing.T) {
	cases := []struct {
		name   string
		url    string
		tok    string
		previd string
		want   string
	}{
		{"no query", "wss://meet.example.com/xmpp-websocket", "abc.def.ghi", "",
			"wss://meet.example.com/xmpp-websocket?token=abc.def.ghi"},
		{"existing query kept in order", "https://meet.example.com/http-bind?room=test&z=1&a=2", "t", "",
			"https://meet.example.com/http-bind?room=test&z=1&a=2&token=t"},
		{"existing token replaced", "wss://h/ws?token=old&room=r&token=older", "new", "",
			"wss://h/ws?room=r&token=new"},
		{"escaped token key replaced", "wss://h/ws?%74oken=old", "new", "", "wss://h/ws?token=new"},
		{"special characters escaped", "wss://h/ws", "a b&c=d/+?#%", "",
			"wss://h/ws?token=a+b%26c%3Dd%2F%2B%3F%23%25"},
		{"previd added", "wss://h/ws?room=r", "t", "sm-id-1", "wss://h/ws?room=r&token=t&previd=sm-id-1"},
		{"previd replaced", "wss://h/ws?previd=gone&room=r", "t", "a/b", "wss://h/ws?room=r&token=t&previd=a%2Fb"},
		{"previd kept when none given", "wss://h/ws?previd=kept", "t", "", "wss://h/ws?previd=kept&token=t"},
		{"zero token, previd only", "wss://h/ws?token=keep", "", "p", "wss://h/ws?token=keep&previd=p"},
		{"zero token, nothing to add", "wss://h/ws?x=1", "", "", "wss://h/ws?x=1"},
		{"fragment kept", "https://h/bind?x=1#frag", "t", "", "https://h/bind?x=1&token=t#frag"},
		{"empty query marker", "wss://h/ws?", "t", "", "wss://h/ws?token=t"},
		{"empty pairs dropped", "wss://h/ws?&&x=1&", "t", "", "wss://h/ws?x=1&token=t"},
		{"port and path", "ws://127.0.0.1:5280/xmpp-websocket", "t", "", "ws://127.0.0.1:5280/xmpp-websocket?token=t"},
		{"similar key kept", "wss://h/ws?mytoken=x&token_type=y", "t", "", "wss://h/ws?mytoken=x&token_type=y&token=t"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AddToken(tc.url, NewSecret(tc.tok), tc.previd)
			if err != nil {
				t.Fatalf("AddToken: %v", err)
			}
			if got != tc.want {
				t.Errorf("AddToken(%q) =\n %q, want\n %q", tc.url, got, tc.want)
			}
			if tc.tok != "" {
				u, err := url.Parse(got)
				if err != nil {
					t.Fatal(err)
				}
				if v := u.Query().Get("token"); v != tc.tok {
					t.Errorf("token read back = %q, want %q", v, tc.tok)
				}
			}
		})
	}
}

func TestAddTokenErrors(t *testing.T) {
	const tok = "secret-token-value"
	cases := []struct{ name, url string }{
		{"relative", "/xmpp-websocket"},
		{"no host", "wss:///x"},
		{"bad escape", "wss://h/x?token=" + tok + "&%zz"},
		{"bad host", "wss://h x/?token=" + tok},
		{"control character", "wss://h/x?token=" + tok + "\x00"},
		{"empty", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AddToken(tc.url, NewSecret(tok), "")
			if err == nil {
				// url.Parse accepts some of these; the result must then still
				// carry exactly one token.
				if strings.Count(got, tok) != 1 {
					t.Fatalf("AddToken(%q) = %q without error", tc.url, got)
				}
				return
			}
			if !errors.Is(err, ErrInvalidURL) {
				t.Errorf("err = %v, want ErrInvalidURL", err)
			}
			if strings.Contains(err.Error(), tok) {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
}

func TestRedactURL(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"query token", "wss://h/ws?room=a&token=eyJ.abc.def", "wss://h/ws?room=a&token=REDACTED"},
		{"first parameter", "https://h/http-bind?token=abc&room=r", "https://h/http-bind?token=REDACTED&room=r"},
		{"before fragment", "https://h/b?token=abc#x", "https://h/b?token=REDACTED#x"},
		{"in a sentence", `dial "wss://h/ws?token=abc": refused`, `dial "wss://h/ws?token=REDACTED": refused`},
		{"single quotes", "href='wss://h/?token=abc'", "href='wss://h/?token=REDACTED'"},
		{"two URLs", "from wss://a/?token=x to wss://b/?token=y", "from wss://a/?token=REDACTED to wss://b/?token=REDACTED"},
		{"upper case key", "wss://h/?TOKEN=abc", "wss://h/?TOKEN=REDACTED"},
		{"access_token", "https://h/?access_token=abc&x=1", "https://h/?access_token=REDACTED&x=1"},
		{"escaped value", "wss://h/?token=a%20b%26c", "wss://h/?token=REDACTED"},
		{"empty value kept", "wss://h/?token=&x=1", "wss://h/?token=&x=1"},
		{"already redacted", "wss://h/?token=REDACTED", "wss://h/?token=REDACTED"},
		{"previd is not secret", "wss://h/?token=a&previd=p", "wss://h/?token=REDACTED&previd=p"},
		{"no token", "wss://h/ws?room=a", "wss://h/ws?room=a"},
		{"not a URL", "plain text", "plain text"},
		{"log attribute", "level=DEBUG url=wss://h/?token=abc msg=dial", "level=DEBUG url=wss://h/?token=REDACTED msg=dial"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactURL(tc.in); got != tc.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRedactAddedToken(t *testing.T) {
	for _, tok := range []string{"eyJhbGciOiJIUzI1NiJ9.e30.sig", "a b&c=d#e'f\"g<h>", "ünïcødé"} {
		u, err := AddToken("wss://h/ws?room=r", NewSecret(tok), "p")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := RedactURL(u), "wss://h/ws?room=r&token=REDACTED&previd=p"; got != want {
			t.Errorf("RedactURL(AddToken(%q)) = %q, want %q", tok, got, want)
		}
	}
}
