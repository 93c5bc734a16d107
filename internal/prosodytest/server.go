package prosodytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNotInstalled is returned by Start when no prosody binary is on PATH.
var ErrNotInstalled = errors.New("prosodytest: prosody is not installed")

// defaultStartTimeout bounds Start and Restart when ctx has no deadline.
const defaultStartTimeout = 30 * time.Second

// startAttempts is how often Start picks new ports when one was taken.
const startAttempts = 3

// errPortTaken reports that prosody could not bind one of its ports.
var errPortTaken = errors.New("prosodytest: a port was taken before prosody could bind it")

// Server is a running Prosody started by Start. Its exported fields are set by
// Start and never change; its methods are safe for concurrent use.
type Server struct {
	Domain     string // "localhost": password accounts
	AnonDomain string // "anon.localhost": authentication = "anonymous"
	MUCDomain  string // "conference.localhost": a MUC component

	C2SPort, HTTPPort, HTTPSPort int // loopback ports picked at start

	Dir    string // temporary directory: config, data, certs, modules, log
	CAFile string // PEM of the CA that signs the HTTPS certificate (SANs localhost, 127.0.0.1)

	bin       string
	grace     time.Duration // Stop's wait between SIGTERM and SIGKILL
	config    string
	logFile   string
	outFile   string
	instance  string
	pool      *x509.CertPool
	transport *http.Transport
	logTo     io.Writer

	mu      sync.Mutex
	proc    *process // nil once stopped
	stopped bool
}

// Start writes a configuration for opts into a new temporary directory and
// runs `prosody --config FILE -F` with it. It returns once the c2s, HTTP and
// HTTPS ports accept connections and answer as this server, bounded by ctx
// (30 s when ctx has no deadline). On failure it returns an error holding the
// tail of prosody's log, copies the whole log to opts.Log, and removes the
// directory. It returns ErrNotInstalled when prosody is not on PATH.
func Start(ctx context.Context, opts *Options) (*Server, error) {
	o := opts.withDefaults()
	bin, err := exec.LookPath("prosody")
	if err != nil {
		return nil, ErrNotInstalled
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()

	dir, err := os.MkdirTemp("", "xmppconn-prosody-")
	if err != nil {
		return nil, fmt.Errorf("prosodytest: start: %w", err)
	}
	s := &Server{
		Domain:     "localhost",
		AnonDomain: "anon.localhost",
		MUCDomain:  "conference.localhost",
		Dir:        dir,
		bin:        bin,
		grace:      o.StopGrace,
		config:     filepath.Join(dir, "prosody.cfg.lua"),
		logFile:    filepath.Join(dir, "prosody.log"),
		outFile:    filepath.Join(dir, "prosody.out"),
		logTo:      o.Log,
	}
	if err := s.prepare(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		err = s.startOnFreePorts(ctx, o)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortTaken) || attempt == startAttempts {
			break
		}
		os.Remove(s.logFile)
		os.Remove(s.outFile)
	}
	err = fmt.Errorf("%w\n%s", err, s.logTail(40))
	s.copyLog()
	s.transport.CloseIdleConnections()
	os.RemoveAll(dir)
	return nil, err
}

// withDefaultTimeout bounds ctx by defaultStartTimeout unless it has a deadline.
func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, defaultStartTimeout)
}

// prepare writes everything but the configuration: certificates and modules.
func (s *Server) prepare() error {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return fmt.Errorf("prosodytest: start: %w", err)
	}
	s.instance = hex.EncodeToString(id)

	certs := filepath.Join(s.Dir, "certs")
	for _, d := range []string{certs, filepath.Join(s.Dir, "data"), filepath.Join(s.Dir, "modules")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("prosodytest: start: %w", err)
		}
	}
	files, pool, err := writeCerts(certs, time.Now())
	if err != nil {
		return err
	}
	s.CAFile = files.CAFile
	s.pool = pool
	s.transport = http.DefaultTransport.(*http.Transport).Clone()
	s.transport.Proxy = nil
	s.transport.TLSClientConfig = s.TLSConfig()
	return writeModules(filepath.Join(s.Dir, "modules"))
}

// startOnFreePorts picks ports, renders the configuration and starts prosody.
func (s *Server) startOnFreePorts(ctx context.Context, o Options) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	s.C2SPort, s.HTTPPort, s.HTTPSPort = ports[0], ports[1], ports[2]
	level := "info"
	if os.Getenv("XMPPCONN_PROSODY_DEBUG") == "1" {
		level = "debug"
	}
	certs := filepath.Join(s.Dir, "certs")
	err = renderConfig(s.config, configData{
		PIDFile:           filepath.Join(s.Dir, "prosody.pid"),
		DataDir:           filepath.Join(s.Dir, "data"),
		ModulesDir:        filepath.Join(s.Dir, "modules"),
		InstallerDir:      filepath.Join(s.Dir, "custom_plugins"),
		CertsDir:          certs,
		LogFile:           s.logFile,
		LogLevel:          level,
		CertFile:          filepath.Join(certs, "localhost.crt"),
		KeyFile:           filepath.Join(certs, "localhost.key"),
		C2SPort:           s.C2SPort,
		HTTPPort:          s.HTTPPort,
		HTTPSPort:         s.HTTPSPort,
		HibernationTime:   o.HibernationTime,
		BOSHMaxInactivity: o.BOSHMaxInactivity,
		Modules:           o.Modules,
		ExtraGlobal:       o.ExtraGlobal,
		ExtraHost:         o.ExtraHost,
		ExtraMUC:          o.ExtraMUC,
		ExtraSections:     o.ExtraSections,
		Instance:          s.instance,
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run(ctx)
}

// run starts prosody and waits until it is ready. s.mu is held.
func (s *Server) run(ctx context.Context) error {
	p, err := launch(s.bin, s.config, s.Dir, s.outFile)
	if err != nil {
		return err
	}
	if err := s.waitReady(ctx, p); err != nil {
		_ = p.stop(stopGrace)
		return err
	}
	s.proc = p
	return nil
}

// waitReady polls until prosody answers on all three ports, it exits, its log
// reports a fatal problem, or ctx ends.
func (s *Server) waitReady(ctx context.Context, p *process) error {
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := s.logProblem(); err != nil {
			return err
		}
		if s.answers(ctx) {
			// A module may fail to load after the ports opened.
			return s.logProblem()
		}
		select {
		case <-p.done:
			return fmt.Errorf("prosodytest: start: prosody exited: %v", p.err)
		case <-ctx.Done():
			return fmt.Errorf("prosodytest: start: waiting for ports %d, %d, %d: %w",
				s.C2SPort, s.HTTPPort, s.HTTPSPort, ctx.Err())
		case <-tick.C:
		}
	}
}

// logProblem reports the startup failures prosody logs without exiting.
func (s *Server) logProblem() error {
	data, err := os.ReadFile(s.logFile)
	if err != nil {
		return nil // not written yet
	}
	switch {
	case bytes.Contains(data, []byte("Failed to open server port")):
		return errPortTaken
	case bytes.Contains(data, []byte("Unable to load module")),
		bytes.Contains(data, []byte("Error initializing module")):
		return errors.New("prosodytest: start: a module failed to load")
	}
	return nil
}

// answers reports whether the c2s port accepts and the HTTP and HTTPS ports
// answer with this server's instance id.
func (s *Server) answers(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr(s.C2SPort))
	if err != nil {
		return false
	}
	conn.Close()
	for _, u := range []string{s.controlURL("ready"), "https://" + s.addr(s.HTTPSPort) + "/xmppconn-test/ready"} {
		body, status, err := s.do(ctx, http.MethodGet, u, nil)
		if err != nil || status != http.StatusOK || body != s.instance {
			return false
		}
	}
	return true
}

// Stop ends prosody (SIGTERM, then SIGKILL after Options.StopGrace) and
// removes Dir.
// Calling Stop again does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	var errs []error
	s.transport.CloseIdleConnections()
	if s.proc != nil {
		errs = append(errs, s.proc.stop(s.grace))
		s.proc = nil
	}
	if err := os.RemoveAll(s.Dir); err != nil {
		errs = append(errs, fmt.Errorf("prosodytest: stop: %w", err))
	}
	return errors.Join(errs...)
}

// Restart stops prosody and starts it again with the same configuration, data
// and ports, so that every session is gone and no stream can be resumed.
// Every bound session first receives the system-shutdown stream error, as
// from Prosody's own shutdown, which can lose that error when a connection
// closes during it. It is bounded by ctx like Start.
func (s *Server) Restart(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if _, err := s.KillSessions(ctx, "", "system-shutdown"); err != nil {
		return fmt.Errorf("prosodytest: restart: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("prosodytest: restart: server is stopped")
	}
	var stopErr error
	s.transport.CloseIdleConnections()
	if s.proc != nil {
		stopErr = s.proc.stop(stopGrace)
		s.proc = nil
	}
	if err := s.run(ctx); err != nil {
		return errors.Join(stopErr, fmt.Errorf("prosodytest: restart: %w\n%s", err, s.logTail(40)))
	}
	return stopErr
}

// WebSocketURL returns ws://127.0.0.1:HTTPPort/xmpp-websocket, or the wss://
// URL on HTTPSPort when secure.
func (s *Server) WebSocketURL(secure bool) string {
	if secure {
		return "wss://" + s.addr(s.HTTPSPort) + "/xmpp-websocket"
	}
	return "ws://" + s.addr(s.HTTPPort) + "/xmpp-websocket"
}

// BOSHURL returns http://127.0.0.1:HTTPPort/http-bind, or the https:// URL on
// HTTPSPort when secure.
func (s *Server) BOSHURL(secure bool) string {
	if secure {
		return "https://" + s.addr(s.HTTPSPort) + "/http-bind"
	}
	return "http://" + s.addr(s.HTTPPort) + "/http-bind"
}

// C2SAddr returns the host:port of the plain c2s listener (no TLS offered).
func (s *Server) C2SAddr() string { return s.addr(s.C2SPort) }

// RootCAs returns a pool holding only the CA generated at start.
func (s *Server) RootCAs() *x509.CertPool { return s.pool.Clone() }

// TLSConfig returns a TLS configuration that trusts the generated CA, with
// certificate verification on.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.RootCAs(), MinVersion: tls.VersionTLS12}
}

// HTTPClient returns a client that trusts the generated CA (verification on).
// Clients returned share one transport, whose idle connections Stop closes.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Transport: s.transport}
}

// LogTail returns the last n lines of prosody's log (and of its console
// output), for a test's failure message.
func (s *Server) LogTail(n int) string { return s.logTail(n) }

func (s *Server) addr(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// logTail returns the last n lines of the log file and of the console output.
func (s *Server) logTail(n int) string {
	var b strings.Builder
	for _, f := range []struct{ name, path string }{{"prosody log", s.logFile}, {"prosody console", s.outFile}} {
		data, err := os.ReadFile(f.path)
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "--- %s (last %d lines) ---\n%s\n", f.name, len(lines), strings.Join(lines, "\n"))
	}
	if b.Len() == 0 {
		return "(prosody wrote no log)"
	}
	return b.String()
}

// copyLog copies the whole log to the Options.Log writer, if any.
func (s *Server) copyLog() {
	if s.logTo == nil {
		return
	}
	for _, path := range []string{s.logFile, s.outFile} {
		if data, err := os.ReadFile(path); err == nil {
			fmt.Fprintf(s.logTo, "--- %s ---\n", path)
			s.logTo.Write(data)
		}
	}
}
