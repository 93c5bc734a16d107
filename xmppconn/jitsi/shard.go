package jitsi

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

// ShardChangedError is the cause of a session ended because the deployment
// answered from another shard than the one the session lives on: the
// session's state is gone with the old shard, so resuming cannot work.
type ShardChangedError struct {
	From, To string // the shard known before, and the one that answered
}

func (e *ShardChangedError) Error() string {
	return "jitsi: shard changed from " + e.From + " to " + e.To
}

// shardState is what a Deployment knows of the shard it is on. It has its
// own lock.
type shardState struct {
	mu    sync.Mutex
	known string      // the shard last seen; empty while none is known
	live  bool        // a stream is live (between Up and Down)
	ws    bool        // the live stream is a WebSocket
	timer *time.Timer // the next WebSocket check, nil when none is armed
}

// httpResponse takes the shard named by an HTTP response of the endpoint (a
// BOSH response, the WebSocket upgrade). It runs on the transport's
// goroutine.
func (d *Deployment) httpResponse(_ int, header http.Header) {
	d.noteShard(header.Get(ShardHeader))
}

// noteShard takes the shard named by an HTTP response. A missing header says
// nothing. A different shard while the session is live means the session
// was moved: it ends, on a goroutine of the Connection, since noteShard may
// run inside the transport's own request.
func (d *Deployment) noteShard(seen string) {
	if seen == "" {
		return
	}
	d.shard.mu.Lock()
	old, live := d.shard.known, d.shard.live
	d.shard.known = seen
	d.shard.mu.Unlock()
	if old == "" || old == seen {
		d.armShardCheck()
		return
	}
	if !live {
		// Negotiating, down, ended: a new session may land on any shard,
		// and the one it lands on is now the known one.
		return
	}
	f := events.Failed{Err: events.OtherError, Cause: &ShardChangedError{From: old, To: seen}}
	if d.cfg.GracefulShardMove {
		f.Err = events.ShardChangedError
	}
	f.Reason = "shard changed from " + old + " to " + seen
	f.Details.ShardChanged = true
	d.log.Debug("jitsi: shard changed", "from", old, "to", seen)
	d.c.Go(func(context.Context) { d.c.Fail(f) })
}

// learnShard takes the shard named by the deployment's properties.
func (d *Deployment) learnShard(name string) {
	if name == "" {
		return
	}
	d.shard.mu.Lock()
	d.shard.known = name
	d.shard.mu.Unlock()
	d.armShardCheck()
}

// Shard returns the shard the session was last seen on (from the
// properties or the x-jitsi-shard header), or "" when none is known.
func (d *Deployment) Shard() string {
	d.shard.mu.Lock()
	defer d.shard.mu.Unlock()
	return d.shard.known
}

// armShardCheck schedules the next shard check of a live WebSocket stream, unless one is armed already. Without a known
// shard nothing is armed: there is nothing to compare with, and servers
// that are not Jitsi deployments never pay for the check.
func (d *Deployment) armShardCheck() {
	d.shard.mu.Lock()
	defer d.shard.mu.Unlock()
	if !d.shard.live {
		return
	}
	if !d.shard.ws || d.cfg.ShardCheck.Disabled || d.shard.known == "" || d.shard.timer != nil {
		return
	}
	interval := d.cfg.ShardCheck.Interval
	wait := interval + rand.N(interval) // up to as much again of jitter
	d.shard.timer = time.AfterFunc(wait, func() {
		d.c.Go(d.checkShard)
	})
}

// streamUp marks the stream live, so that a moved shard ends it.
func (d *Deployment) streamUp() {
	ws := isWebSocketURL(d.c.Endpoint())
	d.shard.mu.Lock()
	d.shard.live, d.shard.ws = true, ws
	d.shard.mu.Unlock()
}

// stopShardCheck marks the stream down and disarms the shard check.
func (d *Deployment) stopShardCheck() {
	d.shard.mu.Lock()
	defer d.shard.mu.Unlock()
	d.shard.live, d.shard.ws = false, false
	if d.shard.timer != nil {
		d.shard.timer.Stop()
		d.shard.timer = nil
	}
}

// checkShard runs one WebSocket shard check: an HTTP GET of the endpoint's
// HTTP form, whose x-jitsi-shard header names the shard that answers now.
// stream ends with the live stream.
func (d *Deployment) checkShard(stream context.Context) {
	d.shard.mu.Lock()
	d.shard.timer = nil
	d.shard.mu.Unlock()

	ctx, cancel := context.WithTimeout(stream, queryTimeout)
	defer cancel()
	seen, err := d.fetchShard(ctx)
	if err != nil {
		d.log.Debug("jitsi: shard check", "err", err)
	}
	if stream.Err() != nil {
		return // the stream went away meanwhile
	}
	d.noteShard(seen)
	d.armShardCheck()
}

// fetchShard GETs the HTTP form of the WebSocket endpoint and returns its
// x-jitsi-shard header.
func (d *Deployment) fetchShard(ctx context.Context) (string, error) {
	u, err := url.Parse(d.c.Endpoint())
	if err != nil {
		return "", errShardCheck
	}
	u.Scheme = strings.Replace(strings.ToLower(u.Scheme), "ws", "http", 1)
	u.RawQuery = "" // the shard does not depend on a token
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	for k, v := range d.c.Config().Header {
		req.Header[k] = v
	}
	hc := d.c.HTTPClient()
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The URL may carry a token: report the failure without it.
		return "", errShardCheck
	}
	resp.Body.Close()
	return resp.Header.Get(ShardHeader), nil
}

// errShardCheck reports a failed shard check without its URL.
var errShardCheck = errors.New("jitsi: shard check: request failed")

func isWebSocketURL(u string) bool {
	s := strings.ToLower(u)
	return strings.HasPrefix(s, "ws://") || strings.HasPrefix(s, "wss://")
}
