package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/transport"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// connFlags are the flags shared by the commands that connect.
type connFlags struct {
	domain      string
	jid         string
	passwordEnv string
	tokenEnv    string
	insecure    bool
	allowPlain  bool
	mechanisms  string
	caFile      string
	timeout     time.Duration
	json        bool
	verbose     bool
	noFast      bool
	fastTokens  string
}

func (f *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.domain, "domain", "", "XMPP domain (default: the domain of --jid, else the URL host)")
	fs.StringVar(&f.jid, "jid", "", "bare JID to log in as; without it, SASL ANONYMOUS")
	fs.StringVar(&f.passwordEnv, "password-env", "", "name of the environment variable holding the password")
	fs.StringVar(&f.tokenEnv, "token-env", "", "name of the environment variable holding a token (sent as ?token= with SASL ANONYMOUS, never printed)")
	fs.BoolVar(&f.insecure, "insecure", false, "with a DOMAIN: also use plaintext ws:// and http:// endpoints that discovery finds")
	fs.BoolVar(&f.allowPlain, "allow-plain", false, "permit SASL PLAIN without TLS")
	fs.StringVar(&f.mechanisms, "mechanisms", "", "comma-separated SASL mechanisms to allow, in order of preference")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM file of CA certificates to trust")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up connecting after this long")
	fs.BoolVar(&f.json, "json", false, "print one JSON object per event")
	fs.BoolVar(&f.verbose, "v", false, "debug logs on stderr")
	fs.BoolVar(&f.noFast, "no-fast", false, "log in with the password every time: no XEP-0484 FAST token, no SCRAM key cache")
	fs.StringVar(&f.fastTokens, "fast-tokens", "", "keep XEP-0484 FAST tokens in this file (mode 0600; one process per file) so that a restart logs in without the password")
}

// parseInterspersed parses flags that may come before or after the
// positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// config builds the Connection config from the flags and the URL or
// domain (a domain is discovered by the Connection, XEP-0156).
func (f *connFlags) config(rawURL string, getenv func(string) string, stderr io.Writer) (xmppconn.Config, error) {
	var cfg xmppconn.Config
	if strings.Contains(rawURL, "://") {
		u, err := url.Parse(rawURL)
		if err != nil || u.Host == "" {
			return cfg, &usageError{fmt.Sprintf("%q is not a URL (want ws://, wss://, http:// or https://)", auth.RedactURL(rawURL))}
		}
		switch strings.ToLower(u.Scheme) {
		case "ws", "wss", "http", "https":
		default:
			return cfg, &usageError{fmt.Sprintf("unsupported URL scheme %q (want ws, wss, http or https)", u.Scheme)}
		}
	} else if u, err := url.Parse("https://" + rawURL); err != nil || u.Hostname() == "" || u.Path != "" || u.RawQuery != "" || u.User != nil || strings.ContainsAny(rawURL, "/?#@ ") {
		return cfg, &usageError{fmt.Sprintf("%q is not a URL (want ws://, wss://, http:// or https://) nor a domain", auth.RedactURL(rawURL))}
	}
	cfg.URL = rawURL
	if f.insecure {
		cfg.Discover = transport.DiscoverOptions{Insecure: true}
	}
	cfg.Domain = f.domain
	cfg.AllowPlain = f.allowPlain
	if f.jid != "" {
		j, err := jid.Parse(f.jid)
		if err != nil || j.Localpart() == "" {
			return cfg, &usageError{fmt.Sprintf("--jid %q is not a JID of the form user@domain", f.jid)}
		}
		// The account as a JID: the library takes its domain (unless
		// --domain says otherwise) and resource, as for any bot.
		cfg.Credentials.Username = j.String()
		if f.passwordEnv == "" {
			return cfg, &usageError{"--jid needs --password-env NAME (passwords are never taken from flags)"}
		}
	}
	if f.passwordEnv != "" {
		if f.jid == "" {
			return cfg, &usageError{"--password-env needs --jid"}
		}
		pw := getenv(f.passwordEnv)
		if pw == "" {
			return cfg, &usageError{fmt.Sprintf("environment variable %s is empty or not set", f.passwordEnv)}
		}
		cfg.Credentials.Password = auth.NewSecret(pw)
	}
	if f.tokenEnv != "" {
		if f.jid != "" {
			return cfg, &usageError{"--token-env and --jid exclude each other (a token logs in with SASL ANONYMOUS)"}
		}
		tok := getenv(f.tokenEnv)
		if tok == "" {
			return cfg, &usageError{fmt.Sprintf("environment variable %s is empty or not set", f.tokenEnv)}
		}
		cfg.Token = auth.StaticToken(tok)
	}
	if f.mechanisms != "" {
		for _, m := range strings.Split(f.mechanisms, ",") {
			if m = strings.TrimSpace(m); m != "" {
				cfg.Mechanisms = append(cfg.Mechanisms, strings.ToUpper(m))
			}
		}
	}
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return cfg, &usageError{fmt.Sprintf("--ca-file: %v", err)}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return cfg, &usageError{fmt.Sprintf("--ca-file %s holds no PEM certificate", f.caFile)}
		}
		cfg.TLSConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	if f.timeout <= 0 {
		return cfg, &usageError{"--timeout must be positive"}
	}
	switch {
	case f.noFast && f.fastTokens != "":
		return cfg, &usageError{"--no-fast and --fast-tokens exclude each other"}
	case f.noFast:
		cfg.SASL2.FAST.Disabled, cfg.SCRAMKeys.Disabled = true, true
	case f.fastTokens != "":
		store, err := auth.OpenFileFASTStore(f.fastTokens)
		if err != nil {
			return cfg, &usageError{fmt.Sprintf("--fast-tokens: %v", err)}
		}
		cfg.SASL2.FAST.Store = store
	}
	if f.verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return cfg, nil
}

var errHelp = flag.ErrHelp

func isHelp(err error) bool { return errors.Is(err, errHelp) }
