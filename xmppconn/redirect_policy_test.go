package xmppconn

import (
	"errors"
	"strings"
	"testing"

	"mellium.im/xmpp/stream"

	"github.com/xmppconn/xmppconn/transport"
)

func TestRedirectPolicy(t *testing.T) {
	const (
		current = "wss://meet.example.com/xmpp-websocket?room=a&token=SECRET"
		origin  = "wss://meet.example.com/xmpp-websocket"
		domain  = "meet.example.com"
	)
	uri := func(target string) redirect {
		return redirect{kind: transport.RedirectSeeOtherURI, target: target, err: &transport.RedirectError{Kind: transport.RedirectSeeOtherURI, Target: target}}
	}
	host := func(h string) redirect {
		return redirect{kind: transport.RedirectSeeOtherHost, target: h, err: stream.Error{Err: "see-other-host", Content: h}}
	}
	cases := []struct {
		name   string
		policy RedirectConfig
		rd     redirect
		hops   int
		next   string // "" when refused
		reason string // prefix of the refusal reason
	}{
		{"same host other path", RedirectConfig{}, uri("wss://meet.example.com/shard2/ws"), 0, "wss://meet.example.com/shard2/ws", ""},
		{"subdomain", RedirectConfig{}, uri("wss://shard2.meet.example.com/ws"), 2, "wss://shard2.meet.example.com/ws", ""},
		{"relative URI", RedirectConfig{}, uri("/other-ws"), 0, "wss://meet.example.com/other-ws", ""},
		{"token and previd dropped", RedirectConfig{}, uri("wss://meet.example.com/ws?token=OLD&previd=X&room=b"), 0, "wss://meet.example.com/ws?room=b", ""},
		{"websocket to bosh", RedirectConfig{}, uri("https://meet.example.com/http-bind"), 0, "https://meet.example.com/http-bind", ""},
		{"see-other-host keeps scheme, path and query", RedirectConfig{}, host("shard3.meet.example.com:8443"), 0, "wss://shard3.meet.example.com:8443/xmpp-websocket?room=a", ""},
		{"see-other-host ipv6", RedirectConfig{AllowHosts: []string{"::1"}}, host("[::1]:5443"), 0, "wss://[::1]:5443/xmpp-websocket?room=a", ""},
		{"allowed other domain", RedirectConfig{AllowHosts: []string{"example.org"}}, uri("wss://x.example.org/ws"), 0, "wss://x.example.org/ws", ""},
		{"any domain", RedirectConfig{AllowHosts: []string{"*"}}, uri("wss://elsewhere.test/ws"), 0, "wss://elsewhere.test/ws", ""},
		{"fourth hop", RedirectConfig{}, uri("wss://meet.example.com/ws"), 3, "", RedirectReasonTooMany},
		{"more hops allowed", RedirectConfig{MaxHops: 5}, uri("wss://meet.example.com/ws"), 3, "wss://meet.example.com/ws", ""},
		{"disabled", RedirectConfig{Disabled: true}, uri("wss://meet.example.com/ws"), 0, "", RedirectReasonDisabled},
		{"downgrade", RedirectConfig{}, uri("ws://meet.example.com/ws"), 0, "", RedirectReasonDowngrade},
		{"downgrade even when allowed anywhere", RedirectConfig{AllowHosts: []string{"*"}}, uri("http://meet.example.com/http-bind"), 0, "", RedirectReasonDowngrade},
		{"foreign domain", RedirectConfig{}, uri("wss://evil.example.net/ws"), 0, "", RedirectReasonForeign},
		{"suffix is not a subdomain", RedirectConfig{}, uri("wss://notmeet.example.com/ws"), 0, "", RedirectReasonForeign},
		{"parent domain", RedirectConfig{}, uri("wss://example.com/ws"), 0, "", RedirectReasonForeign},
		{"other scheme", RedirectConfig{}, uri("ftp://meet.example.com/"), 0, "", RedirectReasonInvalid},
		{"empty target", RedirectConfig{}, uri(""), 0, "", RedirectReasonInvalid},
		{"see-other-host with a path", RedirectConfig{}, host("meet.example.com/x"), 0, "", RedirectReasonInvalid},
		{"see-other-host empty", RedirectConfig{}, host(""), 0, "", RedirectReasonInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Config{URL: origin, Redirect: tc.policy})
			next, refused := c.follow(tc.rd, current, origin, domain, tc.hops)
			if tc.reason == "" {
				if refused != nil || next != tc.next {
					t.Fatalf("follow = %q, %v; want %q", next, refused, tc.next)
				}
				return
			}
			if refused == nil || !strings.HasPrefix(refused.Reason, tc.reason) {
				t.Fatalf("follow = %q, %v; want refused: %s", next, refused, tc.reason)
			}
			if strings.Contains(refused.Error(), "SECRET") || strings.Contains(refused.Error(), "OLD") {
				t.Errorf("refusal %q shows a token", refused)
			}
			if !errors.Is(refused, tc.rd.err) && tc.rd.kind != transport.RedirectSeeOtherHost {
				t.Errorf("refusal does not wrap the redirect error")
			}
			if retryable(refused) {
				t.Errorf("a refused redirect is retried")
			}
		})
	}
}
