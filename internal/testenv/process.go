package testenv

import (
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// process is a started child process (the operator, kube-controller-manager) that tests and
// run-local wait for and stop.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}

	mu      sync.Mutex
	waitErr error
}

// startProcess starts cmd with its output in log (nil discards it) and watches for its exit.
// The process gets its own process group, so a terminal's Ctrl-C reaches only the parent, which
// stops its children in order; it is killed with the parent if the parent dies.
func startProcess(cmd *exec.Cmd, log io.Writer) (*process, error) {
	if log == nil {
		log = io.Discard
	}
	cmd.Stdout, cmd.Stderr = log, log
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if cmd.SysProcAttr != nil {
		attr.Credential = cmd.SysProcAttr.Credential // the user to run as, when the caller set one
	}
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// Done is closed when the process has exited.
func (p *process) Done() <-chan struct{} { return p.done }

// ExitErr is the process's exit error once Done is closed (nil for exit status 0).
func (p *process) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waitErr
}

// Pid is the process ID.
func (p *process) Pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM and, if the process has not exited within grace, SIGKILL to its process
// group. It waits for the exit.
func (p *process) stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}
