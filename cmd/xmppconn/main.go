package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

const usage = `usage: xmppconn <command> [flags] URL|DOMAIN

commands:
  probe     connect once (or --count times), print the lifecycle events and
            the phases of the attempt, disconnect
  watch     connect and stay connected, printing every event until interrupted
  discover  list the endpoints a domain publishes (XEP-0156 host-meta)
  exporter  serve Prometheus metrics of probes (blackbox_exporter style)
  version   print the version (also --version)
  help      show this help

Run "xmppconn COMMAND -h" for the flags of a command.
`

func main() {
	// SIGTERM is how systemd and Kubernetes stop a service: it closes as
	// cleanly as Ctrl-C.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run is the whole command, with its environment passed in for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "watch":
		return watch(ctx, args[1:], stdout, stderr, getenv)
	case "probe":
		return probe(ctx, args[1:], stdout, stderr, getenv)
	case "discover":
		return discover(ctx, args[1:], stdout, stderr, getenv)
	case "exporter":
		return exporterCmd(ctx, args[1:], stdout, stderr, getenv)
	case "version", "--version":
		fmt.Fprintln(stdout, "xmppconn "+version())
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "xmppconn: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}
