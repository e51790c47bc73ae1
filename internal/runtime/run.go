package runtime

import (
	"context"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"os"
	"os/signal"
	"runtime/debug"

	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/console"
	"github.com/unha/unha/internal/nsenter"
)

// Run is `run`: create and start in one go. In the foreground it forwards
// signals to init, proxies the terminal when it owns it, reaps, deletes the
// container (running poststop hooks) unless keep, and returns init's exit status in the
// shell's convention (128+N for a death by signal N).
func (r *Runtime) Run(o CreateOpts, detach, keep bool) (int, error) {
	o.Foreground = !detach
	if !detach {
		// Init may be a grandchild (the nsenter constructor forks for a
		// pid namespace): as subreaper we still reap it and its orphans.
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return -1, os.NewSyscallError("prctl PR_SET_CHILD_SUBREAPER", err)
		}
	}
	// Signals arriving between create and wait are queued, not lost.
	sigs := make(chan os.Signal, 64)
	if !detach {
		signal.Notify(sigs)
		defer signal.Stop(sigs)
	}
	c, err := r.Create(o)
	if err != nil {
		return -1, err
	}
	nsenter.T("created")
	if err := r.Start(o.ID); err != nil {
		_ = r.Delete(o.ID, true)
		return -1, err
	}
	if detach {
		return 0, nil
	}
	done := make(chan struct{})
	if c.Pty != nil {
		go func() {
			_ = console.Proxy(context.Background(), c.Pty, os.Stdin, os.Stdout)
			close(done)
		}()
	} else {
		close(done)
	}
	nsenter.T("started")
	status := r.waitInit(c.State.Pid, sigs)
	nsenter.T("waited")
	if c.Pty != nil {
		<-done
		c.Pty.Close()
	}
	if !keep {
		if err := r.Delete(o.ID, true); err != nil {
			r.Log.Warn("delete after run", "err", err)
		}
		nsenter.T("deleted")
	}
	return status, nil
}

// waitInit reaps children until init exits, forwarding every signal but
// SIGCHLD (and the terminal's SIGWINCH, which the pty proxy relays) to it.
func (r *Runtime) waitInit(pid int, sigs chan os.Signal) int {
	// The runtime may now wait for days: collect garbage again (main
	// turns the collector off for the short-lived verbs).
	debug.SetGCPercent(100)
	exited := make(chan int, 1)
	go func() {
		for {
			var ws unix.WaitStatus
			wpid, err := unix.Wait4(-1, &ws, 0, nil)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				exited <- 255
				return
			}
			if wpid == pid {
				switch {
				case ws.Exited():
					exited <- ws.ExitStatus()
				case ws.Signaled():
					exited <- 128 + int(ws.Signal())
				default:
					continue
				}
				return
			}
		}
	}()
	for {
		select {
		case st := <-exited:
			return st
		case s := <-sigs:
			sig, ok := s.(unix.Signal)
			if !ok || sig == unix.SIGCHLD || sig == unix.SIGWINCH || sig == unix.SIGURG || sig == unix.SIGPIPE {
				continue
			}
			_ = unix.Kill(pid, sig)
		}
	}
}

// withCallerSize gives a pty the runtime proxies the caller's window size
// before the process starts (when the config sets none), or a program that
// reads it once at startup (top, vim) sees 0x0 until the first resize.
func withCallerSize(p *specs.Process) *specs.Process {
	if p.ConsoleSize != nil {
		return p
	}
	for _, f := range []*os.File{os.Stdin, os.Stdout} {
		if w, h, err := console.GetSize(f); err == nil && (w > 0 || h > 0) {
			cp := *p
			cp.ConsoleSize = &specs.Box{Width: w, Height: h}
			return &cp
		}
	}
	return p
}
