package servertest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Stop's wait between SIGTERM and SIGKILL when Options.StopGrace is zero.
const (
	defaultStopGrace  = 5 * time.Second
	ejabberdStopGrace = 15 * time.Second // the Erlang VM takes about 3 s to stop
)

// process is one run of a server in the foreground. A reaper waits for it;
// done is closed once it has exited and err is set.
type process struct {
	cmd  *exec.Cmd
	out  *os.File      // the console output file, closed by the reaper
	done chan struct{} // closed when the server has exited and err is set
	err  error         // what cmd.Wait returned
}

// reaper waits for the processes of one Server, one after another, in a
// single goroutine that lives from Start to Stop. Restart thus starts no
// goroutine, and a leak check that begins after Start sees none of the
// harness's.
type reaper struct {
	queue    chan *process
	finished chan struct{} // closed when the goroutine has returned
}

func newReaper() *reaper {
	r := &reaper{queue: make(chan *process, 1), finished: make(chan struct{})}
	go r.run()
	return r
}

func (r *reaper) run() {
	defer close(r.finished)
	for p := range r.queue {
		p.err = p.cmd.Wait()
		p.out.Close()
		close(p.done)
	}
}

// close ends the goroutine once the last process has exited; the caller
// has stopped it.
func (r *reaper) close() {
	close(r.queue)
	<-r.finished
}

// launch starts cmd in its own process group, appending its standard output
// and error to outPath, and hands it to r.
func (r *reaper) launch(cmd *exec.Cmd, outPath string) (*process, error) {
	out, err := os.OpenFile(outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("servertest: start: %w", err)
	}
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("servertest: start %s: %w", cmd.Path, err)
	}
	p := &process{cmd: cmd, out: out, done: make(chan struct{})}
	r.queue <- p
	return p, nil
}

// exited reports whether the server has already exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to grace for the server to exit, then kills
// it. It returns once the process is gone.
func (p *process) stop(grace time.Duration) error {
	if p.exited() {
		if p.err != nil {
			return fmt.Errorf("servertest: stop: the server had already exited: %w", p.err)
		}
		return errors.New("servertest: stop: the server had already exited")
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !p.exited() {
		return fmt.Errorf("servertest: stop: %w", err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("servertest: stop: the server still ran %v after SIGTERM; killed", grace)
}
