package initproc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/caps"
	"github.com/unha/unha/internal/hooks"
	"github.com/unha/unha/internal/initmsg"
	"github.com/unha/unha/internal/nsenter"
	"github.com/unha/unha/internal/process"
	"github.com/unha/unha/internal/rootfs"
	"github.com/unha/unha/internal/seccomp"
)

// Main runs init and never returns: it execs the container's process or
// exits 1 after telling the runtime why.
func Main() {
	fd, err := strconv.Atoi(os.Getenv(nsenter.EnvSync))
	if err != nil {
		fmt.Fprintln(os.Stderr, "unha-runtime init: not started by unha-runtime")
		os.Exit(2)
	}
	os.Unsetenv(nsenter.EnvSync)
	conn := initmsg.NewConn(os.NewFile(uintptr(fd), "sync"))
	err = run(conn)
	// run returns only on failure.
	_ = conn.Send(&initmsg.Msg{Type: initmsg.TypeError, Error: err.Error()}, -1)
	os.Exit(1)
}

type initState struct {
	conn *initmsg.Conn
	cfg  *initmsg.Config
	spec *specs.Spec
	proc *specs.Process
	log  *slog.Logger
	// procFd is the host's /proc/self/fd, opened before pivot_root, to
	// reopen the exec fifo whatever /proc the container has.
	procFd int
	// seccomp is the filter the runtime compiled; nil without a profile.
	seccomp *seccomp.Program
}

func run(conn *initmsg.Conn) error {
	m, _, err := conn.Expect(initmsg.TypeConfig, nil)
	if err != nil {
		return err
	}
	cfg := m.Config
	if cfg == nil || cfg.Spec == nil {
		return errors.New("init: empty config")
	}
	is := &initState{conn: conn, cfg: cfg, spec: cfg.Spec, proc: cfg.Spec.Process, procFd: -1, seccomp: cfg.Seccomp}
	if cfg.Process != nil {
		is.proc = cfg.Process
	}
	is.log = slog.New(&connHandler{conn: conn, level: parseLevel(cfg.LogLevel)})
	if cfg.Exec {
		return is.execProcess()
	}
	return is.create()
}

func (is *initState) create() error {
	s, cfg := is.spec, is.cfg
	if cfg.NewCgroupNS {
		// Only now, placed in its cgroup, so that the namespace's root is
		// the container's own cgroup.
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return os.NewSyscallError("unshare cgroup namespace", err)
		}
	}
	if err := setupTimeNS(s); err != nil {
		return err
	}
	var lo chan error
	if path, ok := nsPath(s, specs.NetworkNamespace); ok && path == "" {
		// While the rootfs is built, on another thread (every one is in
		// the new network namespace, made by clone or by the constructor
		// before Go started): bringing a device up takes the kernel a
		// while (~0.2 ms), and only the hooks after "mounted" need it.
		lo = make(chan error, 1)
		go func() { lo <- loopbackUp() }()
	}
	fd, err := unix.Open("/proc/self/fd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: "/proc/self/fd", Err: err}
	}
	if !isProcfs(fd) {
		unix.Close(fd)
		return errors.New("init: /proc is not procfs")
	}
	is.procFd = fd

	ropts := rootfs.Options{
		NoPivot: cfg.NoPivot, InUserNS: inUserNS(s), NoMountNS: !hasMountNS(s),
		CgroupPaths: cfg.CgroupPaths, Logger: is.log, IDMapped: map[int]*os.File{},
	}
	for idx, fd := range cfg.IDMapFds {
		ropts.IDMapped[idx] = os.NewFile(uintptr(fd), "idmapped tree")
	}
	is.log.Debug("init: namespaces set up")
	err = rootfs.Prepare(s, ropts)
	for _, f := range ropts.IDMapped {
		f.Close()
	}
	ropts.IDMapped = nil
	if err != nil {
		return err
	}
	is.log.Debug("init: rootfs prepared")
	if lo != nil {
		if err := <-lo; err != nil {
			return err
		}
	}
	if err := is.conn.Send(&initmsg.Msg{Type: initmsg.TypeMounted}, -1); err != nil {
		return err
	}
	gm, _, err := is.conn.Expect(initmsg.TypeGo, nil)
	if err != nil {
		return err
	}
	is.seccomp = gm.Seccomp
	if s.Hooks != nil && len(s.Hooks.CreateContainer) > 0 {
		state := cfg.State
		state.Status = specs.StateCreating
		state.Pid = os.Getpid() // as seen in the container, as runc passes it
		if err := hooks.Run(context.Background(), s.Hooks.CreateContainer, &state); err != nil {
			return fmt.Errorf("createContainer hook: %w", err)
		}
	}
	if err := rootfs.Enter(s.Root.Path, ropts); err != nil {
		return err
	}
	if is.proc.Terminal {
		if err := is.setupConsole(true); err != nil {
			return err
		}
	}
	if s.Hostname != "" {
		if err := process.SetHostname(s.Hostname); err != nil {
			return err
		}
	}
	if s.Domainname != "" {
		if err := process.SetDomainname(s.Domainname); err != nil {
			return err
		}
	}
	if len(s.Linux.Sysctl) > 0 {
		if err := process.Sysctl(s.Linux.Sysctl); err != nil {
			return err
		}
	}
	if err := rootfs.Finish(s, ropts); err != nil {
		return err
	}
	is.log.Debug("init: rootfs finished")
	if !cfg.NoNewKeyring {
		// A session keyring of the container's own, so it cannot read the
		// keys of the host session (runc does the same).
		if _, err := unix.KeyctlJoinSessionKeyring("_ses." + cfg.ID); err != nil && !errors.Is(err, unix.ENOSYS) {
			return os.NewSyscallError("keyctl join session keyring", err)
		}
	}
	return is.finish()
}

// finish applies the process's own attributes, reports ready, and (for
// create) waits on the exec fifo before execve.
func (is *initState) finish() error {
	p, s := is.proc, is.spec
	if err := applyAttrs(p, s.Linux); err != nil {
		return err
	}
	// Read the container's passwd while we can still read every file.
	env := withHome(p.Env, p.User.UID)
	// No capabilities in the config means none at all, not the runtime's.
	c := p.Capabilities
	if c == nil {
		c = &specs.LinuxCapabilities{}
	}
	capPlan, err := caps.NewPlan(c)
	if err != nil {
		return err
	}
	for _, w := range capPlan.Warnings {
		is.log.Warn(w)
	}
	if err := caps.DropBounding(capPlan); err != nil {
		return err
	}
	filter := is.seccomp
	// Before any seccomp filter: the check needs getcwd(2), which a
	// profile may deny (runc's CVE-2024-21626 fix trips on exactly that).
	// As root: a cwd only the container's user may enter still works,
	// since root's CAP_DAC_OVERRIDE gets us there.
	if err := chdirInside(p.Cwd); err != nil {
		return err
	}
	// Without no_new_privs the filter must be loaded while we still hold
	// CAP_SYS_ADMIN; with it, as late as possible so fewer of our own
	// syscalls need allowing.
	if filter != nil && !p.NoNewPrivileges {
		if err := is.loadSeccomp(filter); err != nil {
			return err
		}
	}
	if err := caps.SetKeepCaps(true); err != nil {
		return err
	}
	if err := process.SetUser(p.User); err != nil {
		return err
	}
	if err := caps.Apply(capPlan); err != nil {
		return err
	}
	if err := caps.SetKeepCaps(false); err != nil {
		return err
	}
	argv0, err := lookPath(p)
	if err != nil {
		return err
	}
	ex, err := prepareExec(argv0, p, env)
	if err != nil {
		return err
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return os.NewSyscallError("prctl no_new_privs", err)
		}
	}
	if filter != nil && p.NoNewPrivileges {
		if err := is.loadSeccomp(filter); err != nil {
			return err
		}
	}
	// Every fd past the preserved ones closes at execve; until then we
	// still need the sync socket and the fifo.
	if err := closeExecFrom(3 + is.cfg.PreserveFds); err != nil {
		return err
	}
	if err := is.conn.Send(&initmsg.Msg{Type: initmsg.TypeReady}, -1); err != nil {
		return err
	}
	is.conn.Close()
	if !is.cfg.Exec {
		if err := is.waitStart(); err != nil {
			// Nobody listens on the socket any more: start learns of it
			// from the fifo or from our exit.
			os.Exit(1)
		}
	}
	if err := finalAffinity(p); err != nil {
		return err
	}
	err = ex.run()
	fmt.Fprintf(os.Stderr, "unha-runtime: exec %s: %v\n", argv0, err)
	os.Exit(127)
	return nil
}

func (is *initState) loadSeccomp(f *seccomp.Program) error {
	nfd, err := f.Load()
	if err != nil {
		return fmt.Errorf("load seccomp filter: %w", err)
	}
	if nfd >= 0 {
		err := is.conn.Send(&initmsg.Msg{Type: initmsg.TypeSeccomp}, nfd)
		unix.Close(nfd)
		if err != nil {
			return err
		}
	}
	return nil
}
