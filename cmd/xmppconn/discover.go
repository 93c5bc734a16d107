package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

const discoverUsage = `usage: xmppconn discover [flags] DOMAIN

Lists the WebSocket and BOSH endpoints DOMAIN publishes in
https://DOMAIN/.well-known/host-meta and host-meta.json (XEP-0156), best
first: wss://, then https:// BOSH. DOMAIN may be host:port for a server on
another port than 443. Exit status: 0 endpoints found, 1 none, 2 usage.

flags:
`

// discoverFlags are the flags of the discover command.
type discoverFlags struct {
	json     bool
	insecure bool
	caFile   string
	timeout  time.Duration
}

// endpointLine is one line of discover --json.
type endpointLine struct {
	Kind string `json:"kind"`
	URL  string `json:"url"`
}

// discover lists the endpoints of a domain.
func discover(ctx context.Context, args []string, stdout, stderr io.Writer, _ func(string) string) int {
	fs := flag.NewFlagSet("discover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f discoverFlags
	fs.BoolVar(&f.json, "json", false, "print one JSON object per endpoint")
	fs.BoolVar(&f.insecure, "insecure", false, "also list plaintext ws:// and http:// endpoints, after the TLS ones (certificates are still verified)")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM file of CA certificates to trust")
	fs.DurationVar(&f.timeout, "timeout", transport.DefaultDiscoverTimeout, "give up after this long")
	fs.Usage = func() {
		fmt.Fprint(stderr, discoverUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if isHelp(err) {
			return exitOK
		}
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "xmppconn discover: want exactly one DOMAIN")
		fs.Usage()
		return exitUsage
	}
	domain := pos[0]
	if strings.Contains(domain, "://") {
		fmt.Fprintf(stderr, "xmppconn discover: %q is a URL; want a domain such as example.com\n", auth.RedactURL(domain))
		return exitUsage
	}
	if f.timeout <= 0 {
		fmt.Fprintln(stderr, "xmppconn discover: --timeout must be positive")
		return exitUsage
	}
	client, err := f.httpClient()
	if err != nil {
		fmt.Fprintln(stderr, "xmppconn discover:", err)
		return exitUsage
	}
	defer client.CloseIdleConnections()

	eps, err := xmppconn.Discover(ctx, domain, &transport.DiscoverOptions{
		HTTPClient: client,
		Insecure:   f.insecure,
		Timeout:    f.timeout,
	})
	if err != nil {
		fmt.Fprintln(stderr, "xmppconn discover:", auth.RedactURL(err.Error()))
		if errors.Is(err, transport.ErrInvalidDomain) {
			return exitUsage
		}
		return exitFailed
	}
	for _, ep := range eps {
		if f.json {
			b, _ := json.Marshal(endpointLine{Kind: ep.Kind, URL: ep.URL})
			fmt.Fprintf(stdout, "%s\n", b)
		} else {
			fmt.Fprintf(stdout, "%s %s\n", ep.Kind, ep.URL)
		}
	}
	return exitOK
}

// httpClient returns a client of its own (so that its idle connections can
// be closed), trusting --ca-file when given.
func (f *discoverFlags) httpClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-file: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-file %s holds no PEM certificate", f.caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}
