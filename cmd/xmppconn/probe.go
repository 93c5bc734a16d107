package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/xmppconn/xmppconn/auth"
	"github.com/xmppconn/xmppconn/transport"
)

const probeAbout = `URL is ws:// or wss:// (WebSocket) or http:// or https:// (BOSH); a DOMAIN
(example.com, or host:port) is looked up in its host-meta (XEP-0156).

probe connects once, prints every event, measures one XEP-0199 ping round
trip, disconnects, and prints the phases of the attempt (lookup, TCP, TLS,
upgrade or BOSH session, stream open, each SASL step, restart, bind, the
<enable/> round trip), what the server offered and the mechanism used. With
--count N (N > 1) it probes N times, --concurrency at once, each probe on a
cold connection, and prints the percentiles of each phase and the failures
by error type; with --json one probe.result line per probe and a last
probe.summary line.`

// repeatFlags are probe's flags for repeated probes.
type repeatFlags struct {
	count       int
	concurrency int
	interval    time.Duration
}

func (f *repeatFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.count, "count", 1, "probe this many times and print percentiles per phase")
	fs.IntVar(&f.concurrency, "concurrency", 1, "with --count: probes at once")
	fs.DurationVar(&f.interval, "interval", 0, "with --count: wait this long between the starts of two probes")
}

// check refuses values that make no sense (flags not registered are zero).
func (f *repeatFlags) check() error {
	switch {
	case f.count < 0 || f.concurrency < 0:
		return errors.New("--count and --concurrency must be at least 1")
	case f.interval < 0:
		return errors.New("--interval must not be negative")
	}
	f.count, f.concurrency = max(f.count, 1), max(f.concurrency, 1)
	f.concurrency = min(f.concurrency, f.count)
	return nil
}

// probe connects once (or --count times), prints what it measured and
// disconnects.
func probe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	c, code := newCommand("probe", probeAbout, args, stdout, stderr, getenv)
	if c == nil {
		return code
	}
	if c.repeat.count > 1 {
		return c.probeMany(ctx)
	}
	return c.probeOnce(ctx)
}

// probeOnce is one probe that prints every event as it comes, then the
// phases table (or the probe.result line).
func (c *command) probeOnce(ctx context.Context) int {
	run := newProbeRun(c.cfg)
	c.use(run.conn)
	code := exitOK
	err := c.connect(ctx)
	r := run.resultAfter(ctx, err)
	if err != nil {
		code = exitFailed
		run.closePool()
	} else if err := run.close(); err != nil {
		fmt.Fprintf(c.stderr, "xmppconn %s: disconnect: %v\n", c.name, err)
		code = exitFailed
	}
	c.flush()
	c.printResult(&r)
	return code
}

// printResult prints one probe's result: a probe.result line, or the table.
func (c *command) printResult(r *probeResult) {
	if c.flags.json {
		c.printer.printFields(eventProbeResult, resultFields(r))
		return
	}
	var b strings.Builder
	writeResultText(&b, r, time.Now())
	c.printer.printText(b.String())
}

// probeMany runs --count probes, --concurrency at once, starting one every
// --interval at most; an interrupt stops starting new ones. It prints each
// result (text: the failures only), then the summary, and a progress line
// on a terminal.
func (c *command) probeMany(ctx context.Context) int {
	// One FAST token store and one SCRAM key cache for all the probes: from
	// the second probe on, a server that offers FAST is logged into with a
	// token, and one that keeps its salt without PBKDF2 (each probe's
	// mechanism says which); --no-fast measures full logins.
	if !c.flags.noFast {
		c.cfg.SASL2.FAST.Store = auth.NewMemoryFASTStore()
		keys := auth.NewSCRAMKeyCache()
		keys.Hold()
		defer keys.Release()
		c.cfg.SCRAMKeys.Cache = keys
	} else {
		c.cfg.SASL2.FAST.Disabled, c.cfg.SCRAMKeys.Disabled = true, true
	}
	c.printer.start = time.Now()
	prog := newProgress(c.stderr, c.repeat.count)
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for i := 1; i <= c.repeat.count; i++ {
			if i > 1 && c.repeat.interval > 0 {
				t := time.NewTimer(c.repeat.interval)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return
				}
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	results := make(chan probeResult)
	var wg sync.WaitGroup
	for range c.repeat.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				prog.started()
				r, cut := c.probeOne(ctx, i)
				if cut {
					prog.finished(false, true)
					continue
				}
				results <- r
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	var sum summary
	certificate := false
	for r := range results {
		sum.add(&r)
		prog.finished(r.connected(), false)
		certificate = certificate || transport.Certificate(r.err)
		switch {
		case c.flags.json:
			prog.clear()
			c.printer.printFields(eventProbeResult, resultFields(&r))
		case !r.connected():
			prog.clear()
			c.printer.printText(fmt.Sprintf("probe %d:%s\n", r.index, failedText(*r.failure)))
		}
		prog.show()
	}
	prog.clear()
	if certificate {
		c.certificateHint()
	}
	if c.flags.json {
		c.printer.printFields(eventProbeSummary, sum.summaryFields(c.repeat.concurrency))
	} else {
		var b strings.Builder
		sum.writeText(&b, c.target, c.repeat.concurrency)
		c.printer.printText(b.String())
	}
	if sum.count == 0 || sum.connected < sum.count || ctx.Err() != nil {
		return exitFailed
	}
	return exitOK
}

// probeOne runs probe number i, bounded by --timeout; cut is true when the
// command was interrupted meanwhile (the result does not count).
func (c *command) probeOne(ctx context.Context, i int) (r probeResult, cut bool) {
	run := newProbeRun(c.cfg)
	pctx, cancel := context.WithTimeout(ctx, c.flags.timeout)
	r = run.connect(pctx)
	cancel()
	r.index = i
	if r.connected() {
		if err := run.close(); err != nil {
			fmt.Fprintf(c.stderr, "xmppconn %s: probe %d: disconnect: %v\n", c.name, i, err)
		}
	} else {
		// Disconnect a failed one too: it hands its FAST token back.
		_ = run.conn.Disconnect(context.Background())
		run.closePool()
	}
	return r, ctx.Err() != nil
}
