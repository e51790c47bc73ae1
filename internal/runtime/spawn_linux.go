package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/initmsg"
	"github.com/unha/unha/internal/namespaces"
	"github.com/unha/unha/internal/nsenter"
)

// spawnConfig is what the parent needs to start an init (or exec helper).
type spawnConfig struct {
	ns       *namespaces.Plan
	uidMaps  []specs.LinuxIDMapping
	gidMaps  []specs.LinuxIDMapping
	idHelper bool     // newuidmap/newgidmap write the maps; ns has CLONE_NEWUSER in Unshare
	cgroupFD *os.File // a cgroup2 dir to clone straight into; may be nil
	stdio    [3]*os.File
	preserve int        // the caller's fds 3..3+preserve-1 go to the container as they are
	extra    []*os.File // more fds for init, at extraFd(i) in the child
	verb     string     // "init"
	log      *slog.Logger
	// place moves the new process into the container's cgroups while the
	// constructor waits, before the Go runtime starts in it.
	place func(pid int) error
	// enter, if set, replaces place: while the constructor waits, it
	// finishes the container's cgroups (the cgroup2 one, made before the
	// fork, is entered with CLONE_INTO_CGROUP) and returns their v1
	// "tasks" files, which the constructor writes "0" to. That spares the
	// RCU grace period of a pid written to cgroup.procs, and lets the
	// cgroups be made while the kernel loads init.
	enter func() ([]*os.File, error)
	// initial is process.execCPUAffinity.initial: set on the new process
	// before it enters the v1 cgroups and starts the Go runtime (while the
	// constructor waits for placement, it is one thread).
	initial *unix.CPUSet
}

// extraFd is the fd number that sc.extra[i] has in the child: after the
// stdio, the preserved fds, the sync socket and the sealed binary.
func (sc *spawnConfig) extraFd(i int) int { return 3 + sc.preserve + 2 + i }

type child struct {
	cmd   *exec.Cmd
	conn  *initmsg.Conn
	pid   int
	start uint64
}

// nsGetNstype is NS_GET_NSTYPE from linux/nsfs.h: _IO(0xb7, 0x3).
const nsGetNstype = 0xb703

// openNamespace opens a namespace file and checks that it is one, of the
// kind the spec says: a path to a regular file (or a namespace of another
// type) would otherwise fail late and obscurely inside setns.
func openNamespace(j namespaces.Join) (*os.File, error) {
	fd, err := unix.Open(j.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s namespace: %w", j.Type, &os.PathError{Op: "open", Path: j.Path, Err: err})
	}
	t, err := unix.IoctlRetInt(fd, nsGetNstype)
	if err != nil || uintptr(t) != j.Flag {
		unix.Close(fd)
		return nil, fmt.Errorf("namespace path %s is not a %s namespace: %w", j.Path, j.Type, ErrInvalid)
	}
	return os.NewFile(uintptr(fd), j.Path), nil
}

func toSysMaps(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, x := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(x.ContainerID), HostID: int(x.HostID), Size: int(x.Size)}
	}
	return out
}

// startInit starts `unha-runtime init` from the sealed binary and returns
// once the pid of the process that will become the container's init is
// known. The caller then places it in its cgroup and sends the config.
func startInit(sc *spawnConfig) (*child, error) {
	exe, err := sealedSelf()
	if err != nil {
		return nil, fmt.Errorf("seal runtime binary: %w", err)
	}
	defer exe.Close()
	parentSock, childSock, err := initmsg.Pair()
	if err != nil {
		return nil, err
	}
	defer childSock.Close()
	conn := initmsg.NewConn(parentSock)
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()

	var files []*os.File
	for i := 0; i < sc.preserve; i++ {
		files = append(files, os.NewFile(uintptr(3+i), "preserved"))
	}
	fdOf := func(f *os.File) int { files = append(files, f); return 2 + len(files) }
	syncFd := fdOf(childSock)
	exeFd := fdOf(exe)
	for _, f := range sc.extra {
		fdOf(f)
	}
	// One P: init's work is a sequence of syscalls, and every P holds its
	// own cached span per size class, which is resident memory. Measured
	// with interleaved runs: the same time, ~150 KiB less peak RSS. The
	// container's process does not see this: its environment is the
	// config's.
	env := []string{nsenter.EnvSync + "=" + strconv.Itoa(syncFd), "GOMAXPROCS=1"}
	if sc.place != nil || sc.enter != nil {
		env = append(env, nsenter.EnvPlace+"=1")
	}
	var joins []string
	for _, j := range sc.ns.Joins {
		f, err := openNamespace(j)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		joins = append(joins, fmt.Sprintf("%d:%d", fdOf(f), j.Flag))
	}
	if sc.ns.UsesConstructor() {
		env = append(env, nsenter.EnvJoin+"="+strings.Join(joins, ","),
			nsenter.EnvUnshare+"="+strconv.FormatUint(uint64(sc.ns.Unshare), 10))
	}

	attr := &syscall.SysProcAttr{Cloneflags: sc.ns.Clone}
	if sc.ns.Clone&unix.CLONE_NEWUSER != 0 {
		attr.UidMappings = toSysMaps(sc.uidMaps)
		attr.GidMappings = toSysMaps(sc.gidMaps)
		attr.GidMappingsEnableSetgroups = os.Geteuid() == 0
		// Become the namespace's root once the maps are written: until
		// then we are the host's uid, unmapped there, so "nobody", and
		// execve would give init no capabilities.
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: true}
	}
	if sc.cgroupFD != nil {
		attr.UseCgroupFD = true
		attr.CgroupFD = int(sc.cgroupFD.Fd())
	}
	cmd := &exec.Cmd{
		Path:        "/proc/self/fd/" + strconv.Itoa(exeFd),
		Args:        []string{"unha-runtime", sc.verb},
		Env:         env,
		Stdin:       sc.stdio[0],
		Stdout:      sc.stdio[1],
		Stderr:      sc.stdio[2],
		ExtraFiles:  files,
		SysProcAttr: attr,
	}
	start := func() error {
		err := cmd.Start()
		if errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EACCES) {
			if sc.cgroupFD != nil {
				// clone3 CLONE_INTO_CGROUP is refused for some cgroup2
				// dirs (no write access, or a threaded subtree): retry the
				// classic way, the caller writes cgroup.procs instead.
				attr.UseCgroupFD = false
				err = cmd.Start()
			}
		}
		return err
	}
	// The cgroups are made while the kernel forks and loads init (Start
	// returns once the child has exec'd): the constructor waits for them
	// anyway, and making a dozen v1 cgroups is half a millisecond here.
	type entered struct {
		tasks []*os.File
		err   error
	}
	var enterDone chan entered
	if sc.enter != nil {
		enterDone = make(chan entered, 1)
		go func() {
			tasks, err := sc.enter()
			enterDone <- entered{tasks, err}
		}()
	}
	if err := start(); err != nil {
		if enterDone != nil {
			for _, f := range (<-enterDone).tasks {
				f.Close()
			}
		}
		return nil, fmt.Errorf("start init: %w", err)
	}
	childSock.Close()
	c := &child{cmd: cmd, conn: conn, pid: cmd.Process.Pid}
	fail := func(err error) (*child, error) {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	logf := initLogger(sc.log)
	if sc.initial != nil {
		if err := unix.SchedSetaffinity(cmd.Process.Pid, sc.initial); err != nil {
			return fail(fmt.Errorf("process.execCPUAffinity.initial: %w", os.NewSyscallError("sched_setaffinity", err)))
		}
	}
	switch {
	case sc.enter != nil:
		e := <-enterDone
		tasks, err := e.tasks, e.err
		if err == nil && sc.cgroupFD != nil && !attr.UseCgroupFD {
			// clone3 refused CLONE_INTO_CGROUP: the classic way, for
			// cgroup2, at the price of a grace period.
			err = sc.place(cmd.Process.Pid)
		}
		if err == nil {
			err = sendGo(conn, tasks)
		}
		for _, f := range tasks {
			f.Close()
		}
		if err != nil {
			return fail(err)
		}
	case sc.place != nil:
		// A forked init (pid namespace via the constructor) inherits the
		// placement of this process.
		if err := sc.place(cmd.Process.Pid); err != nil {
			return fail(err)
		}
		if err := conn.Send(&initmsg.Msg{Type: initmsg.TypeGo}, -1); err != nil {
			return fail(err)
		}
	}
	if sc.ns.UsesConstructor() {
		if sc.ns.Unshare&unix.CLONE_NEWUSER != 0 {
			m, _, err := conn.Expect(initmsg.TypeIDMap, logf)
			if err != nil {
				return fail(err)
			}
			write := writeIDMaps
			if sc.idHelper {
				write = writeIDMapsHelper
			}
			if err := write(m.Pid, sc.uidMaps, sc.gidMaps); err != nil {
				return fail(err)
			}
			if err := conn.Send(&initmsg.Msg{Type: initmsg.TypeGo}, -1); err != nil {
				return fail(err)
			}
		}
		if sc.ns.Forks() {
			m, _, err := conn.Expect(initmsg.TypePid, logf)
			if err != nil {
				return fail(err)
			}
			c.pid = m.Pid
			// The intermediate exits right after it sent the pid.
			_ = cmd.Wait()
		}
	}
	_, c.start, err = procStat(c.pid)
	if err != nil {
		return fail(fmt.Errorf("init exited early: %w", err))
	}
	ok = true
	return c, nil
}

// sendGo releases the constructor from its placement wait, handing it the
// cgroup "tasks" files to enter (SCM_RIGHTS; it reads no more than that).
func sendGo(conn *initmsg.Conn, tasks []*os.File) error {
	fds := make([]int, len(tasks))
	for i, f := range tasks {
		fds[i] = int(f.Fd())
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	for {
		err := unix.Sendmsg(int(conn.File().Fd()), []byte(`{"type":"go"}`), oob, nil, unix.MSG_NOSIGNAL)
		if err != unix.EINTR {
			return os.NewSyscallError("sendmsg", err)
		}
	}
}

// kill ends the child for good (failure paths).
func (c *child) kill() {
	_ = unix.Kill(c.pid, unix.SIGKILL)
	if c.cmd.ProcessState == nil && c.cmd.Process.Pid == c.pid {
		_ = c.cmd.Wait()
	} else {
		_ = waitGone(c.pid, c.start, waitKillTimeout)
	}
}

// writeIDMaps writes a user namespace's maps from outside, as newuidmap
// would. setgroups is denied only where the kernel insists (an unprivileged
// writer of gid_map).
func writeIDMaps(pid int, uids, gids []specs.LinuxIDMapping) error {
	base := "/proc/" + strconv.Itoa(pid) + "/"
	format := func(m []specs.LinuxIDMapping) []byte {
		var b strings.Builder
		for _, x := range m {
			fmt.Fprintf(&b, "%d %d %d\n", x.ContainerID, x.HostID, x.Size)
		}
		return []byte(b.String())
	}
	if os.Geteuid() != 0 {
		if err := os.WriteFile(base+"setgroups", []byte("deny"), 0); err != nil {
			return fmt.Errorf("write setgroups: %w", err)
		}
	}
	if err := os.WriteFile(base+"uid_map", format(uids), 0); err != nil {
		return fmt.Errorf("write uid_map: %w", err)
	}
	if err := os.WriteFile(base+"gid_map", format(gids), 0); err != nil {
		return fmt.Errorf("write gid_map: %w", err)
	}
	return nil
}

// initLogger relays init's log lines into the runtime's logger.
func initLogger(l *slog.Logger) func(level, text string) {
	return func(level, text string) {
		if l == nil {
			return
		}
		var lv slog.Level
		_ = lv.UnmarshalText([]byte(level))
		l.Log(context.Background(), lv, text, "from", "init")
	}
}
