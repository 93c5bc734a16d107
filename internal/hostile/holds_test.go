package hostile

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	coder "github.com/coder/websocket"
)

// pad returns features carrying n bytes of text in an unknown child.
func pad(n int) string {
	return "<stream:features xmlns:stream='" + NSStream + "'><x xmlns='urn:hostile:pad'>" + strings.Repeat("a", n) + "</x></stream:features>"
}

// nested returns features holding depth nested elements.
func nested(depth int) string {
	return "<stream:features xmlns:stream='" + NSStream + "'>" + strings.Repeat("<n xmlns='urn:hostile'>", depth) + strings.Repeat("</n>", depth) + "</stream:features>"
}

// billionLaughs is a DOCTYPE whose entities expand to 10^9 "lol"s.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE features [<!ENTITY lol0 "lol">`)
	for i := 1; i <= 9; i++ {
		b.WriteString(`<!ENTITY lol` + string(rune('0'+i)) + ` "`)
		for range 10 {
			b.WriteString(`&lol` + string(rune('0'+i-1)) + `;`)
		}
		b.WriteString(`">`)
	}
	b.WriteString(`]>`)
	return b.String()
}

// sendRaw sends what a server writes as is: the element over WebSocket,
// or a whole response body over BOSH (prefix before the <body/>, elem
// inside).
func sendRaw(ctx context.Context, p Peer, prefix, elem string) {
	if IsBOSH(p) {
		rawBOSH(p, prefix+"<body xmlns='"+NSHTTPBind+"'>"+elem+"</body>")
		return
	}
	_ = p.Send(ctx, prefix+elem)
}

// scram plays SCRAM up to the server-first-message that first returns for
// the client's nonce; then, when final is set, it answers the
// client-final-message with <success/> carrying final's data.
func scram(first func(clientNonce string) string, final string) Script {
	return func(ctx context.Context, p Peer) {
		a, err := Authenticate(ctx, p, Features("SCRAM-SHA-256", "SCRAM-SHA-1"))
		if err != nil {
			return
		}
		cn, err := ClientNonce(a)
		if err != nil {
			return
		}
		if p.Send(ctx, Challenge([]byte(first(cn)))) != nil {
			return
		}
		if final != "" {
			if _, err := p.Recv(ctx); err != nil {
				return
			}
			_ = p.Send(ctx, "<success xmlns='"+NSSASL+"'>"+base64.StdEncoding.EncodeToString([]byte(final))+"</success>")
		}
		<-ctx.Done()
	}
}

// TestHolds: what already holds keeps holding. Oversized and too deeply
// nested input, DOCTYPEs, invalid UTF-8, downgrades and foreign redirects,
// PLAIN without TLS, a missing subprotocol, broken SCRAM: each ends the
// attempt at once with one ConnectionFailed.
func TestHolds(t *testing.T) {
	// elsewhere redirects by kind to wsTarget or boshTarget.
	elsewhere := func(kind, wsTarget, boshTarget string) Script {
		return afterOpen(func(ctx context.Context, p Peer) {
			switch {
			case kind == "see-other-host":
				_ = p.Send(ctx, "<stream:error xmlns:stream='"+NSStream+"'><see-other-host xmlns='"+NSStreamErrors+"'>"+wsTarget+"</see-other-host></stream:error>")
			case IsBOSH(p):
				EndBOSH(p, "type='terminate' condition='see-other-uri'", "<uri>"+Escape(boshTarget)+"</uri>")
				return
			default:
				_ = p.Send(ctx, "<close xmlns='"+NSFraming+"' see-other-uri='"+Escape(wsTarget)+"'/>")
			}
			<-ctx.Done()
		})
	}
	var responses atomic.Int32
	runAttempts(t, []attempt{
		{name: "element larger than the limit", script: afterOpen(func(ctx context.Context, p Peer) { sendRaw(ctx, p, "", pad(2<<20)); <-ctx.Done() }), bound: stepBound},
		{name: "nesting deeper than the limit", script: afterOpen(func(ctx context.Context, p Peer) { sendRaw(ctx, p, "", nested(200)); <-ctx.Done() }), bound: stepBound},
		{name: "DOCTYPE with an entity bomb", script: afterOpen(func(ctx context.Context, p Peer) {
			sendRaw(ctx, p, billionLaughs(), "<stream:features xmlns:stream='"+NSStream+"'><x xmlns='urn:x'>&lol9;</x></stream:features>")
			<-ctx.Done()
		}), bound: stepBound},
		{name: "invalid UTF-8", script: afterOpen(func(ctx context.Context, p Peer) {
			sendRaw(ctx, p, "", "<stream:features xmlns:stream='"+NSStream+"'><x xmlns='urn:x'>\xff\xfe\xfd</x></stream:features>")
			<-ctx.Done()
		}), bound: stepBound},
		{name: "undeclared prefix", script: afterOpen(func(ctx context.Context, p Peer) {
			sendRaw(ctx, p, "", "<stream:features xmlns:stream='"+NSStream+"'><x:y/></stream:features>")
			<-ctx.Done()
		}), bound: stepBound},
		{name: "downgrade to plaintext by see-other-uri", script: elsewhere("see-other-uri", "ws://127.0.0.1:1/xmpp", "http://127.0.0.1:1/http-bind"), bound: stepBound},
		{name: "redirect to a foreign host by see-other-uri", script: elsewhere("see-other-uri", "wss://evil.example.net/xmpp", "https://evil.example.net/http-bind"), bound: stepBound},
		{name: "redirect to a foreign host by see-other-host", script: elsewhere("see-other-host", "evil.example.net", ""), bound: stepBound},
		{
			name: "downgrade to plaintext by HTTP 302",
			ws: WebSocketOptions{Upgrade: func(w http.ResponseWriter, r *http.Request) bool {
				http.Redirect(w, r, "ws://127.0.0.1:1/xmpp", http.StatusFound)
				return true
			}},
			bosh: BOSHOptions{Intercept: func(w http.ResponseWriter, r *http.Request, _ *BOSHRequest) bool {
				http.Redirect(w, r, "http://127.0.0.1:1/http-bind", http.StatusFound)
				return true
			}},
			bound: dialBound,
		},
		{
			name: "redirect to a foreign host by HTTP 307",
			ws: WebSocketOptions{Upgrade: func(w http.ResponseWriter, r *http.Request) bool {
				http.Redirect(w, r, "wss://evil.example.net/xmpp", http.StatusTemporaryRedirect)
				return true
			}},
			bosh: BOSHOptions{Intercept: func(w http.ResponseWriter, r *http.Request, _ *BOSHRequest) bool {
				http.Redirect(w, r, "https://evil.example.net/http-bind", http.StatusTemporaryRedirect)
				return true
			}},
			bound: dialBound,
		},
		{
			name: "PLAIN alone without TLS",
			server: func(t *testing.T, e *env, k kind) (string, func()) {
				return e.serve(k, WebSocketOptions{Plain: true}, BOSHOptions{Plain: true}, func(ctx context.Context, p Peer) {
					if a, err := Authenticate(ctx, p, Features("PLAIN")); err == nil && strings.HasPrefix(a, "<auth") {
						t.Errorf("the client sent %q over plaintext", a)
					}
					<-ctx.Done()
				})
			},
			bound: stepBound,
		},
		{name: "upgrade without the xmpp subprotocol", over: []kind{overWebSocket}, ws: WebSocketOptions{NoSubprotocol: true}, script: waitDone, bound: dialBound},
		{name: "binary message", over: []kind{overWebSocket}, script: afterOpen(func(ctx context.Context, p Peer) {
			_ = WebSocketOf(p).Write(ctx, coder.MessageBinary, []byte(LoginFeatures))
			<-ctx.Done()
		}), bound: stepBound},
		{name: "body in another namespace", over: []kind{overBOSH}, script: afterOpen(func(ctx context.Context, p Peer) {
			rawBOSH(p, "<body xmlns='urn:not-bosh'>"+LoginFeatures+"</body>")
			<-ctx.Done()
		}), bound: stepBound},
		{name: "response that is an HTML page", over: []kind{overBOSH}, bosh: BOSHOptions{Intercept: func(w http.ResponseWriter, r *http.Request, _ *BOSHRequest) bool {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<!DOCTYPE html><html><body>Welcome to nginx!</body></html>"))
			return true
		}}, bound: dialBound},
		{name: "SCRAM nonce not extending the client's", script: scram(func(string) string { return string(ServerFirst("forged-nonce", Salt, "4096")) }, ""), bound: stepBound},
		{name: "SCRAM salt not base64", script: scram(func(cn string) string { return string(ServerFirst(cn+"srv", "!!!", "4096")) }, ""), bound: stepBound},
		{name: "SCRAM iteration count zero", script: scram(func(cn string) string { return string(ServerFirst(cn+"srv", Salt, "0")) }, ""), bound: stepBound},
		{name: "SCRAM server signature wrong", script: scram(func(cn string) string { return string(ServerFirst(cn+"srv", Salt, "4096")) },
			"v="+base64.StdEncoding.EncodeToString(make([]byte, 32))), bound: stepBound},
		{
			name: "SASL challenges without end",
			script: func(ctx context.Context, p Peer) {
				responses.Store(0)
				a, err := Authenticate(ctx, p, Features("SCRAM-SHA-256"))
				if err != nil {
					return
				}
				cn, _ := ClientNonce(a)
				for range 1000 {
					if p.Send(ctx, Challenge(ServerFirst(cn+"srv", Salt, "4096"))) != nil {
						return
					}
					r, err := p.Recv(ctx)
					if err != nil || !strings.HasPrefix(r, "<response") {
						return
					}
					responses.Add(1)
				}
			},
			bound: stepBound,
			check: func(t *testing.T, k kind, o *outcome) {
				if n := responses.Load(); n > 1 {
					t.Errorf("the client answered %d challenges, want at most 1 (SCRAM has one)", n)
				}
			},
		},
	})
}
