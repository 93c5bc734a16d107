package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/xmppconn/xmppconn/internal/servertest"
)

// idleClient opens sessions that stay idle until closed.
type idleClient struct {
	name    string
	connect func(s *servertest.Server) connectFunc
}

// idleResult is one measurement: Prosody's memory and CPU per session.
type idleResult struct {
	rss        float64       // bytes of Prosody's RSS per idle session
	connectCPU time.Duration // Prosody's CPU per connect (to the bound JID)
}

// runIdle is the idle family: for each client, on a fresh Prosody, it
// opens k sessions of the benchmark account (a resource each) one after
// the other and reads Prosody's RSS and CPU before and after; runs times,
// the clients interleaved. Prosody's cost of an idle session is (RSS with
// k sessions − RSS before) / k, and of a connect (CPU after − before) / k.
func runIdle(ctx context.Context, k, runs int, mech, only string) error {
	clients := []idleClient{
		{"xmppconn ws", func(s *servertest.Server) connectFunc { return ourConnect(s.WebSocketURL(false), s.Domain, mech) }},
		{"mellium ws", func(s *servertest.Server) connectFunc { return melliumWS(s.WebSocketURL(false), s.Domain, mech) }},
		{"xmppconn ws bare", func(s *servertest.Server) connectFunc {
			return ourBareConnect(s.WebSocketURL(false), s.Domain, mech)
		}},
	}
	if only != "" {
		clients = slices.DeleteFunc(clients, func(c idleClient) bool { return !strings.Contains(c.name, only) })
	}
	fmt.Printf("== idle sessions: Prosody's cost of %d idle sessions of one account, %s, fresh Prosody per measurement, %d runs interleaved\n",
		k, mech, runs)
	res := make([][]idleResult, len(clients))
	for run := 0; run < runs; run++ {
		for j := range clients {
			i := (run + j) % len(clients)
			r, err := idleOnce(ctx, clients[i], k)
			if err != nil {
				return fmt.Errorf("idle %s: %w", clients[i].name, err)
			}
			res[i] = append(res[i], r)
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "client (median of runs)\tProsody KiB/session\tProsody ms/connect\t")
	for i, c := range clients {
		fmt.Fprintf(tw, "%s\t%.1f\t%.2f\t\n", c.name,
			median(res[i], func(r idleResult) float64 { return r.rss / 1024 }),
			median(res[i], func(r idleResult) float64 { return us(r.connectCPU) / 1000 }))
	}
	tw.Flush()
	fmt.Println()
	return nil
}

// idleOnce measures k sessions of c on a Prosody of their own.
func idleOnce(ctx context.Context, c idleClient, k int) (idleResult, error) {
	s, err := servertest.Start(ctx, servertest.Prosody12, &servertest.Options{StopGrace: time.Minute, Prosody: servertest.ProsodyOptions{ExtraGlobal: prosodyDefaults}})
	if err != nil {
		return idleResult{}, err
	}
	defer s.Stop()
	if err := s.AddUser(ctx, user, password); err != nil {
		return idleResult{}, err
	}
	pid := s.PID()
	connect := c.connect(s)
	var closers []func() error
	closeAll := func() error {
		// In parallel: xmppconn's close waits for the server's </close>.
		var mu sync.Mutex
		var errs []error
		var wg sync.WaitGroup
		next := make(chan func() error)
		for range 16 {
			wg.Go(func() {
				for f := range next {
					if err := f(); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
					}
				}
			})
		}
		for _, f := range closers {
			next <- f
		}
		close(next)
		wg.Wait()
		return errors.Join(errs...)
	}
	// One session first, so that what the first login loads (the account,
	// the roster, modules' first-use state) is not counted.
	_, first, err := connect(ctx)
	if err != nil {
		return idleResult{}, err
	}
	closers = append(closers, first)
	waitServerIdle(pid, time.Second)
	before, err := readServer(pid)
	if err != nil {
		return idleResult{}, errors.Join(err, closeAll())
	}
	for range k {
		// The context also bounds the close: not one that ends here.
		_, closeFn, err := connect(ctx)
		if err != nil {
			return idleResult{}, errors.Join(err, closeAll())
		}
		closers = append(closers, closeFn)
	}
	waitServerIdle(pid, time.Second)
	after, err := readServer(pid)
	if err != nil {
		return idleResult{}, errors.Join(err, closeAll())
	}
	return idleResult{
		rss:        float64(after.rss-before.rss) / float64(k),
		connectCPU: (after.cpu - before.cpu) / time.Duration(k),
	}, closeAll()
}
