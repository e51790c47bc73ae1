package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/console"
	"github.com/unha/unha/internal/initmsg"
	"github.com/unha/unha/internal/namespaces"
	"github.com/unha/unha/internal/process"
	"github.com/unha/unha/internal/seccomp"
)

// ExecOpts are the exec flags and the process: Process as given (from
// --process), or, when it is nil, made by Build from the container's own
// process (the inline form), read with the state under its lock.
type ExecOpts struct {
	ID            string
	Process       *specs.Process
	Build         func(base specs.Process) (*specs.Process, error)
	Detach        bool
	PidFile       string
	ConsoleSocket string
	PreserveFds   int
}

// checkExecProcess refuses what exec cannot start whatever the container.
func checkExecProcess(o *ExecOpts) error {
	p := o.Process
	if p == nil || len(p.Args) == 0 {
		return fmt.Errorf("exec: args must not be empty: %w", ErrInvalid)
	}
	if p.ApparmorProfile != "" && !apparmorEnabled() {
		return fmt.Errorf("exec: process.apparmorProfile %q: AppArmor is not enabled on this host: %w", p.ApparmorProfile, ErrInvalid)
	}
	if p.Terminal && o.Detach && o.ConsoleSocket == "" {
		return fmt.Errorf("cannot allocate tty if unha-runtime will detach without setting console socket: %w", ErrInvalid)
	}
	if !p.Terminal && o.ConsoleSocket != "" {
		return fmt.Errorf("cannot use console socket if unha-runtime will not detach or allocate tty: %w", ErrInvalid)
	}
	if p.Terminal && o.ConsoleSocket == "" && !o.Detach {
		o.Process = withCallerSize(p)
	}
	return nil
}

// Exec starts another process in a running container: in every namespace
// the container has, in its cgroup, with the process's user, capabilities,
// rlimits, no_new_privs and the container's seccomp profile; started by
// the spawner (spawnDirect) or, for what it cannot do, by the exec helper.
// In the foreground it returns the process's exit status, and the signal
// relay stays installed when it returns (see signalRelay): the caller is
// the CLI, which exits right after.
func (r *Runtime) Exec(o ExecOpts) (int, error) {
	if o.Process != nil || o.Build == nil {
		if err := checkExecProcess(&o); err != nil {
			return -1, err
		}
	}
	// In the foreground, the relay installs itself while the state loads.
	var relay *signalRelay
	if !o.Detach {
		relay = newSignalRelay()
	}
	st, l, err := r.Store.Open(o.ID, false)
	if err != nil {
		return -1, err
	}
	r.refresh(st)
	switch st.Status {
	case specs.StateRunning, specs.StateCreated:
	case "paused":
		l.Unlock()
		return -1, errors.New("cannot exec in a paused container")
	default:
		l.Unlock()
		return -1, errors.New("cannot exec a container that has stopped")
	}
	if o.Process == nil {
		var base specs.Process
		if st.Config.Process != nil {
			base = *st.Config.Process
		}
		if o.Process, err = o.Build(base); err == nil {
			err = checkExecProcess(&o)
		}
		if err != nil {
			l.Unlock()
			return -1, err
		}
	}
	if !o.Detach {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			l.Unlock()
			return -1, os.NewSyscallError("prctl PR_SET_CHILD_SUBREAPER", err)
		}
	}
	if relay != nil {
		relay.waitFatal()
	}
	pid, pty, err := r.spawnExec(st, o, relay)
	l.Unlock()
	if err != nil {
		return -1, err
	}
	if o.PidFile != "" {
		if err := WritePidFile(o.PidFile, pid); err != nil {
			return -1, fmt.Errorf("write pid file: %w", err)
		}
	}
	if o.Detach {
		return 0, nil
	}
	done := make(chan struct{})
	if pty != nil {
		go func() {
			_ = console.Proxy(context.Background(), pty, os.Stdin, os.Stdout)
			close(done)
		}()
	} else {
		close(done)
	}
	// Not waitAll, as run does before start: this process has run since
	// its spawn, so waiting here for the relay to take every signal would
	// only delay the wait (by up to 2 ms, longer than /bin/true runs),
	// while the relay completes in the same time either way. The fatal
	// signals have been relayed since before the spawn.
	relay.spawned()
	status := r.waitInit(pid, relay.sigs)
	if pty != nil {
		<-done
		pty.Close()
	}
	return status, nil
}

// execPlan joins every namespace the container's init is in that the
// config lists (a namespace the config does not list is the host's, shared).
func execPlan(st *State) (*namespaces.Plan, error) {
	var nss []specs.LinuxNamespace
	for _, ns := range st.Config.Linux.Namespaces {
		nss = append(nss, specs.LinuxNamespace{
			Type: ns.Type,
			Path: fmt.Sprintf("/proc/%d/ns/%s", st.Pid, namespaces.ProcName[ns.Type]),
		})
	}
	return namespaces.New(nss)
}

// execSpec is the part of the container's config the exec helper reads
// besides the process: the helper decodes what it is sent, and
// encoding/json's first decode of each type costs (reflection, ~1 ms for a
// whole config), so it gets no mounts, hooks or resources it would ignore.
func execSpec(s *specs.Spec) *specs.Spec {
	out := &specs.Spec{Version: s.Version}
	if s.Linux != nil {
		out.Linux = &specs.Linux{Personality: s.Linux.Personality}
	}
	return out
}

func (r *Runtime) spawnExec(st *State, o ExecOpts, relay *signalRelay) (pid int, pty *os.File, err error) {
	plan, err := execPlan(st)
	if err != nil {
		return 0, nil, err
	}
	// The container's profile applies to exec too; compile it while the
	// exec helper starts.
	filter, err := seccomp.Plan(st.Config.Linux.Seccomp)
	if err != nil {
		return 0, nil, fmt.Errorf("linux.seccomp: %w", err)
	}
	compiled := r.compileAsync(filter)
	// The container's init must still be the process we recorded when we
	// open its namespaces: check after planning, before opening.
	if !alive(st.Pid, st.InitStart) {
		return 0, nil, errors.New("cannot exec a container that has stopped")
	}
	if directExecOK(plan, o.Process, nil) {
		// No helper program: the spawner needs the filter at once (a
		// cached compile costs little), and a notify profile still
		// goes to the helper.
		c := <-compiled
		if c.err != nil {
			return 0, nil, fmt.Errorf("compile seccomp filter: %w", c.err)
		}
		if directExecOK(plan, o.Process, c.prog) {
			pid, err := r.spawnDirect(st, o, plan, c.prog)
			if !errors.Is(err, errNoSpawner) {
				if err == nil && relay != nil {
					relay.spawned()
				}
				return pid, nil, err
			}
		}
		again := make(chan compileResult, 1)
		again <- c
		compiled = again
	}
	var cgFD *os.File
	var place func(int) error
	var enter func() ([]*os.File, error)
	// A rootless container may have no cgroup to join (none delegated).
	if cg, err := r.loadCgroup(st); err == nil {
		if cgFD, err = cg.OpenFD(); err != nil {
			return 0, nil, err
		}
		if cgFD != nil {
			defer cgFD.Close()
		}
		// As for init: clone3 puts the helper into the cgroup2 dir, and it
		// moves itself into the v1 ones (tasks, "0") before its first
		// thread; writing its pid to cgroup.procs from here would wait
		// for an RCU grace period (see cgroups.OpenTasks).
		place = cg.AddProc
		enter = cg.OpenTasks
	} else if !errors.Is(err, errNoCgroup) {
		return 0, nil, err
	}
	aff, err := process.ParseCPUAffinity(o.Process.ExecCPUAffinity)
	if err != nil {
		return 0, nil, err
	}
	sc := &spawnConfig{
		ns: plan, cgroupFD: cgFD, stdio: [3]*os.File{os.Stdin, os.Stdout, os.Stderr},
		preserve: o.PreserveFds, verb: "init", log: r.Log, place: place, enter: enter,
		initial: aff.Initial,
	}
	ch, err := startInit(sc)
	if err != nil {
		return 0, nil, err
	}
	if relay != nil {
		// The rest of the relay while the helper starts.
		relay.spawned()
	}
	defer ch.conn.Close()
	defer func() {
		if err != nil {
			ch.kill()
			if pty != nil {
				pty.Close()
				pty = nil
			}
		}
	}()
	cfg := &initmsg.Config{
		Exec: true, ID: st.ID, Bundle: st.Bundle, Spec: execSpec(st.Config), Process: o.Process,
		Console: o.Process.Terminal, PreserveFds: o.PreserveFds, State: st.State, LogLevel: r.LogLevel,
	}
	c := <-compiled
	if c.err != nil {
		return 0, nil, fmt.Errorf("compile seccomp filter: %w", c.err)
	}
	cfg.Seccomp = c.prog
	if err := ch.conn.Send(&initmsg.Msg{Type: initmsg.TypeConfig, Config: cfg}, -1); err != nil {
		return 0, nil, err
	}
	logf := initLogger(r.Log)
	for {
		m, f, rerr := ch.conn.Recv()
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return 0, nil, r.initDied(ch)
			}
			return 0, nil, rerr
		}
		switch m.Type {
		case initmsg.TypeLog:
			logf(m.Level, m.Text)
		case initmsg.TypeError:
			return 0, nil, errors.New(m.Error)
		case initmsg.TypePty:
			if f == nil {
				return 0, nil, errors.New("exec: init sent no pty")
			}
			if o.ConsoleSocket != "" {
				err := console.SendFd(o.ConsoleSocket, f)
				f.Close()
				if err != nil {
					return 0, nil, fmt.Errorf("send pty to console socket: %w", err)
				}
			} else {
				pty = f
			}
		case initmsg.TypeSeccomp:
			serr := r.sendSeccompFd(st, f, ch.pid)
			if f != nil {
				f.Close()
			}
			if serr != nil {
				return 0, nil, serr
			}
		case initmsg.TypeReady:
			return ch.pid, pty, nil
		default:
			if f != nil {
				f.Close()
			}
			return 0, nil, fmt.Errorf("sync: unexpected %q message from exec", m.Type)
		}
	}
}
