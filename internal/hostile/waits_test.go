package hostile

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// drip is the pace of a server that sends one byte at a time: faster than
// any step's bound, so that only a bound on the whole step ends it.
const drip = 50 * time.Millisecond

// rawServer starts a RawServer with handle for a case, over TLS unless
// plain; the URL's scheme is that of kind k.
func rawServer(t *testing.T, k kind, plain bool, handle func(ctx context.Context, c net.Conn)) (string, func()) {
	t.Helper()
	srv, err := NewRaw(handle)
	if err != nil {
		t.Fatal(err)
	}
	scheme := map[kind]string{overWebSocket: "wss", overBOSH: "https"}[k]
	if plain {
		scheme = strings.TrimSuffix(scheme, "s")
	}
	path := map[kind]string{overWebSocket: "/xmpp-websocket", overBOSH: "/http-bind"}[k]
	return scheme + "://" + srv.Addr() + path, srv.Close
}

// trickle sends elem every interval until ctx ends or the client goes.
func trickle(ctx context.Context, p Peer, elem string, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.Send(ctx, elem); err != nil {
				return
			}
		}
	}
}

// TestWaits: every wait for the server has a bound of its own, derived
// from the configuration (Ping.Timeout for an answer, about twice that for
// the dial, the TLS handshake and the upgrade), far below
// Reconnect.AttemptTimeout. A server that never answers, or answers one
// byte at a time, or keeps talking without answering, costs one step's
// bound.
func TestWaits(t *testing.T) {
	presence := "<presence xmlns='jabber:client' from='bob@" + Domain + "/b'/>"
	runAttempts(t, []attempt{
		{
			name:   "upgrade accepted, open never answered",
			over:   []kind{overWebSocket},
			script: func(ctx context.Context, p Peer) { _, _ = p.Recv(ctx); <-ctx.Done() },
			bound:  stepBound,
		},
		{
			name: "session creation request never answered",
			over: []kind{overBOSH},
			bosh: BOSHOptions{Intercept: func(w http.ResponseWriter, r *http.Request, _ *BOSHRequest) bool {
				<-r.Context().Done()
				return true
			}},
			bound: dialBound,
		},
		{
			name:   "features never sent",
			script: func(ctx context.Context, p Peer) { _, _ = p.Accept(ctx); <-ctx.Done() },
			bound:  stepBound,
		},
		{
			name: "SASL never answered",
			script: func(ctx context.Context, p Peer) {
				_, _ = Authenticate(ctx, p, LoginFeatures)
				<-ctx.Done()
			},
			bound: stepBound,
		},
		{
			name: "SASL never answered, a stanza every 50 ms meanwhile",
			script: func(ctx context.Context, p Peer) {
				if _, err := Authenticate(ctx, p, LoginFeatures); err == nil {
					trickle(ctx, p, presence, drip)
				}
			},
			bound: stepBound,
		},
		{
			name: "features after the restart never sent",
			script: func(ctx context.Context, p Peer) {
				if _, err := Authenticate(ctx, p, LoginFeatures); err != nil {
					return
				}
				_ = p.Send(ctx, SASLSuccess)
				_, _ = p.Accept(ctx)
				<-ctx.Done()
			},
			bound: stepBound,
		},
		{
			name: "bind never answered",
			script: func(ctx context.Context, p Peer) {
				_, _ = LoginToBind(ctx, p, false)
				<-ctx.Done()
			},
			bound: stepBound,
		},
		{
			name: "bind never answered, features every 50 ms meanwhile",
			script: func(ctx context.Context, p Peer) {
				if _, err := LoginToBind(ctx, p, false); err == nil {
					trickle(ctx, p, BindFeatures(false), drip)
				}
			},
			bound: stepBound,
		},
		{
			name:   "TLS handshake stalls",
			server: func(t *testing.T, e *env, k kind) (string, func()) { return rawServer(t, k, false, Silent) },
			bound:  dialBound,
		},
		{
			name:   "TCP accepted, HTTP never answered",
			server: func(t *testing.T, e *env, k kind) (string, func()) { return rawServer(t, k, true, Silent) },
			bound:  dialBound,
		},
		{
			name: "upgrade response dripped",
			over: []kind{overWebSocket},
			server: func(t *testing.T, e *env, k kind) (string, func()) {
				return rawServer(t, k, false, TLS(e.ca, func(ctx context.Context, c net.Conn) {
					resp, _, err := UpgradeResponse(c)
					if err == nil && Drip(ctx, c, resp, drip) {
						<-ctx.Done()
					}
				}))
			},
			bound: dialBound,
		},
		{
			name: "open dripped",
			over: []kind{overWebSocket},
			server: func(t *testing.T, e *env, k kind) (string, func()) {
				return rawServer(t, k, false, TLS(e.ca, func(ctx context.Context, c net.Conn) {
					resp, br, err := UpgradeResponse(c)
					if err != nil {
						return
					}
					if _, err := c.Write(resp); err != nil {
						return
					}
					if _, err := ReadFrame(br); err != nil {
						return
					}
					if Drip(ctx, c, TextFrame([]byte(ServerOpen)), drip) {
						<-ctx.Done()
					}
				}))
			},
			bound: stepBound,
		},
		{
			name: "session creation response dripped",
			over: []kind{overBOSH},
			bosh: BOSHOptions{Intercept: func(w http.ResponseWriter, r *http.Request, req *BOSHRequest) bool {
				body := "<body xmlns='" + NSHTTPBind + "' sid='s1' wait='60' hold='1' requests='2' ver='1.11' from='" + Domain + "'/>"
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				w.WriteHeader(http.StatusOK)
				Drip(r.Context(), w, []byte(body), drip)
				return true
			}},
			bound: dialBound,
		},
		{
			name: "session creation response never completes",
			over: []kind{overBOSH},
			bosh: BOSHOptions{Intercept: func(w http.ResponseWriter, r *http.Request, req *BOSHRequest) bool {
				w.Header().Set("Content-Length", "4096")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte("<body xmlns='" + NSHTTPBind + "' sid='s1'"))
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return true
			}},
			bound: dialBound,
		},
		{
			name: "response to the SASL request never completes",
			over: []kind{overBOSH},
			bosh: BOSHOptions{Intercept: func(w http.ResponseWriter, r *http.Request, req *BOSHRequest) bool {
				if len(req.Children) == 0 || !strings.HasPrefix(req.Children[0], "<auth") {
					return false
				}
				w.Header().Set("Content-Length", "4096")
				w.WriteHeader(http.StatusOK)
				_, _ = fmt.Fprintf(w, "<body xmlns='%s'>", NSHTTPBind)
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return true
			}},
			script: func(ctx context.Context, p Peer) {
				_, _ = p.Accept(ctx)
				_ = p.Send(ctx, LoginFeatures)
				<-ctx.Done()
			},
			bound: stepBound,
		},
	})
}
