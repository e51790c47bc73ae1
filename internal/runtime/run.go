package runtime

import (
	"context"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/console"
)

// Run is `run`: create and start in one go. In the foreground it forwards
// signals to init, proxies the terminal when it owns it, reaps, deletes the
// container (running poststop hooks) unless keep, and returns init's exit status in the
// shell's convention (128+N for a death by signal N). In the foreground the
// signal relay stays installed when Run returns: the caller is the CLI,
// which exits right after.
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
	var relay *signalRelay
	if !detach {
		relay = newSignalRelay()
		o.beforeReserve = relay.waitFatal
		o.afterSpawn = relay.spawned
		defer relay.spawned()
	}
	o.keepLock = true
	c, err := r.Create(o)
	if err != nil {
		return -1, err
	}
	if relay != nil {
		// Every signal is relayed before the container's process runs.
		relay.waitAll()
	}
	err = r.startRefreshed(c.State)
	c.lock.Unlock()
	if err != nil {
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
	status := r.waitInit(c.State.Pid, relay.sigs)
	if c.Pty != nil {
		<-done
		c.Pty.Close()
	}
	if !keep {
		if err := r.deleteAfterRun(c); err != nil {
			r.Log.Warn("delete after run", "err", err)
		}
	}
	return status, nil
}

// signalRelay is the foreground runtime's signal relay (run, exec),
// installed off the critical path: signal.Notify costs a round trip to the
// Go runtime's signal-mask thread per signal, 50 to 80 µs here, 2 to 3 ms
// for all of them. First, while the caller loads the spec or state, the
// signals that would end the runtime were they not relayed (the caller
// waits for those, waitFatal, before it makes anything they would leave
// behind); the rest once the container's process is spawned and the
// runtime mostly waits for it (waitAll). Until then the Go runtime ignores
// them (runtime/sigtab_linux_generic.go), but for SIGTSTP, SIGTTIN and
// SIGTTOU, which stop the runtime as they stop any program: that leaves
// nothing behind, and they are relayed from before the process runs. There is no
// signal.Stop at the end (it costs as long again, 1 to 2.5 ms here): the
// caller is the CLI, which exits right after.
type signalRelay struct {
	sigs       chan os.Signal
	fatal, all chan struct{}
	spawn      chan struct{}
	once       sync.Once
}

func newSignalRelay() *signalRelay {
	r := &signalRelay{
		sigs:  make(chan os.Signal, 64),
		fatal: make(chan struct{}), all: make(chan struct{}), spawn: make(chan struct{}),
	}
	go func() {
		signal.Notify(r.sigs, unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGABRT, unix.SIGTERM, unix.SIGPIPE)
		close(r.fatal)
		<-r.spawn
		signal.Notify(r.sigs)
		close(r.all)
	}()
	return r
}

func (r *signalRelay) waitFatal() { <-r.fatal }

// spawned lets the relay take the remaining signals; idempotent.
func (r *signalRelay) spawned() { r.once.Do(func() { close(r.spawn) }) }

// waitAll returns once every signal is relayed.
func (r *signalRelay) waitAll() {
	r.spawned()
	<-r.all
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
