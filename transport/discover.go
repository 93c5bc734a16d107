package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of DiscoverOptions.
const (
	DefaultDiscoverMaxBody = 64 << 10
	DefaultDiscoverTimeout = 10 * time.Second
)

// maxHostMetaRedirects is how many same-host HTTPS redirects one host-meta
// GET follows.
const maxHostMetaRedirects = 3

// The paths of the two host-meta documents (RFC 6415, XEP-0156).
const (
	hostMetaPath     = "/.well-known/host-meta"
	hostMetaJSONPath = "/.well-known/host-meta.json"
)

// DiscoverOptions configures Discover. A nil *DiscoverOptions, and the zero
// value of every field, mean the defaults.
type DiscoverOptions struct {
	// HTTPClient fetches the documents; nil: http.DefaultClient. Its
	// CheckRedirect is replaced by Discover's own policy (see Discover).
	HTTPClient *http.Client
	// Insecure keeps plaintext ws:// and http:// endpoints (after every TLS
	// one) and lets BaseURL be http://. Off: they are dropped.
	Insecure bool
	// MaxBody bounds each document; a larger one is refused. Default 64 KiB.
	MaxBody int64
	// Timeout bounds the whole discovery (both documents). Default 10 s.
	Timeout time.Duration
	// BaseURL replaces https://DOMAIN as the origin the documents are fetched
	// from, for tests (for example an httptest server's URL). It must be
	// https://, or http:// when Insecure is set.
	BaseURL string
}

func (o *DiscoverOptions) withDefaults() DiscoverOptions {
	var out DiscoverOptions
	if o != nil {
		out = *o
	}
	if out.HTTPClient == nil {
		out.HTTPClient = http.DefaultClient
	}
	if out.MaxBody <= 0 {
		out.MaxBody = DefaultDiscoverMaxBody
	}
	if out.Timeout <= 0 {
		out.Timeout = DefaultDiscoverTimeout
	}
	return out
}

// Reasons a host-meta document gave no usable endpoint, as found with
// errors.Is on a *DiscoveryError or on one HostMetaAttempt.Err. A failed
// request wraps its own cause instead (a *url.Error, context.DeadlineExceeded
// when Timeout ran out), and a document that could not be parsed wraps
// ErrMalformedHostMeta.
var (
	ErrHostMetaNotFound = errors.New("transport: host-meta not found")
	ErrHostMetaStatus   = errors.New("transport: host-meta request failed")
	ErrHostMetaTooLarge = errors.New("transport: host-meta too large")
	ErrHostMetaRedirect = errors.New("transport: host-meta redirect refused")
	ErrNoEndpoint       = errors.New("transport: host-meta lists no WebSocket or BOSH endpoint")
	ErrPlaintextOnly    = errors.New("transport: host-meta lists only plaintext endpoints")
)

// ErrInvalidDomain reports a domain Discover cannot build a URL from.
var ErrInvalidDomain = errors.New("transport: invalid domain")

// HostMetaAttempt is what became of one host-meta document.
type HostMetaAttempt struct {
	URL        string // the document's URL
	HTTPStatus int    // the status of the last response; 0 when none came
	Err        error  // why it gave no usable endpoint; nil when it did
}

// DiscoveryError reports that Discover found no usable endpoint. It lists
// both documents and why each gave nothing; errors.Is matches the reason of
// any of them (ErrHostMetaNotFound, ErrPlaintextOnly, context.DeadlineExceeded,
// ...).
type DiscoveryError struct {
	Domain string
	Tried  []HostMetaAttempt
}

// Error returns "transport: discover DOMAIN: no usable endpoint (URL: reason;
// URL: reason)".
func (e *DiscoveryError) Error() string {
	var b strings.Builder
	b.WriteString("transport: discover " + e.Domain + ": no usable endpoint")
	sep := " ("
	for _, a := range e.Tried {
		if a.Err == nil {
			continue
		}
		b.WriteString(sep + a.URL + ": " + strings.TrimPrefix(a.Err.Error(), "transport: "))
		sep = "; "
	}
	if sep == "; " {
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the reasons of the documents tried.
func (e *DiscoveryError) Unwrap() []error {
	var errs []error
	for _, a := range e.Tried {
		if a.Err != nil {
			errs = append(errs, a.Err)
		}
	}
	return errs
}

// Discover finds the WebSocket and BOSH endpoints of an XMPP domain by
// XEP-0156: it fetches https://DOMAIN/.well-known/host-meta (XRD) and
// https://DOMAIN/.well-known/host-meta.json at the same time, both bounded by
// opts.Timeout and opts.MaxBody, and waits for both. It merges their
// endpoints (XRD first, duplicates dropped) and orders them wss://, then
// https:// BOSH, then, only when opts.Insecure, ws:// and http://; without
// Insecure every plaintext endpoint is dropped, so an HTTPS host-meta never
// hands one out. One document is enough: the other may be missing or broken.
//
// domain is an XMPP domain, or host:port for a server on a non-standard
// port (XMPP domains have no port, so the form is unambiguous; tests use it
// for a local server).
//
// Redirects of the host-meta GETs are followed only when they stay on HTTPS
// and on the same host name, at most 3 times; any other redirect fails that
// document with ErrHostMetaRedirect. host-meta vouches for the domain's
// endpoints, so it must come from the domain itself, over TLS.
//
// When no usable endpoint is found the error is a *DiscoveryError listing
// both documents and why each failed: missing (ErrHostMetaNotFound),
// malformed (ErrMalformedHostMeta), oversized (ErrHostMetaTooLarge), only
// plaintext (ErrPlaintextOnly), no endpoint (ErrNoEndpoint), or the request
// error. An unusable domain or BaseURL gives ErrInvalidDomain.
func Discover(ctx context.Context, domain string, opts *DiscoverOptions) ([]Endpoint, error) {
	o := opts.withDefaults()
	base, err := discoveryBase(domain, o)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	client := *o.HTTPClient
	client.CheckRedirect = hostMetaRedirectPolicy(base, o.Insecure)

	docs := []struct {
		path, accept string
		parse        func([]byte) ([]Endpoint, error)
	}{
		{hostMetaPath, "application/xrd+xml", ParseXRD},
		{hostMetaJSONPath, "application/json", ParseHostMetaJSON},
	}
	tried := make([]HostMetaAttempt, len(docs))
	found := make([][]Endpoint, len(docs))
	var wg sync.WaitGroup
	for i, doc := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tried[i], found[i] = fetchHostMeta(ctx, &client, base.String()+doc.path, doc.accept, o.MaxBody, doc.parse)
		}()
	}
	wg.Wait()

	var eps []Endpoint
	seen := map[string]bool{}
	for i := range docs {
		usable, plaintext := 0, 0
		for _, ep := range found[i] {
			if !ep.Secure() && !o.Insecure {
				plaintext++
				continue
			}
			usable++
			if !seen[ep.URL] {
				seen[ep.URL] = true
				eps = append(eps, ep)
			}
		}
		if tried[i].Err == nil && usable == 0 {
			if plaintext > 0 {
				tried[i].Err = fmt.Errorf("%w (%d dropped; insecure mode is off)", ErrPlaintextOnly, plaintext)
			} else {
				tried[i].Err = ErrNoEndpoint
			}
		}
	}
	if len(eps) == 0 {
		return nil, &DiscoveryError{Domain: domain, Tried: tried}
	}
	slices.SortStableFunc(eps, func(a, b Endpoint) int { return endpointRank(a) - endpointRank(b) })
	return eps, nil
}

// endpointRank orders endpoints: wss, https BOSH, ws, http BOSH.
func endpointRank(e Endpoint) int {
	switch {
	case e.Kind == KindWebSocket && e.Secure():
		return 0
	case e.Kind == KindBOSH && e.Secure():
		return 1
	case e.Kind == KindWebSocket:
		return 2
	default:
		return 3
	}
}

// discoveryBase returns the origin the host-meta documents are fetched from.
func discoveryBase(domain string, o DiscoverOptions) (*url.URL, error) {
	if o.BaseURL != "" {
		u, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("%w: discover: BaseURL %q is not an http(s) origin", ErrInvalidDomain, o.BaseURL)
		}
		switch strings.ToLower(u.Scheme) {
		case "https":
		case "http":
			if !o.Insecure {
				return nil, fmt.Errorf("%w: discover: BaseURL %q is plaintext and insecure mode is off", ErrInvalidDomain, o.BaseURL)
			}
		default:
			return nil, fmt.Errorf("%w: discover: BaseURL %q is not an http(s) origin", ErrInvalidDomain, o.BaseURL)
		}
		return u, nil
	}
	if domain == "" || strings.ContainsAny(domain, "/?#@\\%") || strings.IndexFunc(domain, isSpaceOrControl) >= 0 {
		return nil, fmt.Errorf("%w: discover: %q", ErrInvalidDomain, domain)
	}
	u, err := url.Parse("https://" + domain)
	if err != nil || u.Host != domain || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: discover: %q", ErrInvalidDomain, domain)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: discover: %q has a bad port", ErrInvalidDomain, domain)
		}
	}
	return u, nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// hostMetaRedirectPolicy follows a redirect only to HTTPS (or, when
// insecure, HTTP from an HTTP base) on the same host name as base, at most
// maxHostMetaRedirects times.
func hostMetaRedirectPolicy(base *url.URL, insecure bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		target := req.URL.Scheme + "://" + req.URL.Host + req.URL.Path
		switch {
		case len(via) > maxHostMetaRedirects:
			return fmt.Errorf("%w: more than %d redirects (last to %s)", ErrHostMetaRedirect, maxHostMetaRedirects, target)
		case !strings.EqualFold(req.URL.Hostname(), base.Hostname()):
			return fmt.Errorf("%w: to another host (%s)", ErrHostMetaRedirect, target)
		case strings.EqualFold(req.URL.Scheme, "https"):
			return nil
		case insecure && strings.EqualFold(req.URL.Scheme, "http") && strings.EqualFold(base.Scheme, "http"):
			return nil
		}
		return fmt.Errorf("%w: to plaintext (%s)", ErrHostMetaRedirect, target)
	}
}

// fetchHostMeta GETs one document and parses it.
func fetchHostMeta(ctx context.Context, client *http.Client, docURL, accept string, maxBody int64,
	parse func([]byte) ([]Endpoint, error)) (HostMetaAttempt, []Endpoint) {
	a := HostMetaAttempt{URL: docURL}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, docURL, nil)
	if err != nil {
		a.Err = fmt.Errorf("transport: host-meta request: %w", err)
		return a, nil
	}
	req.Header.Set("Accept", accept)
	resp, err := client.Do(req)
	if err != nil {
		if resp != nil {
			a.HTTPStatus = resp.StatusCode
		}
		a.Err = hostMetaRequestError(err)
		return a, nil
	}
	defer resp.Body.Close()
	a.HTTPStatus = resp.StatusCode
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		a.Err = fmt.Errorf("%w (HTTP %d)", ErrHostMetaNotFound, resp.StatusCode)
		return a, nil
	case resp.StatusCode != http.StatusOK:
		a.Err = fmt.Errorf("%w: HTTP %d", ErrHostMetaStatus, resp.StatusCode)
		return a, nil
	case resp.ContentLength > maxBody:
		a.Err = fmt.Errorf("%w: %d bytes, limit %d", ErrHostMetaTooLarge, resp.ContentLength, maxBody)
		return a, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		a.Err = fmt.Errorf("transport: host-meta read: %w", err)
		return a, nil
	}
	if int64(len(body)) > maxBody {
		a.Err = fmt.Errorf("%w: over %d bytes", ErrHostMetaTooLarge, maxBody)
		return a, nil
	}
	eps, err := parse(body)
	if err != nil {
		a.Err = err
		return a, nil
	}
	return a, eps
}

// hostMetaRequestError unwraps the *url.Error the client returns: the
// attempt names the URL already. A redirect refusal is returned as it is.
func hostMetaRequestError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if errors.Is(ue.Err, ErrHostMetaRedirect) {
			return ue.Err
		}
		err = ue.Err
	}
	return fmt.Errorf("transport: host-meta request: %w", err)
}
