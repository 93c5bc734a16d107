package prosodytest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// stopGrace is how long Stop waits after SIGTERM before it sends SIGKILL.
const stopGrace = 5 * time.Second

// process is one run of `prosody -F`. Its waiter goroutine is owned by the
// process: stop (or the process ending on its own) ends it, and done is closed
// once it has returned.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when prosody has exited and err is set
	err  error         // what cmd.Wait returned
}

// launch starts prosody in the foreground with the given configuration,
// appending its standard output and error to outPath.
func launch(bin, config, dir, outPath string) (*process, error) {
	out, err := os.OpenFile(outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("prosodytest: start: %w", err)
	}
	cmd := exec.Command(bin, "--config", config, "-F")
	cmd.Dir = dir
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("prosodytest: start: %w", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether prosody has already exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits up to grace for prosody to exit, then kills it.
// It returns once the process is gone.
func (p *process) stop(grace time.Duration) error {
	if p.exited() {
		if p.err != nil {
			return fmt.Errorf("prosodytest: stop: prosody had already exited: %w", p.err)
		}
		return errors.New("prosodytest: stop: prosody had already exited")
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !p.exited() {
		return fmt.Errorf("prosodytest: stop: %w", err)
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
	return fmt.Errorf("prosodytest: stop: prosody still running %v after SIGTERM; killed", grace)
}
