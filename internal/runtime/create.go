package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/cgroups"
	"github.com/unha/unha/internal/console"
	"github.com/unha/unha/internal/hooks"
	"github.com/unha/unha/internal/initmsg"
	"github.com/unha/unha/internal/namespaces"
	"github.com/unha/unha/internal/process"
	"github.com/unha/unha/internal/seccomp"
	"github.com/unha/unha/internal/spec"
)

// CreateOpts are the create (and run) flags.
type CreateOpts struct {
	ID            string
	Bundle        string
	PidFile       string
	ConsoleSocket string
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFds   int
	// Foreground: `run` without --detach. With a terminal and no console
	// socket, the pty master comes back in Created.Pty for the caller to
	// proxy.
	Foreground bool
	// beforeReserve, if set, runs before the container's state dir is
	// made (Run waits there for the first part of its signal relay), and
	// afterSpawn once init has its config (Run installs the rest of the
	// relay).
	beforeReserve, afterSpawn func()
	// keepLock: Created.lock stays held (Run starts the container under
	// it, without reading back the state it has).
	keepLock bool
}

// Created is a container whose init waits on the exec fifo.
type Created struct {
	State *State
	// Pty is the terminal's master when the caller proxies it.
	Pty *os.File
	// child is set when init is our child (run in the foreground reaps it).
	child *child
	// lock is the container's lock, still held, with CreateOpts.keepLock.
	lock *Lock
	// cg is the container's cgroup (nil without one).
	cg cgroups.Manager
}

// Create builds a container up to the point where only execve of the
// user's process is left, as `create` must. On any failure it undoes all it
// did: no state dir, cgroup, process or mount is left behind.
func (r *Runtime) Create(o CreateOpts) (_ *Created, err error) {
	if err := spec.ValidateID(o.ID); err != nil {
		return nil, err
	}
	bundle, err := filepath.Abs(o.Bundle)
	if err != nil {
		return nil, err
	}
	s, err := spec.Load(bundle)
	if err != nil {
		return nil, err
	}
	if s.Process == nil {
		return nil, fmt.Errorf("config.json: process is missing: %w", ErrInvalid)
	}
	if fi, err := os.Stat(s.Root.Path); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("rootfs %s does not exist or is not a directory: %w", s.Root.Path, ErrInvalid)
	}
	if s.Process.Terminal && o.ConsoleSocket == "" && !o.Foreground {
		return nil, fmt.Errorf("cannot allocate tty if unha-runtime will detach without setting console socket: %w", ErrInvalid)
	}
	if !s.Process.Terminal && o.ConsoleSocket != "" {
		return nil, fmt.Errorf("cannot use console socket if unha-runtime will not detach or allocate tty: %w", ErrInvalid)
	}
	if s.Process.ApparmorProfile != "" && !apparmorEnabled() {
		return nil, fmt.Errorf("config.json: process.apparmorProfile %q: AppArmor is not enabled on this host: %w", s.Process.ApparmorProfile, ErrInvalid)
	}
	// Validate the profile now (a bad one must fail before anything
	// exists); compile it while init builds the rootfs: libseccomp takes
	// tens of milliseconds for a profile like Docker's.
	filter, err := seccomp.Plan(s.Linux.Seccomp)
	if err != nil {
		return nil, fmt.Errorf("config.json: linux.seccomp: %v: %w", err, ErrInvalid)
	}
	nsPlan, err := namespaces.New(s.Linux.Namespaces)
	if err != nil {
		return nil, fmt.Errorf("config.json: %v: %w", err, ErrInvalid)
	}
	if nsPlan.NewUser && (len(s.Linux.UIDMappings) == 0 || len(s.Linux.GIDMappings) == 0) {
		return nil, fmt.Errorf("config.json: a new user namespace needs uidMappings and gidMappings: %w", ErrInvalid)
	}
	if nsPlan.NewUser && (!mapsContainerRoot(s.Linux.UIDMappings) || !mapsContainerRoot(s.Linux.GIDMappings)) {
		return nil, fmt.Errorf("config.json: uidMappings and gidMappings must map container id 0: init sets up the container as root of its user namespace: %w", ErrInvalid)
	}
	if r.Rootless && os.Geteuid() != 0 && !nsPlan.Has(specs.UserNamespace) {
		return nil, fmt.Errorf("config.json: a rootless container needs a user namespace (add {\"type\": \"user\"} to linux.namespaces, or use `spec --rootless`): %w", ErrInvalid)
	}
	idHelper := nsPlan.NewUser && needsIDMapHelper(s.Linux.UIDMappings, s.Linux.GIDMappings)
	if idHelper {
		// Go writes the maps itself only as a privileged parent or for the
		// one self-mapping; newuidmap is a separate program, so the new
		// user namespace (and the namespaces it must own) is created by
		// the nsenter constructor, which waits while we run it.
		nsPlan.Unshare, nsPlan.Clone = nsPlan.Unshare|nsPlan.Clone, 0
	}
	if s.Process.Terminal && o.ConsoleSocket == "" && o.Foreground {
		s.Process = withCallerSize(s.Process)
	}
	preserve := o.PreserveFds
	if lfds, _ := strconv.Atoi(os.Getenv("LISTEN_FDS")); lfds > 0 {
		// socket activation: systemd's fds 3..3+N-1 reach the container,
		// which sees itself as their LISTEN_PID (pid 1).
		preserve = max(preserve, lfds)
		s.Process.Env = append(s.Process.Env, "LISTEN_FDS="+strconv.Itoa(lfds), "LISTEN_PID=1")
	}

	// The cgroups are only computed here (they are made after Reserve):
	// work done while Run's relay takes the fatal signals.
	res := s.Linux.Resources
	var cg cgroups.Manager
	if r.Rootless {
		cg, res, err = r.rootlessCgroup(s, o.ID)
	} else {
		cg, err = cgroups.New(s.Linux.CgroupsPath, o.ID, r.cgroupOpts())
	}
	if err != nil {
		return nil, err
	}
	if o.beforeReserve != nil {
		o.beforeReserve()
	}
	lock, err := r.Store.Reserve(o.ID)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil || !o.keepLock {
			lock.Unlock()
		}
	}()
	st := &State{
		State: specs.State{
			Version: specs.Version, ID: o.ID, Status: specs.StateCreating,
			Bundle: bundle, Annotations: s.Annotations,
		},
		Rootfs:  s.Root.Path,
		Created: time.Now().UTC(),
		Owner:   ownerName(),
		Config:  s,
		NoPivot: o.NoPivot,
	}
	var ch *child
	var trees map[int]*os.File
	// saved is the state save running in the background while init
	// builds the container (waitSaved joins it).
	var saved chan error
	waitSaved := func() error {
		if saved == nil {
			return nil
		}
		err := <-saved
		saved = nil
		return err
	}
	defer func() {
		for _, f := range trees {
			f.Close()
		}
		if err == nil {
			return
		}
		_ = waitSaved()
		if ch != nil {
			ch.kill()
		}
		if cg != nil {
			if derr := cg.Destroy(); derr != nil {
				r.Log.Warn("remove cgroup after failed create", "err", derr)
			}
		}
		_ = r.Store.Remove(o.ID)
	}()

	t0 := time.Now()
	phase := func(name string) { r.Log.Debug("create", "phase", name, "elapsed", time.Since(t0)) }
	if cg != nil {
		st.CgroupPaths = cg.Paths()
	}
	// Saved before anything exists that must be cleaned up, so that a
	// runtime killed from here on leaves a state `delete --force` can use
	// (it needs none of the config: see SaveHeader).
	if err := r.Store.SaveHeader(st); err != nil {
		return nil, err
	}
	phase("state saved")
	var cgFD *os.File
	var place func(int) error
	var enter func() ([]*os.File, error)
	if cg != nil {
		// The cgroup2 directory now, for clone3 to fork init into; the
		// rest, and the limits, while the kernel loads init (enter).
		if err := cg.CreateV2(); err != nil {
			return nil, err
		}
		if cgFD, err = cg.OpenFD(); err != nil {
			return nil, err
		}
		if cgFD != nil {
			defer cgFD.Close()
		}
		place = cg.AddProc
		enter = func() ([]*os.File, error) {
			if err := cg.Create(); err != nil {
				return nil, err
			}
			st.CgroupCreated = cg.Created()
			if err := cg.Set(res); err != nil {
				return nil, err
			}
			return cg.OpenTasks()
		}
	}
	if trees, err = idmappedTrees(s, nsPlan.NewMount, o.ID, r.Rootless); err != nil {
		return nil, err
	}

	fifoPath := filepath.Join(r.Store.dir(o.ID), fifoName)
	if err := unix.Mkfifo(fifoPath, 0o622); err != nil {
		return nil, &os.PathError{Op: "mkfifo", Path: fifoPath, Err: err}
	}
	// Writable by everyone, past the umask: init reopens it after it has
	// become the container's user, which may be anybody. Only the path is
	// guarded (the state dir is 0711 under a 0700 root).
	if err := os.Chmod(fifoPath, 0o622); err != nil {
		return nil, err
	}
	fifo, err := os.OpenFile(fifoPath, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer fifo.Close()

	aff, err := process.ParseCPUAffinity(s.Process.ExecCPUAffinity)
	if err != nil {
		return nil, err
	}
	sc := &spawnConfig{
		ns: nsPlan, uidMaps: s.Linux.UIDMappings, gidMaps: s.Linux.GIDMappings, idHelper: idHelper,
		cgroupFD: cgFD, stdio: [3]*os.File{os.Stdin, os.Stdout, os.Stderr},
		preserve: preserve, extra: []*os.File{fifo}, verb: "init", log: r.Log,
		place: place, enter: enter, initial: aff.Initial,
	}
	idmapFds := map[int]int{}
	for idx, f := range trees {
		idmapFds[idx] = sc.extraFd(len(sc.extra))
		sc.extra = append(sc.extra, f)
	}
	phase("cgroup set")
	ch, err = startInit(sc)
	if err != nil {
		return nil, err
	}
	defer ch.conn.Close()
	st.Pid = ch.pid
	st.InitStart = ch.start
	// Recorded (for delete --force, should we die) while init starts up,
	// not before: a copy, as st changes again below.
	snap := *st
	saved = make(chan error, 1)
	go func() { saved <- r.Store.Save(&snap) }()

	cfg := &initmsg.Config{
		ID: o.ID, Bundle: bundle, Spec: s, NoPivot: o.NoPivot, NoNewKeyring: o.NoNewKeyring,
		Console: s.Process.Terminal, PreserveFds: preserve, NewCgroupNS: nsPlan.NewCgroup,
		NewUserNS: nsPlan.NewUser, CgroupPaths: st.CgroupPaths, FifoFd: sc.extraFd(0),
		IDMapFds: idmapFds, State: st.State, LogLevel: r.LogLevel,
	}
	cfg.State.Pid = ch.pid
	phase("init started")
	if err := ch.conn.Send(&initmsg.Msg{Type: initmsg.TypeConfig, Config: cfg}, -1); err != nil {
		return nil, err
	}
	// Only now, with init on its own for milliseconds (Go's start-up,
	// the rootfs): the rest of Run's signal relay is ~60 round trips to
	// the Go runtime's signal thread, which would otherwise compete with
	// sending the config for this machine's two cores.
	if o.afterSpawn != nil {
		o.afterSpawn()
	}
	created := &Created{State: st, child: ch, cg: cg}
	compiled := r.compileAsync(filter)
	if err := r.driveInit(ch, st, o, created, compiled); err != nil {
		return nil, err
	}
	phase("init ready")
	if err := waitSaved(); err != nil {
		return nil, err
	}
	st.Status = specs.StateCreated
	if err := r.Store.Save(st); err != nil {
		return nil, err
	}
	if o.PidFile != "" {
		if err := WritePidFile(o.PidFile, ch.pid); err != nil {
			return nil, fmt.Errorf("write pid file: %w", err)
		}
	}
	if o.keepLock {
		created.lock = lock
	}
	return created, nil
}

// driveInit answers init's requests until it reports ready.
func (r *Runtime) driveInit(ch *child, st *State, o CreateOpts, created *Created, compiled <-chan compileResult) error {
	logf := initLogger(r.Log)
	for {
		m, f, err := ch.conn.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return r.initDied(ch)
			}
			return err
		}
		switch m.Type {
		case initmsg.TypeLog:
			logf(m.Level, m.Text)
		case initmsg.TypeError:
			return errors.New(m.Error)
		case initmsg.TypePty:
			if f == nil {
				return errors.New("init sent no pty")
			}
			if o.ConsoleSocket != "" {
				err := console.SendFd(o.ConsoleSocket, f)
				f.Close()
				if err != nil {
					return fmt.Errorf("send pty to console socket: %w", err)
				}
			} else {
				created.Pty = f
			}
		case initmsg.TypeMounted:
			hs := st.Config.Hooks
			if hs != nil {
				state := st.State
				state.Status = specs.StateCreating
				//lint:ignore SA1019 prestart is deprecated but still part of the spec, and runs here
				if err := hooks.Run(context.Background(), hs.Prestart, &state); err != nil { //nolint:staticcheck
					return fmt.Errorf("prestart hook: %w", err)
				}
				if err := hooks.Run(context.Background(), hs.CreateRuntime, &state); err != nil {
					return fmt.Errorf("createRuntime hook: %w", err)
				}
			}
			c := <-compiled
			if c.err != nil {
				return fmt.Errorf("compile seccomp filter: %w", c.err)
			}
			if err := ch.conn.Send(&initmsg.Msg{Type: initmsg.TypeGo, Seccomp: c.prog}, -1); err != nil {
				return err
			}
		case initmsg.TypeSeccomp:
			err := r.sendSeccompFd(st, f, ch.pid)
			if f != nil {
				f.Close()
			}
			if err != nil {
				return err
			}
		case initmsg.TypeReady:
			return nil
		default:
			if f != nil {
				f.Close()
			}
			return fmt.Errorf("sync: unexpected %q message from init", m.Type)
		}
	}
}

// initDied explains an init that hung up without an error message.
func (r *Runtime) initDied(ch *child) error {
	if ch.cmd.Process.Pid == ch.pid {
		_ = ch.cmd.Wait()
		if ps := ch.cmd.ProcessState; ps != nil {
			return fmt.Errorf("container init exited prematurely: %s", ps)
		}
	}
	return errors.New("container init exited prematurely")
}

func ownerName() string {
	if u, err := user.LookupId(strconv.Itoa(os.Geteuid())); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Geteuid())
}

// apparmorEnabled reports whether the kernel has AppArmor on; without it a
// profile cannot be applied. (SELinux labels, by contrast, are ignored where
// SELinux is absent, as runc does: images and engines set them blindly.)
func apparmorEnabled() bool {
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && len(b) > 0 && b[0] == 'Y'
}
