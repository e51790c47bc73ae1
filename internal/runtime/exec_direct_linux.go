package runtime

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/caps"
	"github.com/unha/unha/internal/namespaces"
	"github.com/unha/unha/internal/nsenter"
	"github.com/unha/unha/internal/process"
	"github.com/unha/unha/internal/seccomp"
)

// errNoSpawner: the direct spawner cannot run on this machine (no clone3,
// or an architecture it is not written for); use the exec helper.
var errNoSpawner = errors.New("exec spawner unavailable")

// defaultPath is the PATH a process without one searches, as initproc's.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// directExecOK says whether the spawner (nsenter.Spawn, no helper program)
// can start p: it does everything the exec helper does but for a terminal
// (the pty is made in the container, by the helper), a seccomp notify fd
// (handed back over the sync socket) and a joined time namespace
// (timens_install refuses a process that shares its memory, which the
// spawner's children do).
func directExecOK(plan *namespaces.Plan, p *specs.Process, prog *seccomp.Program) bool {
	if p.Terminal || (prog != nil && prog.Notify()) || plan.Clone != 0 || plan.Unshare != 0 {
		return false
	}
	for _, j := range plan.Joins {
		if j.Flag == unix.CLONE_NEWTIME {
			return false
		}
	}
	return true
}

// spawnDirect starts o's process in st's container with the spawner and
// returns its pid once it has exec'd.
func (r *Runtime) spawnDirect(st *State, o ExecOpts, plan *namespaces.Plan, prog *seccomp.Program) (int, error) {
	// The process marks every fd past the kept ones close-on-exec with
	// close_range(2)'s CLOSE_RANGE_CLOEXEC (Linux 5.11); before that, the
	// helper does it by walking /proc/self/fd. Probed on an empty range.
	if err := unix.CloseRange(^uint(0)-1, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return 0, errNoSpawner
	}
	p := o.Process
	sp := &nsenter.Spawn{Cgroup2: -1, ProcFd: -1, Fork: plan.Forks(), KeepFds: 3 + o.PreserveFds}
	for _, j := range plan.Joins {
		f, err := openNamespace(j)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		sp.NsFds = append(sp.NsFds, int(f.Fd()))
		sp.NsFlags = append(sp.NsFlags, j.Flag)
	}
	var tasks []*os.File
	if cg, err := r.loadCgroup(st); err == nil {
		cgFD, err := cg.OpenFD()
		if err != nil {
			return 0, err
		}
		if cgFD != nil {
			defer cgFD.Close()
			sp.Cgroup2 = int(cgFD.Fd())
		}
		if tasks, err = cg.OpenTasks(); err != nil {
			return 0, err
		}
		defer func() {
			for _, f := range tasks {
				f.Close()
			}
		}()
		for _, f := range tasks {
			sp.CgroupFiles = append(sp.CgroupFiles, int(f.Fd()))
		}
	} else if !errors.Is(err, errNoCgroup) {
		return 0, err
	}
	procFd, err := openHostProc()
	if err != nil {
		return 0, err
	}
	defer unix.Close(procFd)
	sp.ProcFd = procFd

	var sched process.Sched
	lims, err := r.directAttrs(sp, st, p, &sched)
	if err != nil {
		return 0, err
	}
	capPlan, err := r.directUser(sp, p)
	if err != nil {
		return 0, err
	}
	if prog != nil {
		sp.BPF, sp.SeccompFlags = prog.BPF, prog.Flags
	}
	pid, _, err := sp.Start()
	if err == nil {
		return pid, nil
	}
	var se *nsenter.Error
	if !errors.As(err, &se) {
		return 0, err
	}
	if se.Step == nsenter.StepClone && se.Errno == unix.ENOSYS {
		return 0, errNoSpawner
	}
	return 0, describeSpawn(se, sp, plan, tasks, lims, p, sched, capPlan)
}

// openHostProc opens our /proc and checks that it is procfs: the spawner
// reaches oom_score_adj and setgroups through it after it has joined the
// container's mount namespace, whose /proc the container controls.
func openHostProc() (int, error) {
	fd, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: "/proc", Err: err}
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err != nil || fs.Type != unix.PROC_SUPER_MAGIC {
		unix.Close(fd)
		return -1, errors.New("/proc is not procfs")
	}
	return fd, nil
}

// directAttrs fills in the attributes the exec helper's applyAttrs sets,
// checked the same way.
func (r *Runtime) directAttrs(sp *nsenter.Spawn, st *State, p *specs.Process, sched *process.Sched) ([]process.Rlimit, error) {
	if p.OOMScoreAdj != nil {
		v := *p.OOMScoreAdj
		if err := process.CheckOOMScoreAdj(v); err != nil {
			return nil, err
		}
		sp.OOMScoreAdj = &v
	}
	if p.IOPriority != nil {
		prio, err := process.ParseIOPriority(p.IOPriority)
		if err != nil {
			return nil, err
		}
		v := int(prio)
		sp.IOPriority = &v
	}
	if p.Scheduler != nil {
		s, err := process.ParseScheduler(p.Scheduler)
		if err != nil {
			return nil, err
		}
		*sched = s
		sp.Sched = &unix.SchedAttr{
			Policy: s.Policy, Flags: s.Flags, Nice: s.Nice, Priority: s.Priority,
			Runtime: s.Runtime, Deadline: s.Deadline, Period: s.Period,
		}
	}
	if l := st.Config.Linux; l != nil && l.Personality != nil {
		pers, err := process.ParsePersonality(l.Personality)
		if err != nil {
			return nil, err
		}
		sp.Personality = &pers
	}
	aff, err := process.ParseCPUAffinity(p.ExecCPUAffinity)
	if err != nil {
		return nil, err
	}
	sp.Initial, sp.Final = aff.Initial, aff.Final
	limits, err := process.ParseRlimits(p.Rlimits)
	if err != nil {
		return nil, err
	}
	nofile := false
	for _, l := range limits {
		nofile = nofile || l.Resource == unix.RLIMIT_NOFILE
	}
	// The Go runtime raised our soft RLIMIT_NOFILE at start-up; the
	// process gets the one we were started with unless the config sets
	// one (as syscall.Exec would do).
	if soft, hard, ok := nsenter.StartNofile(); ok && !nofile {
		limits = append(limits, process.Rlimit{Type: "RLIMIT_NOFILE", Resource: unix.RLIMIT_NOFILE, Soft: soft, Hard: hard})
	}
	for _, l := range limits {
		sp.Rlimits = append(sp.Rlimits, nsenter.Rlimit{Resource: l.Resource, Soft: l.Soft, Hard: l.Hard})
	}
	return limits, nil
}

// directUser fills in the process's command, environment, user and
// capabilities.
func (r *Runtime) directUser(sp *nsenter.Spawn, p *specs.Process) (caps.Plan, error) {
	sp.Args, sp.Env, sp.Cwd, sp.Path = p.Args, p.Env, p.Cwd, defaultPath
	if sp.Cwd == "" {
		sp.Cwd = "/"
	}
	sp.NeedHome = true
	for _, e := range p.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			sp.Path = v
		}
		if strings.HasPrefix(e, "HOME=") {
			sp.NeedHome = false
		}
	}
	u := p.User
	sp.UID, sp.GID, sp.Groups = u.UID, u.GID, u.AdditionalGids
	var err error
	if sp.Umask, err = process.Umask(u); err != nil {
		return caps.Plan{}, err
	}
	// No capabilities in the config means none at all, not the runtime's.
	c := p.Capabilities
	if c == nil {
		c = &specs.LinuxCapabilities{}
	}
	plan, err := caps.NewPlan(c)
	if err != nil {
		return plan, err
	}
	for _, w := range plan.Warnings {
		r.Log.Warn(w)
	}
	sp.Bounding, sp.Effective, sp.Permitted = uint64(plan.Bounding), uint64(plan.Effective), uint64(plan.Permitted)
	sp.Inheritable, sp.Ambient, sp.LastCap = uint64(plan.Inheritable), uint64(plan.Ambient), int(plan.Last)
	sp.NoNewPrivs = p.NoNewPrivileges
	return plan, nil
}

// describeSpawn words a spawner failure as the exec helper words the
// same failure.
func describeSpawn(e *nsenter.Error, sp *nsenter.Spawn, plan *namespaces.Plan, tasks []*os.File,
	lims []process.Rlimit, p *specs.Process, sched process.Sched, cp caps.Plan) error {
	errno := e.Errno
	sys := func(call string) error { return os.NewSyscallError(call, errno) }
	switch e.Step {
	case nsenter.StepClone:
		return fmt.Errorf("start exec process: %w", sys("clone3"))
	case nsenter.StepStack:
		return fmt.Errorf("start exec process: %w", sys("mmap"))
	case nsenter.StepDumpable:
		return sys("prctl PR_SET_DUMPABLE")
	case nsenter.StepAffinityInitial:
		return fmt.Errorf("process.execCPUAffinity.initial: %w", sys("sched_setaffinity"))
	case nsenter.StepCgroup:
		name := "cgroup.procs"
		if e.Index < len(tasks) {
			name = tasks[e.Index].Name()
		}
		return fmt.Errorf("enter cgroup (%s): %w", name, errno)
	case nsenter.StepOOM:
		return process.OOMScoreAdjError(*sp.OOMScoreAdj, errno)
	case nsenter.StepSetns:
		if e.Index < len(plan.Joins) {
			j := plan.Joins[e.Index]
			return fmt.Errorf("join %s namespace %s: %w", j.Type, j.Path, sys("setns"))
		}
		return sys("setns")
	case nsenter.StepUsernsRoot:
		return fmt.Errorf("become root in the joined user namespace: %w", sys("setresuid"))
	case nsenter.StepFork:
		return fmt.Errorf("fork into pid namespace: %w", sys("clone3"))
	case nsenter.StepRlimit:
		return process.RlimitError(0, lims[e.Index], errno)
	case nsenter.StepIOPriority:
		return process.IOPriorityError(process.IOPriority(*sp.IOPriority), errno)
	case nsenter.StepSched:
		return process.SchedError(sched, errno)
	case nsenter.StepPersonality:
		return fmt.Errorf("linux.personality: personality %#x: %w", *sp.Personality, sys("personality"))
	case nsenter.StepPersonalityKept:
		return fmt.Errorf("linux.personality: kernel kept %#x instead of %#x", uint32(e.Index), *sp.Personality)
	case nsenter.StepBounding:
		return caps.DropError(caps.Cap(e.Index), errno)
	case nsenter.StepChdir:
		return fmt.Errorf("chdir to cwd (%q) set in config.json failed: %w", sp.Cwd, errno)
	case nsenter.StepCwdOutside:
		return fmt.Errorf("cwd %q is outside the container's root: %w", sp.Cwd, unix.EPERM)
	case nsenter.StepSeccomp:
		return fmt.Errorf("load seccomp filter: %w", seccomp.LoadError(errno, sp.SeccompFlags))
	case nsenter.StepKeepCaps:
		return sys("prctl PR_SET_KEEPCAPS")
	case nsenter.StepSetgroups:
		return fmt.Errorf("process.user.additionalGids: %w", sys("setgroups"))
	case nsenter.StepSetgroupsDenied:
		return errors.New("process.user.additionalGids: setgroups is denied in this user namespace (/proc/self/setgroups)")
	case nsenter.StepSetgid:
		return fmt.Errorf("process.user.gid: setresgid %d: %w", sp.GID, sys("setresgid"))
	case nsenter.StepSetuid:
		return fmt.Errorf("process.user.uid: setresuid %d: %w", sp.UID, sys("setresuid"))
	case nsenter.StepCapset:
		return caps.SetError(cp, errno)
	case nsenter.StepAmbientClear:
		return sys("prctl PR_CAP_AMBIENT_CLEAR_ALL")
	case nsenter.StepAmbient:
		return caps.AmbientError(caps.Cap(e.Index), errno)
	case nsenter.StepNoNewPrivs:
		return sys("prctl no_new_privs")
	case nsenter.StepCloseRange:
		return sys("close_range")
	case nsenter.StepAffinityFinal:
		return fmt.Errorf("process.execCPUAffinity.final: %w", sys("sched_setaffinity"))
	case nsenter.StepDied:
		return fmt.Errorf("start exec process: the spawner's first child died (wait status %#x)", e.Index)
	case nsenter.StepLookupStat:
		return fmt.Errorf("exec: %q: %w", p.Args[0], &os.PathError{Op: "stat", Path: e.Path, Err: errno})
	case nsenter.StepLookupAccess:
		return fmt.Errorf("exec: %q: %w", p.Args[0], errno)
	case nsenter.StepLookupPath:
		if errno == unix.EACCES {
			return fmt.Errorf("exec: %q: %w", p.Args[0], errno)
		}
		return fmt.Errorf("exec: %q: executable file not found in $PATH", p.Args[0])
	}
	return fmt.Errorf("exec: setup step %d: %w", e.Step, syscall.Errno(errno))
}
