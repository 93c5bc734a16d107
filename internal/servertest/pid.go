package servertest

// PID returns the process id of the running server, or 0 when it is
// stopped. A benchmark reads the server's own cost from it
// (/proc/PID/stat); Restart changes it.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || s.proc.exited() {
		return 0
	}
	return s.proc.cmd.Process.Pid
}
