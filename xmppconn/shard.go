package xmppconn

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/xmppconn/xmppconn/events"
)

// ShardHeader is the HTTP response header in which a Jitsi deployment names
// the shard that answered.
const ShardHeader = "X-Jitsi-Shard"

// DefaultShardCheckInterval is the base interval of the WebSocket shard
// check (lib-jitsi-meet's WebSocket keep-alive).
const DefaultShardCheckInterval = 60 * time.Second

// shardCheckTimeout bounds one HTTP GET of the WebSocket shard check.
const shardCheckTimeout = 10 * time.Second

// ShardChangedError is the cause of a session ended because the deployment
// answered from another shard than the one the session lives on: the
// session's state is gone with the old shard, so resuming cannot work.
type ShardChangedError struct {
	From, To string // the shard known before, and the one that answered
}

func (e *ShardChangedError) Error() string {
	return "xmppconn: shard changed from " + e.From + " to " + e.To
}

// shardState is what a Connection knows of the shard it is on. It has its
// own lock, taken after c.mu when both are needed, never before.
type shardState struct {
	mu    sync.Mutex
	known string      // the shard last seen; empty while none is known
	timer *time.Timer // the next WebSocket check, nil when none is armed
	link  *link       // the stream the armed check belongs to
}

// noteShard takes the shard named by an HTTP response (a BOSH response, the
// WebSocket upgrade, or a WebSocket shard check). A missing header says
// nothing. A different shard while the session is live means the session
// was moved: it ends, asynchronously, since noteShard may run inside the
// transport's own request (bosh.Options.OnResponse).
func (c *Connection) noteShard(seen string) {
	if seen == "" {
		return
	}
	c.shard.mu.Lock()
	old := c.shard.known
	c.shard.known = seen
	c.shard.mu.Unlock()
	if old == "" || old == seen {
		c.armShardCheck()
		return
	}

	c.mu.Lock()
	if c.closing || c.link == nil {
		// Not live (negotiating, down, ended): a new session may land on any
		// shard, and the one it lands on is now the known one.
		c.mu.Unlock()
		return
	}
	f := &events.Failed{Err: events.OtherError, Cause: &ShardChangedError{From: old, To: seen}}
	if c.cfg.Jitsi.GracefulShardMove {
		f.Err = events.ShardChangedError
	}
	f.Reason = "shard changed from " + old + " to " + seen
	f.Details.ShardChanged = true
	f.Details.SuspendTimeMS = time.Duration(c.suspendMax.Load()).Milliseconds()
	if !c.lastUp.IsZero() {
		f.Details.TimeSinceLastSuccessMS = time.Since(c.lastUp).Milliseconds()
	}
	if !c.cfg.Credentials.Anonymous() {
		f.Credentials = c.jid.Bare().String()
	}
	c.loops.Add(1) // the read loop of the live link keeps the count above zero
	c.mu.Unlock()
	c.log.Debug("xmppconn: shard changed", "from", old, "to", seen)
	go func() {
		defer c.loops.Done()
		c.abort(f)
	}()
}

// learnShard takes the shard named by the deployment's properties.
func (c *Connection) learnShard(name string) {
	if name == "" {
		return
	}
	c.shard.mu.Lock()
	c.shard.known = name
	c.shard.mu.Unlock()
	c.armShardCheck()
}

// Shard returns the shard the session was last seen on (from the
// properties or the x-jitsi-shard header), or "" when none is known.
func (c *Connection) Shard() string {
	c.shard.mu.Lock()
	defer c.shard.mu.Unlock()
	return c.shard.known
}

// armShardCheck schedules the next shard check of a live WebSocket stream,
// unless one is armed for it already. Without a known shard nothing is
// armed: there is nothing to compare with, and servers that are not Jitsi
// deployments never pay for the check.
func (c *Connection) armShardCheck() {
	interval := c.cfg.Jitsi.ShardCheckInterval
	if interval < 0 {
		return
	}
	if interval == 0 {
		interval = DefaultShardCheckInterval
	}
	c.mu.Lock()
	l := c.link
	c.mu.Unlock()
	if l == nil || !isWebSocketURL(c.shardEndpoint()) {
		return
	}
	c.shard.mu.Lock()
	defer c.shard.mu.Unlock()
	if c.shard.known == "" || (c.shard.timer != nil && c.shard.link == l) {
		return
	}
	if c.shard.timer != nil {
		c.shard.timer.Stop()
	}
	wait := interval + rand.N(interval) // up to as much again of jitter
	c.shard.link = l
	c.shard.timer = time.AfterFunc(wait, func() { c.checkShard(l) })
}

// stopShardCheck disarms the WebSocket shard check.
func (c *Connection) stopShardCheck() {
	c.shard.mu.Lock()
	defer c.shard.mu.Unlock()
	if c.shard.timer != nil {
		c.shard.timer.Stop()
	}
	c.shard.timer, c.shard.link = nil, nil
}

// checkShard runs one WebSocket shard check: an HTTP GET of the endpoint's
// HTTP form, whose x-jitsi-shard header names the shard that answers now.
func (c *Connection) checkShard(l *link) {
	c.mu.Lock()
	if c.closing || c.link != l {
		c.mu.Unlock()
		return
	}
	c.loops.Add(1) // the live link's loops keep the count above zero
	c.mu.Unlock()
	defer c.loops.Done()

	c.shard.mu.Lock()
	if c.shard.link == l {
		c.shard.timer, c.shard.link = nil, nil
	}
	c.shard.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), shardCheckTimeout)
	defer cancel()
	go func() {
		select {
		case <-l.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	seen, err := c.fetchShard(ctx)
	if err != nil {
		c.log.Debug("xmppconn: shard check", "err", err)
	}
	c.noteShard(seen)
	c.armShardCheck()
}

// fetchShard GETs the HTTP form of the WebSocket endpoint and returns its
// x-jitsi-shard header.
func (c *Connection) fetchShard(ctx context.Context) (string, error) {
	u, err := url.Parse(c.shardEndpoint())
	if err != nil {
		return "", errShardCheck
	}
	u.Scheme = strings.Replace(strings.ToLower(u.Scheme), "ws", "http", 1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	for k, v := range c.cfg.Header {
		req.Header[k] = v
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		// The URL may carry a token: report the failure without it.
		return "", errShardCheck
	}
	resp.Body.Close()
	return resp.Header.Get(ShardHeader), nil
}

// errShardCheck reports a failed shard check without its URL.
var errShardCheck = errors.New("xmppconn: shard check: request failed")

// shardEndpoint returns the endpoint in use (after discovery and redirects),
// without a token: the shard header does not depend on it.
func (c *Connection) shardEndpoint() string {
	c.route.mu.Lock()
	defer c.route.mu.Unlock()
	return c.route.endpoint
}

func isWebSocketURL(u string) bool {
	s := strings.ToLower(u)
	return strings.HasPrefix(s, "ws://") || strings.HasPrefix(s, "wss://")
}
