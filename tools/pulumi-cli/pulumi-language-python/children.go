package main

import (
	"errors"
	"os"
	"os/exec"
	"sync"
	"time"
)

// How long a program or plugin has to stop after SIGINT before it is killed. The
// program's own in-flight registrations finish within it; a provider the engine started
// is not ours to stop (see pulumi_batchip/_engine_watch.py for our dynamic provider).
const childGrace = 10 * time.Second

// children are the processes the host started and has not yet seen exit.
type children struct {
	mu      sync.Mutex
	running map[*exec.Cmd]struct{}
	stopped bool // after Cancel or shutdown nothing new starts
}

func newChildren() *children {
	return &children{running: map[*exec.Cmd]struct{}{}}
}

// prepare makes cmd stop politely when its context ends: SIGINT first, and Go's own
// kill only after the grace period.
func prepare(cmd *exec.Cmd) {
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = childGrace
}

// errStopped: the host was cancelled or is shutting down.
var errStopped = errors.New("the language host was cancelled: not starting anything new")

// run starts cmd, tracks it until it exits, and returns its exit error.
func (c *children) run(cmd *exec.Cmd) error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return errStopped
	}
	if err := cmd.Start(); err != nil {
		c.mu.Unlock()
		return err
	}
	c.running[cmd] = struct{}{}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.running, cmd)
		c.mu.Unlock()
	}()
	return cmd.Wait()
}

// stopAll sends SIGINT to every running child and SIGKILL to those still running
// after the grace period; from then on run refuses to start anything.
func (c *children) stopAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	for cmd := range c.running {
		_ = cmd.Process.Signal(os.Interrupt)
		proc := cmd.Process
		time.AfterFunc(childGrace, func() { _ = proc.Kill() })
	}
}
