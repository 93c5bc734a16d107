package servertest

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

// ErrNotInstalled is returned (wrapped, with how to install it) by Start
// when the server of the asked kind is not installed.
var ErrNotInstalled = errors.New("servertest: server not installed")

// defaultStartTimeout bounds Start and Restart when ctx has no deadline.
const defaultStartTimeout = 30 * time.Second

// startAttempts is how often Start picks new ports when one was taken.
const startAttempts = 3

// readyPoll is how often Start checks whether the server answers.
const readyPoll = 50 * time.Millisecond

// errPortTaken reports that the server could not bind one of its ports.
var errPortTaken = errors.New("servertest: a port was taken before the server could bind it")

// Server is a running server started by Start. Its exported fields are set
// by Start and never change; its methods are safe for concurrent use.
type Server struct {
	Kind    Kind   // which server of the matrix
	Version string // the version it reports, e.g. "13.0.1"

	Domain     string // "localhost": password accounts
	AnonDomain string // "anon.localhost": SASL ANONYMOUS only
	MUCDomain  string // "conference.localhost": a MUC service

	C2SPort, HTTPPort, HTTPSPort int // loopback ports picked at start

	Dir    string // temporary directory: configuration, data, certificates, modules, logs
	CAFile string // PEM of the CA that signs the HTTPS certificate (SANs localhost, 127.0.0.1)
	// CAExpiry is the CA's NotAfter, the earliest expiry of the chain
	// the server presents (its own certificate expires at the same time).
	CAExpiry time.Time

	flavor    flavor
	grace     time.Duration // Stop's wait between SIGTERM and SIGKILL
	logFile   string        // the server's own log
	outFile   string        // its console output
	instance  string        // random id the ready endpoint answers with
	pool      *x509.CertPool
	transport *http.Transport
	logTo     io.Writer
	reaper    *reaper

	mu      sync.Mutex
	proc    *process // nil once stopped
	stopped bool
}

// flavor is what differs between kinds of servers.
type flavor interface {
	// configure writes the configuration for the server's current ports
	// into its Dir.
	configure(s *Server, o *Options) error
	// command returns the command that runs the configured server in the
	// foreground.
	command(s *Server) *exec.Cmd
	// logProblem reports a startup failure the log shows while the server
	// still runs: errPortTaken, or another error.
	logProblem(log []byte) error
	// addUser creates the account user@Domain with password, or sets its
	// password when it exists.
	addUser(ctx context.Context, s *Server, user, password string) error
}

// Start writes a configuration for kind and opts into a new temporary
// directory and runs the server with it, in the foreground. It returns once
// the c2s, HTTP and HTTPS ports accept connections and answer as this
// server, bounded by ctx (30 s when ctx has no deadline). On failure it
// returns an error holding the tail of the server's log, copies the whole
// log to opts.Log, and removes the directory. It returns an error wrapping
// ErrNotInstalled when the server is not installed.
func Start(ctx context.Context, kind Kind, opts *Options) (*Server, error) {
	o, err := opts.withDefaults(kind)
	if err != nil {
		return nil, err
	}
	fl, version, err := find(kind)
	if err != nil {
		return nil, err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()

	dir, err := os.MkdirTemp("", "xmppconn-"+string(kind)+"-")
	if err != nil {
		return nil, fmt.Errorf("servertest: start: %w", err)
	}
	s := &Server{
		Kind:       kind,
		Version:    version,
		Domain:     "localhost",
		AnonDomain: "anon.localhost",
		MUCDomain:  "conference.localhost",
		Dir:        dir,
		flavor:     fl,
		grace:      o.StopGrace,
		logFile:    filepath.Join(dir, "server.log"),
		outFile:    filepath.Join(dir, "console.log"),
		logTo:      o.Log,
	}
	if err := s.prepare(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.reaper = newReaper()
	for attempt := 1; ; attempt++ {
		err = s.startOnFreePorts(ctx, &o)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, errPortTaken) || attempt == startAttempts {
			break
		}
		os.Remove(s.logFile)
		os.Remove(s.outFile)
	}
	s.reaper.close()
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

// prepare creates the directories, the instance id and the certificates.
func (s *Server) prepare() error {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return fmt.Errorf("servertest: start: %w", err)
	}
	s.instance = hex.EncodeToString(id)
	certs := filepath.Join(s.Dir, "certs")
	for _, d := range []string{certs, filepath.Join(s.Dir, "data")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("servertest: start: %w", err)
		}
	}
	files, ca, err := writeCerts(certs, time.Now())
	if err != nil {
		return err
	}
	s.CAFile, s.CAExpiry = files.CAFile, ca.NotAfter
	s.pool = x509.NewCertPool()
	s.pool.AddCert(ca)
	s.transport = http.DefaultTransport.(*http.Transport).Clone()
	s.transport.Proxy = nil
	s.transport.TLSClientConfig = s.TLSConfig()
	return nil
}

// startOnFreePorts picks ports, writes the configuration and starts the
// server.
func (s *Server) startOnFreePorts(ctx context.Context, o *Options) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	s.C2SPort, s.HTTPPort, s.HTTPSPort = ports[0], ports[1], ports[2]
	if err := s.flavor.configure(s, o); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run(ctx)
}

// run starts the server and waits until it is ready. s.mu is held.
func (s *Server) run(ctx context.Context) error {
	p, err := s.reaper.launch(s.flavor.command(s), s.outFile)
	if err != nil {
		return err
	}
	if err := s.waitReady(ctx, p); err != nil {
		_ = p.stop(s.grace)
		return err
	}
	s.proc = p
	return nil
}

// waitReady polls until the server answers on all three ports, it exits,
// its log reports a fatal problem, or ctx ends.
func (s *Server) waitReady(ctx context.Context, p *process) error {
	tick := time.NewTicker(readyPoll)
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
			if err := s.logProblem(); err != nil {
				return err
			}
			return fmt.Errorf("servertest: start %s: the server exited: %v", s.Kind, p.err)
		case <-ctx.Done():
			return fmt.Errorf("servertest: start %s: waiting for ports %d, %d, %d: %w",
				s.Kind, s.C2SPort, s.HTTPPort, s.HTTPSPort, ctx.Err())
		case <-tick.C:
		}
	}
}

// logProblem reports the startup failures the server logs.
func (s *Server) logProblem() error {
	var all []byte
	for _, path := range []string{s.logFile, s.outFile} {
		data, err := os.ReadFile(path)
		if err == nil {
			all = append(all, data...)
		}
	}
	return s.flavor.logProblem(all)
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
		body, status, err := s.do(ctx, http.MethodGet, u, nil, "")
		if err != nil || status != http.StatusOK || body != s.instance {
			return false
		}
	}
	return true
}

// Stop ends the server (SIGTERM, then SIGKILL after Options.StopGrace) and
// removes Dir. Calling Stop again does nothing.
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
	s.reaper.close()
	if err := os.RemoveAll(s.Dir); err != nil {
		errs = append(errs, fmt.Errorf("servertest: stop: %w", err))
	}
	return errors.Join(errs...)
}

// Restart stops the server and starts it again with the same configuration,
// data and ports, so that every session is gone and no stream can be
// resumed. Every session first receives the system-shutdown stream error, as
// from the server's own shutdown, which can lose that error when a
// connection closes during it. It is bounded by ctx like Start.
func (s *Server) Restart(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if _, err := s.KillSessions(ctx, "", "system-shutdown"); err != nil {
		return fmt.Errorf("servertest: restart: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("servertest: restart: server is stopped")
	}
	var stopErr error
	s.transport.CloseIdleConnections()
	if s.proc != nil {
		stopErr = s.proc.stop(s.grace)
		s.proc = nil
	}
	if err := s.run(ctx); err != nil {
		return errors.Join(stopErr, fmt.Errorf("servertest: restart: %w\n%s", err, s.logTail(40)))
	}
	return stopErr
}

// String returns the kind and version, e.g. "prosody13 (13.0.1)".
func (s *Server) String() string { return fmt.Sprintf("%s (%s)", s.Kind, s.Version) }

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

// LogTail returns the last n lines of the server's log (and of its console
// output), for a test's failure message.
func (s *Server) LogTail(n int) string { return s.logTail(n) }

func (s *Server) addr(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// logTail returns the last n lines of the log file and of the console output.
func (s *Server) logTail(n int) string {
	var b strings.Builder
	for _, f := range []struct{ name, path string }{{"log", s.logFile}, {"console", s.outFile}} {
		data, err := os.ReadFile(f.path)
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		fmt.Fprintf(&b, "--- %s %s (last %d lines) ---\n%s\n", s.Kind, f.name, len(lines), strings.Join(lines, "\n"))
	}
	if b.Len() == 0 {
		return "(" + string(s.Kind) + " wrote no log)"
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
