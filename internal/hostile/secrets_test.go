package hostile

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	coder "github.com/coder/websocket"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// reasonKeeps checks that the failure's reason shows the server's text
// with the secrets replaced: each of parts is there, and REDACTED.
func reasonKeeps(parts ...string) func(t *testing.T, k kind, o *outcome) {
	return func(t *testing.T, k kind, o *outcome) {
		t.Helper()
		for _, p := range append(parts, "REDACTED") {
			if !strings.Contains(o.failed.Reason, p) {
				t.Errorf("reason %q does not keep %q of the server's text", o.failed.Reason, p)
			}
		}
	}
}

// errType checks the failure's error type.
func errType(want events.ErrorType) func(t *testing.T, k kind, o *outcome) {
	return func(t *testing.T, k kind, o *outcome) {
		t.Helper()
		if o.failed.Err != want {
			t.Errorf("error type %q, want %q", o.failed.Err, want)
		}
	}
}

// both runs checks in turn.
func both(checks ...func(t *testing.T, k kind, o *outcome)) func(t *testing.T, k kind, o *outcome) {
	return func(t *testing.T, k kind, o *outcome) {
		t.Helper()
		for _, c := range checks {
			c(t, k, o)
		}
	}
}

// afterOpen runs f once the stream is open.
func afterOpen(f func(ctx context.Context, p Peer)) Script {
	return func(ctx context.Context, p Peer) {
		if _, err := p.Accept(ctx); err == nil {
			f(ctx, p)
		}
	}
}

// TestSecrets: a server that echoes the password or the token in whatever
// text it sends (a SASL failure, a stream error, a close reason, an HTTP
// error page, a redirect target) never gets them shown: not in the reason,
// the events, the error or the logs. The rest of its text is kept.
func TestSecrets(t *testing.T) {
	odd := "p&ss w<rd+1%/é" // XML, URL and non-ASCII specials
	runAttempts(t, []attempt{
		{
			name: "SASL failure text echoes the password",
			script: func(ctx context.Context, p Peer) {
				a, err := Authenticate(ctx, p, LoginFeatures)
				if err == nil {
					_ = p.Send(ctx, SASLFailure("not-authorized", "wrong password "+PLAINPassword(a)+" for alice"))
				}
				<-ctx.Done()
			},
			bound: stepBound,
			check: both(errType(events.PasswordRequired), reasonKeeps("wrong password ", " for alice")),
		},
		{
			name:  "SASL failure text echoes a password with XML and URL specials",
			tweak: func(c *xmppconn.Config) { c.Credentials.Password = auth.NewSecret(odd) },
			script: func(ctx context.Context, p Peer) {
				a, err := Authenticate(ctx, p, LoginFeatures)
				if err == nil {
					pw := PLAINPassword(a)
					_ = p.Send(ctx, SASLFailure("not-authorized", "wrong password "+pw+" ("+url.QueryEscape(pw)+") for alice"))
				}
				<-ctx.Done()
			},
			bound: stepBound,
			check: both(errType(events.PasswordRequired), reasonKeeps("wrong password ", " for alice")),
		},
		{
			name:  "token refusal echoes the token",
			login: withToken,
			script: func(ctx context.Context, p Peer) {
				if _, err := Authenticate(ctx, p, LoginFeatures); err == nil {
					_ = p.Send(ctx, SASLFailure("not-allowed", "token "+tokenOf(p)+" is not valid for room 42"))
				}
				<-ctx.Done()
			},
			bound: stepBound,
			check: both(errType(events.PasswordRequired), reasonKeeps("token ", " is not valid for room 42")),
		},
		{
			name: "SASL2 failure text echoes the password",
			script: func(ctx context.Context, p Peer) {
				a, err := Authenticate(ctx, p, SASL2Features("PLAIN"))
				if err == nil {
					_ = p.Send(ctx, SASL2Failure("not-authorized", "bad password "+PLAINPassword(a)))
				}
				<-ctx.Done()
			},
			bound: stepBound,
			check: both(errType(events.PasswordRequired), reasonKeeps("bad password ")),
		},
		{
			name: "SASL2 continue text echoes the password",
			script: func(ctx context.Context, p Peer) {
				a, err := Authenticate(ctx, p, SASL2Features("PLAIN"))
				if err == nil {
					_ = p.Send(ctx, "<continue xmlns='"+NSSASL2+"'><tasks><task>HOTP-EXAMPLE</task></tasks><text>second factor for "+Escape(PLAINPassword(a))+"</text></continue>")
				}
				<-ctx.Done()
			},
			bound: stepBound,
		},
		{
			name: "stream error text echoes both (password login)",
			script: afterOpen(func(ctx context.Context, p Peer) {
				_ = p.Send(ctx, StreamError("policy-violation", poison("stream")))
				<-ctx.Done()
			}),
			bound: stepBound,
			check: reasonKeeps("stream refused for alice"),
		},
		{
			name:  "stream error text echoes both (token login)",
			login: withToken,
			script: afterOpen(func(ctx context.Context, p Peer) {
				_ = p.Send(ctx, StreamError("not-authorized", poison("stream")))
				<-ctx.Done()
			}),
			bound: stepBound,
			check: reasonKeeps("stream refused for alice"),
		},
		{
			name:  "bind error text echoes both",
			login: withToken,
			script: func(ctx context.Context, p Peer) {
				if id, err := LoginToBind(ctx, p, false); err == nil {
					_ = p.Send(ctx, BindError(id, "not-allowed", poison("bind")))
				}
				<-ctx.Done()
			},
			bound: stepBound,
		},
		{
			name:  "close reason echoes both",
			over:  []kind{overWebSocket},
			login: withToken,
			script: afterOpen(func(ctx context.Context, p Peer) {
				_ = WebSocketOf(p).Close(coder.StatusPolicyViolation, "pw "+password+" tok "+token)
			}),
			bound: stepBound,
		},
		{
			name:  "upgrade refused with both in the page",
			over:  []kind{overWebSocket},
			login: withToken,
			ws:    WebSocketOptions{Upgrade: plainStatus(http.StatusForbidden, poison("upgrade"))},
			bound: dialBound,
		},
		{
			name:  "HTTP error with both in the page",
			over:  []kind{overBOSH},
			login: withToken,
			bosh: BOSHOptions{Intercept: func(w http.ResponseWriter, r *http.Request, _ *BOSHRequest) bool {
				return plainStatus(http.StatusForbidden, poison("session"))(w, r)
			}},
			bound: dialBound,
		},
		{
			name:  "terminate carries a stream error echoing both",
			over:  []kind{overBOSH},
			login: withToken,
			script: afterOpen(func(ctx context.Context, p Peer) {
				EndBOSH(p, "type='terminate' condition='remote-stream-error'", StreamError("not-authorized", poison("stream")))
			}),
			bound: stepBound,
			check: reasonKeeps("stream refused for alice"),
		},
		{
			name:  "redirect to a foreign host carrying both",
			login: withToken,
			script: afterOpen(func(ctx context.Context, p Peer) {
				target := "://evil.example.net/xmpp?token=" + token + "&pw=" + password
				if IsBOSH(p) {
					EndBOSH(p, "type='terminate' condition='see-other-uri'", "<uri>https"+Escape(target)+"</uri>")
					return
				}
				_ = p.Send(ctx, "<close xmlns='"+NSFraming+"' see-other-uri='wss"+Escape(target)+"'/>")
				<-ctx.Done()
			}),
			bound: stepBound,
		},
	})
}
