package nsenter

// #include <stdlib.h>
// #include <string.h>
// #include "spawn.h"
import "C"

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Spawn is everything the exec spawner (spawn.c) needs to start a process
// in a running container without a helper program: the runtime prepares
// it all (namespace and cgroup fds, capability sets, rlimits, the compiled
// seccomp filter), and the C side only makes system calls.
//
// Why not the exec helper, `unha-runtime init` re-executed and joining the
// namespaces in the constructor: that is a second Go program start and its
// first JSON decode, ~3 ms of an exec that runc needs ~20 ms for and crun
// ~6 ms. The spawner's children share the runtime's memory (CLONE_VM, as
// posix_spawn(3)) and execve the container's process directly. What they
// cannot do, the helper still does (see Supported and the runtime's
// choice): a terminal, a seccomp notify fd, a joined time namespace
// (timens_install refuses a process whose memory another process shares).
type Spawn struct {
	// Namespace fds to setns, in order (a user namespace first), and
	// their CLONE_NEW* flags.
	NsFds   []int
	NsFlags []uintptr
	// Fork: a joined pid namespace applies to children only.
	Fork bool
	// Cgroup2 is a cgroup2 directory fd to clone3 into, or -1.
	Cgroup2 int
	// CgroupFiles are cgroup v1 "tasks" fds to write "0" to.
	CgroupFiles []int
	// ProcFd is the host's /proc, already checked to be procfs.
	ProcFd int

	OOMScoreAdj *int
	IOPriority  *int
	Sched       *unix.SchedAttr
	Personality *uint32
	Initial     *unix.CPUSet
	Final       *unix.CPUSet
	Rlimits     []Rlimit

	Args []string
	Env  []string
	// NeedHome: Env has no HOME; the spawner adds the user's from the
	// container's /etc/passwd.
	NeedHome bool
	Path     string // the PATH to search for a bare Args[0]
	Cwd      string

	UID, GID, Umask uint32
	Groups          []uint32

	Bounding, Effective, Permitted, Inheritable, Ambient uint64
	LastCap                                              int

	BPF          []byte // struct sock_filter array, or nil
	SeccompFlags uint
	NoNewPrivs   bool
	// KeepFds: the fds below it (stdio and the preserved ones) cross
	// execve; every other one is made close-on-exec.
	KeepFds int
}

// Rlimit is one rlimit to set, exactly.
type Rlimit struct {
	Resource   int
	Soft, Hard uint64
}

// Step names the setup step that failed.
type Step int

// The steps, as enum unha_step in spawn.h.
const (
	StepOK               = Step(C.UNHA_OK)
	StepClone            = Step(C.UNHA_CLONE)
	StepStack            = Step(C.UNHA_STACK)
	StepDumpable         = Step(C.UNHA_DUMPABLE)
	StepAffinityInitial  = Step(C.UNHA_AFFINITY_INITIAL)
	StepCgroup           = Step(C.UNHA_CGROUP)
	StepOOM              = Step(C.UNHA_OOM)
	StepSetns            = Step(C.UNHA_SETNS)
	StepUsernsRoot       = Step(C.UNHA_USERNS_ROOT)
	StepFork             = Step(C.UNHA_FORK)
	StepRlimit           = Step(C.UNHA_RLIMIT)
	StepIOPriority       = Step(C.UNHA_IOPRIO)
	StepSched            = Step(C.UNHA_SCHED)
	StepPersonality      = Step(C.UNHA_PERSONALITY)
	StepPersonalityKept  = Step(C.UNHA_PERSONALITY_KEPT)
	StepBounding         = Step(C.UNHA_BOUNDING)
	StepChdir            = Step(C.UNHA_CHDIR)
	StepCwdOutside       = Step(C.UNHA_CWD_OUTSIDE)
	StepSeccomp          = Step(C.UNHA_SECCOMP)
	StepKeepCaps         = Step(C.UNHA_KEEPCAPS)
	StepSetgroups        = Step(C.UNHA_SETGROUPS)
	StepSetgroupsDenied  = Step(C.UNHA_SETGROUPS_DENIED)
	StepSetgid           = Step(C.UNHA_SETGID)
	StepSetuid           = Step(C.UNHA_SETUID)
	StepCapset           = Step(C.UNHA_CAPSET)
	StepAmbientClear     = Step(C.UNHA_AMBIENT_CLEAR)
	StepAmbient          = Step(C.UNHA_AMBIENT)
	StepNoNewPrivs       = Step(C.UNHA_NNP)
	StepCloseRange       = Step(C.UNHA_CLOSE_RANGE)
	StepAffinityFinal    = Step(C.UNHA_AFFINITY_FINAL)
	StepLookupStat       = Step(C.UNHA_LOOKUP_STAT)
	StepLookupAccess     = Step(C.UNHA_LOOKUP_ACCESS)
	StepLookupPath       = Step(C.UNHA_LOOKUP_PATH)
	StepDied             = Step(C.UNHA_DIED)
	maxNs, maxCg, maxRl  = C.UNHA_MAX_NS, C.UNHA_MAX_CGFD, C.UNHA_MAX_RLIMITS
	maxGroupsForSetgroup = 65536 // NGROUPS_MAX
)

// Error is a failed spawn: the step, its index (which namespace, cgroup
// file, rlimit or capability; the value the kernel kept for
// StepPersonalityKept) and errno. Path is the path a lookup step failed on.
type Error struct {
	Step  Step
	Index int
	Errno syscall.Errno
	Path  string
}

func (e *Error) Error() string {
	return "spawn: step " + itoa(int(e.Step)) + ": " + e.Errno.Error()
}

func itoa(v int) string {
	var b [20]byte
	i := len(b)
	neg := v < 0
	if neg {
		v = -v
	}
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// Start makes the process and returns its pid (in our pid namespace) once
// it has exec'd. execFailed says that execve itself failed after the
// setup: the process has printed why and exits 127, as a process that
// started. A limit of the C side (too many namespaces or files, an
// argument with a NUL) is an EINVAL Error of StepClone; ENOSYS of StepClone
// means the spawner cannot run here (no clone3, or an architecture it is
// not written for): use the helper.
func (sp *Spawn) Start() (pid int, execFailed bool, err error) {
	if len(sp.NsFds) > maxNs || len(sp.CgroupFiles) >= maxCg || len(sp.Rlimits) > maxRl ||
		len(sp.NsFds) != len(sp.NsFlags) || len(sp.Args) == 0 || len(sp.Groups) > maxGroupsForSetgroup {
		return 0, false, &Error{Step: StepClone, Errno: unix.EINVAL}
	}
	var a arena
	defer a.free()
	s := (*C.struct_unha_spawn)(a.alloc(C.sizeof_struct_unha_spawn))
	for i, fd := range sp.NsFds {
		s.ns_fd[i] = C.int(fd)
		s.ns_flag[i] = C.int(sp.NsFlags[i])
	}
	s.nns = C.int(len(sp.NsFds))
	s.fork = cbool(sp.Fork)
	s.cgroup2_fd = C.int(sp.Cgroup2)
	for i, fd := range sp.CgroupFiles {
		s.cg_fd[i] = C.int(fd)
	}
	s.ncg = C.int(len(sp.CgroupFiles))
	s.proc_fd = C.int(sp.ProcFd)
	if sp.OOMScoreAdj != nil {
		s.has_oom, s.oom = 1, C.int(*sp.OOMScoreAdj)
	}
	if sp.IOPriority != nil {
		s.has_ioprio, s.ioprio = 1, C.int(*sp.IOPriority)
	}
	if x := sp.Sched; x != nil {
		s.has_sched = 1
		s.sched_policy, s.sched_priority, s.sched_nice = C.uint32_t(x.Policy), C.uint32_t(x.Priority), C.int32_t(x.Nice)
		s.sched_flags, s.sched_runtime = C.uint64_t(x.Flags), C.uint64_t(x.Runtime)
		s.sched_deadline, s.sched_period = C.uint64_t(x.Deadline), C.uint64_t(x.Period)
	}
	if sp.Personality != nil {
		s.has_personality, s.personality = 1, C.uint32_t(*sp.Personality)
	}
	if sp.Initial != nil {
		s.has_initial = 1
		for i, w := range sp.Initial {
			s.initial[i] = C.uint64_t(w)
		}
	}
	if sp.Final != nil {
		s.has_final = 1
		for i, w := range sp.Final {
			s.final[i] = C.uint64_t(w)
		}
	}
	for i, r := range sp.Rlimits {
		s.rl[i].resource = C.int(r.Resource)
		s.rl[i].soft, s.rl[i].hard = C.uint64_t(r.Soft), C.uint64_t(r.Hard)
	}
	s.nrl = C.int(len(sp.Rlimits))
	var ok bool
	if s.cwd, ok = a.str(sp.Cwd); !ok {
		return 0, false, &Error{Step: StepClone, Errno: unix.EINVAL}
	}
	if s.path, ok = a.str(sp.Path); !ok {
		return 0, false, &Error{Step: StepClone, Errno: unix.EINVAL}
	}
	if s.argv, ok = a.strv(sp.Args, 0); !ok {
		return 0, false, &Error{Step: StepClone, Errno: unix.EINVAL}
	}
	extra := 0
	if sp.NeedHome {
		extra = 1 // the slot for HOME
	}
	if s.envp, ok = a.strv(sp.Env, extra); !ok {
		return 0, false, &Error{Step: StepClone, Errno: unix.EINVAL}
	}
	s.envc, s.need_home = C.int(len(sp.Env)), cbool(sp.NeedHome)
	s.uid, s.gid, s.umask = C.uint32_t(sp.UID), C.uint32_t(sp.GID), C.uint32_t(sp.Umask)
	if len(sp.Groups) > 0 {
		g := (*[1 << 20]C.uint32_t)(a.alloc(uintptr(len(sp.Groups)) * 4))
		for i, v := range sp.Groups {
			g[i] = C.uint32_t(v)
		}
		s.groups = &g[0]
	}
	s.ngroups = C.int(len(sp.Groups))
	s.bounding, s.effective, s.permitted = C.uint64_t(sp.Bounding), C.uint64_t(sp.Effective), C.uint64_t(sp.Permitted)
	s.inheritable, s.ambient, s.last_cap = C.uint64_t(sp.Inheritable), C.uint64_t(sp.Ambient), C.int(sp.LastCap)
	if len(sp.BPF) > 0 {
		if len(sp.BPF)%8 != 0 || len(sp.BPF)/8 > 0xffff {
			return 0, false, &Error{Step: StepSeccomp, Errno: unix.EINVAL}
		}
		b := a.alloc(uintptr(len(sp.BPF)))
		C.memcpy(b, unsafe.Pointer(&sp.BPF[0]), C.size_t(len(sp.BPF)))
		s.bpf, s.bpf_len = b, C.int(len(sp.BPF)/8)
	}
	s.seccomp_flags = C.uint(sp.SeccompFlags)
	s.nnp = cbool(sp.NoNewPrivs)
	s.keep_fds = C.int(sp.KeepFds)

	if C.unha_spawn(s) == 0 {
		return int(s.pid), s.exec_failed != 0, nil
	}
	e := &Error{Step: Step(s.step), Index: int(s.index), Errno: syscall.Errno(s.err)}
	if e.Step == StepLookupStat || e.Step == StepLookupAccess {
		e.Path = C.GoString(&s.lookup[0])
	}
	return 0, false, e
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// arena is C memory for one spawn: the children read it while they share
// our memory, and Go memory could move under cgo's rules.
type arena struct{ ptrs []unsafe.Pointer }

func (a *arena) alloc(n uintptr) unsafe.Pointer {
	p := C.calloc(1, C.size_t(n))
	if p == nil {
		panic("nsenter: out of memory")
	}
	a.ptrs = append(a.ptrs, p)
	return p
}

func (a *arena) str(s string) (*C.char, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return nil, false
		}
	}
	p := a.alloc(uintptr(len(s)) + 1)
	if len(s) > 0 {
		C.memcpy(p, unsafe.Pointer(unsafe.StringData(s)), C.size_t(len(s)))
	}
	return (*C.char)(p), true
}

// strv is a NULL-terminated array of strings with extra free slots
// before the NULL (calloc leaves them NULL).
func (a *arena) strv(v []string, extra int) (**C.char, bool) {
	arr := (*[1 << 28]*C.char)(a.alloc(uintptr(len(v)+extra+1) * unsafe.Sizeof((*C.char)(nil))))
	for i, s := range v {
		p, ok := a.str(s)
		if !ok {
			return nil, false
		}
		arr[i] = p
	}
	return &arr[0], true
}

func (a *arena) free() {
	for _, p := range a.ptrs {
		C.free(p)
	}
}
