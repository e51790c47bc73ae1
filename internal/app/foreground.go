package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/ociexec"
)

// relayed are the signals a foreground unha passes on to the container's
// init, like `docker run --sig-proxy`. SIGWINCH resizes the pty instead;
// SIGPIPE is caught only so that a closed stdout gives EPIPE instead of
// killing unha with the container left behind.
var relayed = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGALRM, unix.SIGWINCH, unix.SIGPIPE,
}

type waitResult struct {
	ws  unix.WaitStatus
	err error
}

// runContainer is create, start, wait: the sequence a monitor process
// will run for detached containers too.
func (a *App) runContainer(ctx context.Context, c *Container, rtPath string, o RunOptions) (int, error) {
	bundle := a.store.bundle(c.ID)
	rt := a.runtime(rtPath, bundle)
	short := c.ShortID()

	// Registered before create: a signal that arrives while the container
	// is being set up is delivered once it runs, instead of killing unha
	// and orphaning it.
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, relayed...)
	defer signal.Stop(sigs)
	if err := becomeSubreaper(); err != nil {
		return 0, a.fail(c, rt, o.Remove, err)
	}

	opts := ociexec.CreateOpts{Bundle: bundle, PidFile: filepath.Join(bundle, "init.pid")}
	var stdio *pipes
	var console *consoleSocket
	if o.TTY {
		cs, err := newConsoleSocket()
		if err != nil {
			return 0, a.fail(c, rt, o.Remove, err)
		}
		defer cs.close()
		console = cs
		opts.ConsoleSocket = cs.path()
	} else {
		p, err := newPipes(o.Interactive)
		if err != nil {
			return 0, a.fail(c, rt, o.Remove, err)
		}
		stdio = p
		opts.IO = p.containerIO()
	}

	cctx, cancel := context.WithTimeout(ctx, createTimeout)
	err := rt.Create(cctx, c.ID, opts)
	cancel()
	if err != nil {
		var said string
		if stdio != nil {
			said = strings.TrimSpace(stdio.discard())
		}
		var oe *ociexec.Error
		if said != "" && errors.As(err, &oe) && oe.Msg == "" {
			oe.Msg = said
		}
		return 0, a.fail(c, rt, o.Remove, classifyStart(wrapRuntime("create container "+short, err)))
	}
	if stdio != nil {
		stdio.closeContainerEnds()
	}

	pid, err := a.initPid(rt, c.ID, opts.PidFile)
	if err != nil {
		if stdio != nil {
			stdio.discard()
		}
		return 0, a.fail(c, rt, o.Remove, err)
	}
	// Init now waits in its final cgroup: remember where OOM kills are
	// counted, to read the count once it has exited.
	mem, err := findMemoryCgroup(pid)
	if err != nil {
		a.log.Debug("no memory cgroup to watch for OOM kills", "err", err)
	}
	waited := make(chan waitResult, 1)
	go func() {
		ws, err := waitInit(pid)
		waited <- waitResult{ws, err}
	}()

	var tty *ttyProxy
	if console != nil {
		master, err := console.master(controlTimeout)
		if err == nil {
			tty, err = startTTY(master, a.cfg.Stdin, a.cfg.Stdout, o.Interactive)
			if err != nil {
				master.Close()
			}
		}
		if err != nil {
			return 0, a.abort(c, rt, o.Remove, pid, waited, err)
		}
		defer tty.restore()
	} else {
		stdio.start(a.cfg.Stdin, a.cfg.Stdout, a.cfg.Stderr)
	}

	sctx, cancel := context.WithTimeout(ctx, createTimeout)
	err = rt.Start(sctx, c.ID)
	cancel()
	if err != nil {
		err = classifyStart(wrapRuntime("start container "+short, err))
		if stdio != nil {
			stdio.finish(drainTimeout)
		}
		return 0, a.abort(c, rt, o.Remove, pid, waited, err)
	}
	now := time.Now().UTC()
	c.Started = &now
	if !o.Remove {
		a.saveRecord(c)
	}

	var res waitResult
wait:
	for {
		select {
		case s := <-sigs:
			switch s {
			case unix.SIGWINCH:
				if tty != nil {
					tty.resize()
				}
			case unix.SIGPIPE:
			default:
				a.relay(rt, c.ID, s.(syscall.Signal))
			}
		case res = <-waited:
			break wait
		}
	}
	if tty != nil {
		tty.finish(drainTimeout)
	} else {
		stdio.finish(drainTimeout)
	}
	if res.err != nil {
		// The runtime kept init to itself: its status is out of reach.
		return 0, a.fail(c, rt, o.Remove, res.err)
	}
	code := ExitStatus(res.ws)
	a.log.Debug("container exited", "id", c.ID, "status", code)
	// Before delete removes the cgroup and its counter.
	oom := oomReport(mem, code)
	// The container ran: its status is the answer even if clean-up
	// failed, which is reported on the side.
	if err := a.finishContainer(c, rt, o.Remove, code); err != nil {
		a.log.Warn("clean up container", "id", c.ID, "err", err)
	}
	if oom != nil {
		return code, oom
	}
	return code, nil
}

// oomReport is an *OOMError when the kernel OOM-killed anything in the
// container's memory cgroup, else nil.
func oomReport(mem *memoryCgroup, code int) *OOMError {
	if mem == nil {
		return nil
	}
	kills, limit, err := mem.oomKills()
	if err != nil || kills == 0 {
		return nil
	}
	return &OOMError{Status: code, Kills: kills, Limit: limit}
}

// initPid reads the pid file the runtime wrote, falling back to `state`.
func (a *App) initPid(rt *ociexec.Runtime, id, pidFile string) (int, error) {
	if data, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 0 {
			return pid, nil
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
	defer cancel()
	st, err := rt.State(ctx, id)
	if err != nil {
		return 0, wrapRuntime("state of container "+id[:12], err)
	}
	if st.Pid <= 0 {
		return 0, fmt.Errorf("container %s: the runtime reports no init pid", id[:12])
	}
	return st.Pid, nil
}

func (a *App) relay(rt *ociexec.Runtime, id string, sig syscall.Signal) {
	ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
	defer cancel()
	// The container may be exiting: "not running" is no failure.
	if err := rt.Kill(ctx, id, sig, false); err != nil && !errors.Is(err, ociexec.ErrNotRunning) && !errors.Is(err, ociexec.ErrNotExist) {
		a.log.Warn("relay signal", "signal", sig, "err", err)
	}
}

// abort stops a created container that will not run.
func (a *App) abort(c *Container, rt *ociexec.Runtime, remove bool, pid int, waited <-chan waitResult, err error) error {
	if kerr := killInit(pid); kerr != nil {
		a.log.Warn("kill container init", "pid", pid, "err", kerr)
	}
	if res := <-waited; res.err != nil {
		a.log.Warn("wait for aborted init", "err", res.err)
	}
	return a.fail(c, rt, remove, err)
}

// fail cleans up after a failed run and returns err: the runtime's state
// goes; the bundle stays as a created container unless --rm.
func (a *App) fail(c *Container, rt *ociexec.Runtime, remove bool, err error) error {
	if cerr := a.cleanup(c, rt, remove); cerr != nil {
		a.log.Warn("clean up container", "id", c.ID, "err", cerr)
	}
	return err
}

// finishContainer records the exit of a container and removes it with
// --rm.
func (a *App) finishContainer(c *Container, rt *ociexec.Runtime, remove bool, code int) error {
	if !remove {
		now := time.Now().UTC()
		c.Finished, c.ExitCode = &now, &code
		a.saveRecord(c)
	}
	return a.cleanup(c, rt, remove)
}

func (a *App) cleanup(c *Container, rt *ociexec.Runtime, remove bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), controlTimeout)
	defer cancel()
	var first error
	if err := rt.Delete(ctx, c.ID, true); err != nil && !errors.Is(err, ociexec.ErrNotExist) {
		first = wrapRuntime("delete container "+c.ShortID(), err)
	}
	if remove {
		if err := a.store.remove(c); err != nil && first == nil {
			first = fmt.Errorf("remove container %s: %w", c.ShortID(), err)
		}
	}
	return first
}

func (a *App) saveRecord(c *Container) {
	if err := a.store.save(c); err != nil {
		a.log.Warn("save container record", "id", c.ID, "err", err)
	}
}
