package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// passwordEnv carries the demo account's password to each probe.
const passwordEnv = "XMPPCONN_DEMO_PASSWORD"

// probeTimeout bounds one probe run.
const probeTimeout = 2 * time.Minute

func main() {
	plain := flag.Bool("plain", false, "probe ws:// and http:// instead of wss:// and https://")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: demo [-plain] PATH-TO-XMPPCONN")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, flag.Arg(0), !*plain, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		stop()
		os.Exit(1)
	}
}

// probe is one run of `xmppconn probe`.
type probe struct {
	name string // transport, for the header line
	url  string
}

// run starts Prosody, runs the probes and stops Prosody, whatever happens.
func run(ctx context.Context, bin string, secure bool, out io.Writer) (err error) {
	if _, err := exec.LookPath(bin); err != nil {
		return fmt.Errorf("find xmppconn binary: %w (run make build first)", err)
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	srv, err := servertest.Start(startCtx, servertest.Prosody12, &servertest.Options{Log: os.Stderr})
	cancel()
	if errors.Is(err, servertest.ErrNotInstalled) {
		return fmt.Errorf("%w: run make prosody (apt-get install prosody prosody-modules)", err)
	}
	if err != nil {
		return err
	}
	defer func() {
		if stopErr := srv.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
	}()

	password, err := randomPassword()
	if err != nil {
		return err
	}
	if err := srv.AddUser(ctx, "demo", password); err != nil {
		return err
	}

	probes := []probe{{"WebSocket", srv.WebSocketURL(secure)}, {"BOSH", srv.BOSHURL(secure)}}
	var failed []string
	for _, p := range probes {
		fmt.Fprintf(out, "=== xmppconn probe over %s: %s ===\n", p.name, p.url)
		if err := runProbe(ctx, bin, p.url, password, srv.CAFile, out); err != nil {
			fmt.Fprintf(out, "=== %s probe failed: %v ===\n", p.name, err)
			failed = append(failed, p.name)
		} else {
			fmt.Fprintf(out, "=== %s probe succeeded ===\n", p.name)
		}
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("probe failed over %s", strings.Join(failed, " and "))
	}
	return nil
}

// runProbe runs one probe with the password in the child's environment only,
// and the throwaway CA as the child's trust store (SSL_CERT_FILE, which Go's
// crypto/x509 reads on Unix), so TLS verification stays on.
func runProbe(ctx context.Context, bin, url, password, caFile string, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "probe",
		"--domain", "localhost",
		"--jid", "demo@localhost",
		"--password-env", passwordEnv,
		url)
	cmd.Env = append(withoutVars(os.Environ(), passwordEnv, "SSL_CERT_FILE", "SSL_CERT_DIR"),
		passwordEnv+"="+password,
		"SSL_CERT_FILE="+caFile)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	return cmd.Run()
}

// withoutVars returns env without the named variables.
func withoutVars(env []string, names ...string) []string {
	out := make([]string, 0, len(env))
next:
	for _, kv := range env {
		for _, name := range names {
			if strings.HasPrefix(kv, name+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// randomPassword returns 128 random bits, hex encoded.
func randomPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	return hex.EncodeToString(b), nil
}
