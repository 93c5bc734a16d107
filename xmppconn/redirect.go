package xmppconn

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"

	"mellium.im/xmpp/stream"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/events"
	"github.com/xmppconn/xmppconn/transport"
)

// DefaultRedirectHops is how many redirects one connect or resume attempt
// follows at most.
const DefaultRedirectHops = 3

// RedirectConfig says which server redirects the client follows: an RFC
// 6120 see-other-host stream error, an RFC 7395 <close see-other-uri/>, a
// BOSH terminate with condition see-other-uri, and an HTTP 3xx on the
// endpoint. Every redirect is reported with ConnectionRedirected, followed
// or not; a refused one ends the attempt with one ConnectionFailed whose
// reason names why (a *RedirectRefusedError). The zero value is the default
// policy. Whatever the policy, a redirect never goes from TLS to plaintext
// and never changes the XMPP domain (the stream's 'to'): only the endpoint
// moves.
type RedirectConfig struct {
	// Disabled reports redirects without following them.
	Disabled bool
	// MaxHops bounds the redirects followed in a row by one connect or
	// resume attempt; the next one is refused. Zero: DefaultRedirectHops.
	MaxHops int
	// AllowHosts lists endpoint hosts a redirect may lead to besides the
	// XMPP domain, the host of the configured (or discovered) endpoint, and
	// their subdomains. An entry allows that host and its subdomains; "*"
	// allows any host.
	AllowHosts []string
}

// redirect is a redirect found in an attempt's error.
type redirect struct {
	kind   string
	target string // as the server sent it (a URI, or a host for see-other-host)
	err    error
}

// redirectOf returns the redirect err reports, if any.
func redirectOf(err error) (redirect, bool) {
	var (
		re *transport.RedirectError
		se stream.Error
	)
	switch {
	case errors.As(err, &re):
		return redirect{kind: re.Kind, target: re.Target, err: err}, true
	case errors.As(err, &se) && se.Err == "see-other-host":
		return redirect{kind: transport.RedirectSeeOtherHost, target: strings.TrimSpace(se.Content), err: err}, true
	}
	return redirect{}, false
}

// follow decides on rd, met while connected to current, after hops
// redirects already followed: it returns the endpoint to go to (without
// token or previd), or the error that refuses it.
func (c *Connection) follow(rd redirect, current, origin, domain string, hops int) (string, *RedirectRefusedError) {
	p := c.cfg.Redirect
	refuse := func(target, reason string) (string, *RedirectRefusedError) {
		return "", &RedirectRefusedError{Kind: rd.kind, Target: c.redact(target), Reason: reason, Err: rd.err}
	}
	next, err := redirectTarget(rd, current)
	if err != nil {
		return refuse(rd.target, RedirectReasonInvalid+": "+err.Error())
	}
	shown := next.String()
	switch {
	case p.Disabled:
		return refuse(shown, RedirectReasonDisabled)
	case hops >= p.MaxHops:
		return refuse(shown, RedirectReasonTooMany+" (more than "+strconv.Itoa(p.MaxHops)+")")
	case secureScheme(schemeOf(current)) && !secureScheme(next.Scheme):
		return refuse(shown, RedirectReasonDowngrade)
	case !p.allows(next.Hostname(), domain, origin):
		return refuse(shown, RedirectReasonForeign+" ("+next.Hostname()+" is not within "+domain+")")
	}
	return shown, nil
}

// redirectTarget resolves rd against the current endpoint and drops any
// token and previd from it: the client adds its own.
func redirectTarget(rd redirect, current string) (*url.URL, error) {
	cur, err := url.Parse(current)
	if err != nil {
		return nil, errors.New("current endpoint unparsable")
	}
	if rd.target == "" {
		return nil, errors.New("empty target")
	}
	var next *url.URL
	if rd.kind == transport.RedirectSeeOtherHost {
		host := rd.target
		if strings.ContainsAny(host, "/?#@ \t\r\n") {
			return nil, errors.New("not a host")
		}
		if h, p, err := net.SplitHostPort(host); err == nil {
			if h == "" || p == "" {
				return nil, errors.New("not a host")
			}
		}
		n := *cur
		n.Host = host
		next = &n
	} else {
		next, err = cur.Parse(rd.target)
		if err != nil {
			return nil, errors.New("unparsable URI")
		}
	}
	switch strings.ToLower(next.Scheme) {
	case "ws", "wss", "http", "https":
	default:
		return nil, errors.New("scheme " + next.Scheme + " is not ws, wss, http or https")
	}
	if next.Hostname() == "" {
		return nil, errors.New("no host")
	}
	if next.RawQuery != "" {
		q := next.Query()
		q.Del("token")
		q.Del("previd")
		next.RawQuery = q.Encode()
	}
	next.User, next.Fragment = nil, ""
	return next, nil
}

func schemeOf(rawURL string) string {
	s, _, _ := strings.Cut(rawURL, "://")
	return s
}

func secureScheme(s string) bool {
	return strings.EqualFold(s, "wss") || strings.EqualFold(s, "https")
}

// allows reports whether an endpoint on host stays within the domain.
func (p RedirectConfig) allows(host, domain, origin string) bool {
	allowed := append([]string{domain}, p.AllowHosts...)
	if u, err := url.Parse(origin); err == nil && u.Hostname() != "" {
		allowed = append(allowed, u.Hostname())
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, a := range allowed {
		a = strings.TrimSuffix(strings.ToLower(a), ".")
		if a == "*" || host == a || (a != "" && strings.HasSuffix(host, "."+a)) {
			return true
		}
	}
	return false
}

// redirectEvent returns the ConnectionRedirected event of a redirect, and
// logs it.
func (c *Connection) redirectEvent(rd redirect, target string, followed bool) events.Event {
	c.log.Debug("xmppconn: redirected", "kind", rd.kind, "target", c.redact(target), "followed", followed)
	return events.Redirected{Target: c.redact(target), Kind: rd.kind, Followed: followed}
}

// emitRedirectLocked reports a redirect; c.mu is held.
func (c *Connection) emitRedirectLocked(rd redirect, target string, followed bool) {
	c.em.Emit(c.redirectEvent(rd, target, followed))
}

// redirected decides on a redirect met during an attempt and reports it.
func (c *Connection) redirected(rd redirect, current, origin, domain string, hops int) (string, *RedirectRefusedError) {
	next, refused := c.follow(rd, current, origin, domain, hops)
	c.mu.Lock()
	if refused != nil {
		c.emitRedirectLocked(rd, refused.Target, false)
	} else {
		c.emitRedirectLocked(rd, next, true)
	}
	c.mu.Unlock()
	return next, refused
}

// liveRedirectLocked decides on a redirect that ended a live stream (c.mu
// held): when it is followed, the endpoint moves and the session recovers
// there. It returns whether to recover, the ConnectionRedirected event to
// emit (nil without a redirect), which the caller queues after
// DISCONNECTED, and the error to report when the session does not recover.
func (c *Connection) liveRedirectLocked(err error) (bool, events.Event, error) {
	rd, ok := redirectOf(err)
	if !ok {
		return false, nil, err
	}
	domain, derr := c.domain()
	c.route.mu.Lock()
	current, origin := c.route.endpoint, c.route.origin
	c.route.mu.Unlock()
	if derr != nil || current == "" {
		return false, nil, err
	}
	next, refused := c.follow(rd, current, origin, domain, 0)
	if refused == nil && c.cfg.Reconnect.Disabled {
		refused = &RedirectRefusedError{Kind: rd.kind, Target: c.redact(next), Reason: RedirectReasonDisabled + " (reconnection is off)", Err: err}
	}
	if refused != nil {
		return false, c.redirectEvent(rd, refused.Target, false), refused
	}
	c.setEndpoint(next)
	return true, c.redirectEvent(rd, next, true), err
}

// setEndpoint makes next the endpoint of the following attempts.
func (c *Connection) setEndpoint(next string) {
	c.route.mu.Lock()
	c.route.endpoint = next
	c.route.mu.Unlock()
}

// establishRouted runs one connect or resume attempt: a token that is not
// expired, the endpoint (discovered when needed), then dial and negotiation,
// following redirects by the policy and asking for a new token once when
// the server refuses the current one as expired.
func (c *Connection) establishRouted(ctx context.Context, domain string, resume *resumeReq, resource string) (transport.Conn, *negotiated, error) {
	tok, err := c.tokenFor(ctx) // before any network I/O
	if err != nil {
		return nil, nil, err
	}
	endpoint, origin, err := c.resolveEndpoint(ctx, domain)
	if err != nil {
		return nil, nil, err
	}
	cfg := &c.cfg
	previd := ""
	if c.cfg.Token != nil {
		tcfg := c.cfg
		tcfg.Credentials, tcfg.Mechanisms = auth.Credentials{}, []string{"ANONYMOUS"}
		cfg = &tcfg
		if resume != nil {
			previd = resume.previd
		} else {
			// A new bind after a lost session: with previd, a Jitsi-style
			// token host gives the login the old session's user.
			previd = c.out.resumeID()
		}
	}
	hops, refreshed := 0, false
	for {
		u := endpoint
		if !tok.IsZero() {
			if u, err = auth.AddToken(endpoint, tok, previd); err != nil {
				return nil, nil, err
			}
		}
		c.log.Debug("xmppconn: dial", "url", auth.RedactURL(u), "domain", domain, "resume", resume != nil)
		tc, neg, err := c.negotiateAt(ctx, u, domain, cfg, resume, resource)
		if err == nil {
			return tc, neg, nil
		}
		if rd, ok := redirectOf(err); ok {
			next, refused := c.redirected(rd, endpoint, origin, domain, hops)
			if refused != nil {
				return tc, nil, refused
			}
			if tc != nil {
				c.closeQuietly(tc)
			}
			hops++
			endpoint = next
			c.setEndpoint(next)
			continue
		}
		var fe *auth.FailureError
		if !tok.IsZero() && errors.As(err, &fe) {
			if !c.tokenRefused(tok, fe) {
				return tc, nil, &TokenError{Reason: refusedReason("the server refused the token", fe), Refusal: fe}
			}
			if refreshed {
				return tc, nil, &TokenError{Reason: refusedReason("the server refused a fresh token as expired", fe), Refusal: fe}
			}
			if tc != nil {
				c.closeQuietly(tc)
			}
			nt, terr := c.tokenFor(ctx)
			if terr != nil {
				var te *TokenError
				if errors.As(terr, &te) {
					te.Reason, te.Refusal = "the server refused the token as expired and the token source has no other", fe
				}
				return nil, nil, terr
			}
			tok, refreshed = nt, true
			continue
		}
		return tc, nil, c.redactError(err)
	}
}
