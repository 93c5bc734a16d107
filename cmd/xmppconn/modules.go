package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"mellium.im/xmpp/jid"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/xmppconn"
)

// Module defaults and bounds.
const (
	defaultModuleName    = "default"
	defaultModuleTimeout = 10 * time.Second
	maxModuleTimeout     = 5 * time.Minute
)

// Transports a module may restrict its targets to.
const (
	moduleAnyTransport = "any"
	moduleWebSocket    = "websocket"
	moduleBOSH         = "bosh"
)

// exporterConfig is the exporter's YAML configuration file: the modules
// a scrape names with ?module=.
type exporterConfig struct {
	Modules map[string]*module `yaml:"modules"`
}

// module is how to probe a target: the transport, the account (or none:
// SASL ANONYMOUS), the mechanisms, the bound and the fail_if conditions.
type module struct {
	name string

	// Transport restricts the targets to ws:// and wss:// (websocket) or
	// http:// and https:// (bosh); any (the default) also takes a bare
	// domain, whose endpoint is discovered (XEP-0156).
	Transport string `yaml:"transport"`
	// Timeout bounds a probe; the scrape's own timeout bounds it too.
	// Default 10 s.
	Timeout time.Duration `yaml:"timeout"`
	// Credentials is the account to log in as; none: SASL ANONYMOUS.
	Credentials *moduleCredentials `yaml:"credentials"`
	// AllowedTargets lists the hosts a module with credentials may log in
	// to ("meet.example.com", "*.example.com" for any subdomain,
	// "host:port" for one port only). Required with credentials.
	AllowedTargets []string `yaml:"allowed_targets"`
	// Mechanisms restricts SASL to these, in this order of preference.
	Mechanisms []string `yaml:"mechanisms"`
	// AllowPlain permits SASL PLAIN without TLS.
	AllowPlain bool `yaml:"allow_plain"`
	// DisableSASL2 uses RFC 6120 SASL even where SASL2 is offered.
	DisableSASL2 bool `yaml:"disable_sasl2"`
	// TLS configures certificate verification.
	TLS struct {
		CAFile string `yaml:"ca_file"` // PEM file of CA certificates to trust, besides none other
	} `yaml:"tls"`

	// The probe fails when a condition holds, even after a good login.
	FailIfSASLMechanismOffered       []string `yaml:"fail_if_sasl_mechanism_offered"`
	FailIfSASLMechanismNotOffered    []string `yaml:"fail_if_sasl_mechanism_not_offered"`
	FailIfSASL2NotOffered            bool     `yaml:"fail_if_sasl2_not_offered"`
	FailIfStreamManagementNotOffered bool     `yaml:"fail_if_stream_management_not_offered"`
	FailIfNotTLS                     bool     `yaml:"fail_if_not_tls"`

	tlsConfig *tls.Config // from TLS.CAFile
	jid       jid.JID     // of Credentials.JID
}

// moduleCredentials names where a module's secret is: an environment
// variable or a file, never the configuration itself.
type moduleCredentials struct {
	JID          string `yaml:"jid"`
	PasswordEnv  string `yaml:"password_env"`
	PasswordFile string `yaml:"password_file"`
	// TokenEnv or TokenFile hold a token sent as ?token= with SASL
	// ANONYMOUS (Jitsi deployments), instead of a JID and password.
	TokenEnv  string `yaml:"token_env"`
	TokenFile string `yaml:"token_file"`

	// Password and Token are here only to refuse them with a clear error.
	Password string `yaml:"password"`
	Token    string `yaml:"token"`
}

// defaultModules are the modules without a configuration file: default
// logs in anonymously, over any transport.
func defaultModules() map[string]*module {
	m := &module{name: defaultModuleName}
	_ = m.check(nil)
	return map[string]*module{defaultModuleName: m}
}

// loadModules reads and checks the configuration file.
func loadModules(file string, getenv func(string) string) (map[string]*module, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return parseModules(data, getenv)
}

// parseModules parses a configuration file's content and checks each
// module. Unknown keys are errors, so that a misspelt fail_if condition
// does not pass unnoticed.
func parseModules(data []byte, getenv func(string) string) (map[string]*module, error) {
	var cfg exporterConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if len(cfg.Modules) == 0 {
		return nil, errors.New("config: no modules")
	}
	for name, m := range cfg.Modules {
		if m == nil {
			m = &module{}
			cfg.Modules[name] = m
		}
		m.name = name
		if err := m.check(getenv); err != nil {
			return nil, fmt.Errorf("config: module %q: %w", name, err)
		}
	}
	return cfg.Modules, nil
}

// check validates a module and fills its defaults. getenv checks that the
// variables it names are set (nil: not checked).
func (m *module) check(getenv func(string) string) error {
	switch m.Transport {
	case "":
		m.Transport = moduleAnyTransport
	case moduleAnyTransport, moduleWebSocket, moduleBOSH:
	default:
		return fmt.Errorf("transport %q: want websocket, bosh or any", m.Transport)
	}
	switch {
	case m.Timeout == 0:
		m.Timeout = defaultModuleTimeout
	case m.Timeout < 0 || m.Timeout > maxModuleTimeout:
		return fmt.Errorf("timeout %s: want a duration up to %s", m.Timeout, maxModuleTimeout)
	}
	for i, mech := range m.Mechanisms {
		m.Mechanisms[i] = strings.ToUpper(strings.TrimSpace(mech))
	}
	for _, list := range [][]string{m.FailIfSASLMechanismOffered, m.FailIfSASLMechanismNotOffered} {
		for i, mech := range list {
			list[i] = strings.ToUpper(strings.TrimSpace(mech))
		}
	}
	if f := m.TLS.CAFile; f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("tls.ca_file %s holds no PEM certificate", f)
		}
		m.tlsConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	for i, t := range m.AllowedTargets {
		t = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(t)), ".")
		if t == "" || strings.ContainsAny(t, "/@?# ") || t == "*" || (strings.Contains(t, "*") && !strings.HasPrefix(t, "*.")) {
			return fmt.Errorf("allowed_targets: %q is not a host, *.domain or host:port", m.AllowedTargets[i])
		}
		m.AllowedTargets[i] = t
	}
	if m.Credentials == nil {
		return nil
	}
	return m.checkCredentials(getenv)
}

// checkCredentials validates the credentials: a JID with one password
// source, or one token source; never a secret inline; a list of the
// targets they may go to.
func (m *module) checkCredentials(getenv func(string) string) error {
	c := m.Credentials
	if c.Password != "" {
		return errors.New("credentials.password: inline secrets are not accepted; name an environment variable (password_env) or a file (password_file)")
	}
	if c.Token != "" {
		return errors.New("credentials.token: inline secrets are not accepted; name an environment variable (token_env) or a file (token_file)")
	}
	password := c.PasswordEnv != "" || c.PasswordFile != ""
	token := c.TokenEnv != "" || c.TokenFile != ""
	switch {
	case c.PasswordEnv != "" && c.PasswordFile != "":
		return errors.New("credentials: password_env and password_file exclude each other")
	case c.TokenEnv != "" && c.TokenFile != "":
		return errors.New("credentials: token_env and token_file exclude each other")
	case token && (c.JID != "" || password):
		return errors.New("credentials: a token logs in with SASL ANONYMOUS: no jid and no password with it")
	case !token && c.JID == "":
		return errors.New("credentials: want a jid with password_env or password_file, or token_env or token_file")
	case c.JID != "" && !password:
		return errors.New("credentials: jid needs password_env or password_file")
	}
	if c.JID != "" {
		j, err := jid.Parse(c.JID)
		if err != nil || j.Localpart() == "" {
			return fmt.Errorf("credentials.jid %q is not a JID of the form user@domain", c.JID)
		}
		m.jid = j
	}
	if len(m.AllowedTargets) == 0 {
		return errors.New("a module with credentials needs allowed_targets: the hosts its credentials may be sent to")
	}
	// Fail at start, not at the first scrape.
	if _, err := c.secret(getenv); err != nil {
		return err
	}
	return nil
}

// secret reads the password or token from where the credentials name
// (getenv nil: only checks files).
func (c *moduleCredentials) secret(getenv func(string) string) (string, error) {
	env, file, what := c.PasswordEnv, c.PasswordFile, "password"
	if c.TokenEnv != "" || c.TokenFile != "" {
		env, file, what = c.TokenEnv, c.TokenFile, "token"
	}
	if env != "" {
		if getenv == nil {
			return "", nil
		}
		v := getenv(env)
		if v == "" {
			return "", fmt.Errorf("credentials: environment variable %s (%s_env) is empty or not set", env, what)
		}
		return v, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("credentials.%s_file: %w", what, err)
	}
	v := strings.TrimRight(string(data), "\r\n")
	if v == "" {
		return "", fmt.Errorf("credentials.%s_file %s is empty", what, file)
	}
	return v, nil
}

// requestError is a scrape's mistake: HTTP 400 with its text.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{fmt.Sprintf(format, args...)}
}

// target is a probe target as a scrape gives it.
type target struct {
	url  string // the endpoint URL, or a bare domain to discover
	host string // lower case, without port
	port string // "" when not given
}

// parseTarget checks a target against the module: a ws://, wss://,
// http:// or https:// URL of the module's transport, without user
// information and without a token in its query; or a bare domain (host or
// host:port) for a module of any transport without credentials. With
// credentials the host must be among the allowed targets.
func (m *module) parseTarget(raw string) (target, error) {
	if raw == "" {
		return target{}, badRequest("target parameter is missing")
	}
	var t target
	if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil || u.Hostname() == "" {
			return target{}, badRequest("target %q is not a URL with a host", auth.RedactURL(raw))
		}
		scheme := strings.ToLower(u.Scheme)
		switch {
		case scheme != "ws" && scheme != "wss" && scheme != "http" && scheme != "https":
			return target{}, badRequest("target scheme %q: want ws, wss, http or https", u.Scheme)
		case m.Transport == moduleWebSocket && scheme != "ws" && scheme != "wss":
			return target{}, badRequest("module %q probes WebSocket: want a ws:// or wss:// target", m.name)
		case m.Transport == moduleBOSH && scheme != "http" && scheme != "https":
			return target{}, badRequest("module %q probes BOSH: want an http:// or https:// target", m.name)
		case u.User != nil:
			return target{}, badRequest("target must not carry user information: credentials come from the module")
		}
		q := u.Query()
		for _, k := range []string{"token", "previd", "password"} {
			if q.Has(k) {
				return target{}, badRequest("target must not carry %s in its query: credentials come from the module", k)
			}
		}
		t = target{url: raw, host: u.Hostname(), port: u.Port()}
		if t.port == "" {
			t.port = map[string]string{"ws": "80", "http": "80", "wss": "443", "https": "443"}[scheme]
		}
	} else {
		u, err := url.Parse("https://" + raw)
		if err != nil || u.Hostname() == "" || u.Path != "" || u.RawQuery != "" || u.User != nil || strings.ContainsAny(raw, "/?#@ ") {
			return target{}, badRequest("target %q is neither a URL (ws://, wss://, http://, https://) nor a domain", raw)
		}
		if m.Transport != moduleAnyTransport {
			return target{}, badRequest("module %q probes %s: want a URL target, not a domain to discover", m.name, m.Transport)
		}
		if m.Credentials != nil {
			return target{}, badRequest("module %q has credentials: want a URL target (a discovered endpoint could be on any host)", m.name)
		}
		t = target{url: raw, host: u.Hostname(), port: u.Port()}
	}
	t.host = strings.TrimSuffix(strings.ToLower(t.host), ".")
	if m.Credentials != nil && !m.allows(t) {
		return target{}, badRequest("module %q may not log in to %s: not among its allowed_targets", m.name, net.JoinHostPort(t.host, t.port))
	}
	return t, nil
}

// allows reports whether the module's credentials may go to t: an entry
// "*.domain" allows the subdomains of domain, "host:port" that host on that
// port, and "host" that host on any port.
func (m *module) allows(t target) bool {
	for _, a := range m.AllowedTargets {
		if strings.HasPrefix(a, "*.") {
			if strings.HasSuffix(t.host, a[1:]) {
				return true
			}
			continue
		}
		if host, port, err := net.SplitHostPort(a); err == nil {
			if host == t.host && port == t.port {
				return true
			}
			continue
		}
		if strings.Trim(a, "[]") == t.host {
			return true
		}
	}
	return false
}

// config returns the Connection configuration of a probe of t, with the
// XMPP domain of the domain parameter (anonymous modules only) and the
// module's secret read now (a file may have been rotated).
func (m *module) config(t target, domain string, getenv func(string) string) (xmppconn.Config, error) {
	cfg := xmppconn.Config{
		URL:        t.url,
		TLSConfig:  m.tlsConfig,
		Mechanisms: slices.Clone(m.Mechanisms),
		AllowPlain: m.AllowPlain,
	}
	cfg.SASL2.Disabled = m.DisableSASL2
	cfg.Reconnect.AttemptTimeout = m.Timeout
	if domain != "" {
		if _, err := jid.Parse(domain); err != nil || strings.ContainsAny(domain, "@/") {
			return cfg, badRequest("domain %q is not an XMPP domain", domain)
		}
	}
	c := m.Credentials
	if c == nil {
		cfg.Domain = domain
		return cfg, nil
	}
	// The credentials never follow a redirect: they go to the allowed
	// targets only.
	cfg.Redirect.Disabled = true
	secret, err := c.secret(getenv)
	if err != nil {
		return cfg, err
	}
	if c.JID != "" {
		if domain != "" && !strings.EqualFold(domain, m.jid.Domainpart()) {
			return cfg, badRequest("module %q logs in on %s: the domain parameter cannot change it", m.name, m.jid.Domainpart())
		}
		cfg.Credentials = auth.Credentials{Username: m.jid.String(), Password: auth.NewSecret(secret)}
		return cfg, nil
	}
	cfg.Domain = domain
	cfg.Token = auth.StaticToken(secret)
	return cfg, nil
}

// failedConditions returns the fail_if conditions that hold for r, as
// condition name and the value that made it hold.
func (m *module) failedConditions(r *probeResult) [][2]string {
	var out [][2]string
	a := r.attempt
	if a.Offered.Mechanisms == nil && !a.Offered.SASL2 {
		return nil // the features never came: nothing to judge
	}
	for _, mech := range m.FailIfSASLMechanismOffered {
		if a.Offered.MechanismOffered(mech) {
			out = append(out, [2]string{"fail_if_sasl_mechanism_offered", mech})
		}
	}
	for _, mech := range m.FailIfSASLMechanismNotOffered {
		if !a.Offered.MechanismOffered(mech) {
			out = append(out, [2]string{"fail_if_sasl_mechanism_not_offered", mech})
		}
	}
	if m.FailIfSASL2NotOffered && !a.Offered.SASL2 {
		out = append(out, [2]string{"fail_if_sasl2_not_offered", ""})
	}
	if m.FailIfStreamManagementNotOffered && r.connected() && !a.Offered.StreamManagement {
		out = append(out, [2]string{"fail_if_stream_management_not_offered", ""})
	}
	if m.FailIfNotTLS && a.TLS.Version == 0 {
		out = append(out, [2]string{"fail_if_not_tls", ""})
	}
	return out
}
