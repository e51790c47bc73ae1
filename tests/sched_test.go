package tests

import (
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// hostSched returns the caller's personality, I/O priority, scheduling policy and CPU list:
// a container that asks for none of them must inherit them unchanged.
func hostSched(t *testing.T) (int, int, int, []int) {
	t.Helper()
	pers, _, errno := unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	const ioprioWhoProcess = 1
	prio, _, errno := unix.Syscall(unix.SYS_IOPRIO_GET, ioprioWhoProcess, 0, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	pol, _, errno := unix.Syscall(unix.SYS_SCHED_GETSCHEDULER, 0, 0, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	var cpus []int
	for i := 0; i < len(set)*64; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return int(pers), int(prio), int(pol), cpus
}

func TestProcessSchedulingDefaults(t *testing.T) {
	e := newEnv(t)
	rep := e.Probe(e.NewBundle())
	pers, prio, pol, cpus := hostSched(t)
	if rep.Personality != pers || rep.Ioprio != prio || rep.SchedPolicy != pol {
		t.Errorf("personality/ioprio/policy %#x/%#x/%d, want the caller's %#x/%#x/%d",
			rep.Personality, rep.Ioprio, rep.SchedPolicy, pers, prio, pol)
	}
	if fmt.Sprint(rep.CPUAffinity) != fmt.Sprint(cpus) {
		t.Errorf("cpu affinity %v, want the caller's %v", rep.CPUAffinity, cpus)
	}
}

// TestProcessSchedulingFields covers runtime-spec fields newer than runc 1.1: each must be
// honoured (or rejected, which these tests would report as a failed run).
func TestProcessSchedulingFields(t *testing.T) {
	t.Run("personality", func(t *testing.T) {
		skipIfRunc(t, "runc 1.1 ignores linux.personality")
		e := newEnv(t)
		b := e.NewBundle()
		b.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
		const perLinux32 = 0x0008
		if rep := e.Probe(b); rep.Personality&0xff != perLinux32 {
			t.Errorf("personality %#x, want PER_LINUX32", rep.Personality)
		}
	})
	t.Run("ioPriority", func(t *testing.T) {
		skipIfRunc(t, "runc 1.1 ignores process.ioPriority")
		e := newEnv(t)
		b := e.NewBundle()
		b.Spec.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 7}
		const want = 2<<13 | 7 // IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 7)
		if rep := e.Probe(b); rep.Ioprio != want {
			t.Errorf("ioprio %#x, want %#x", rep.Ioprio, want)
		}
	})
	t.Run("scheduler", func(t *testing.T) {
		skipIfRunc(t, "runc 1.1 ignores process.scheduler")
		e := newEnv(t)
		b := e.NewBundle()
		b.Spec.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch}
		const schedBatch = 3
		if rep := e.Probe(b); rep.SchedPolicy != schedBatch {
			t.Errorf("policy %d, want SCHED_BATCH", rep.SchedPolicy)
		}
	})
}

// TestSeccomp installs a filter that fails getcwd with EPERM and otherwise allows all.
func TestSeccomp(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	errno := uint(unix.EPERM)
	b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getcwd"}, Action: specs.ActErrno, ErrnoRet: &errno}},
	}
	rep := e.Probe(b)
	if rep.Seccomp != 2 {
		t.Errorf("Seccomp mode %d, want 2 (filter)", rep.Seccomp)
	}
	if rep.Cwd != "" || !strings.Contains(strings.Join(rep.Errors, "\n"), "getcwd: operation not permitted") {
		t.Errorf("getcwd was not refused: cwd %q errors %q", rep.Cwd, rep.Errors)
	}
	if rep := e.Probe(e.NewBundle()); rep.Seccomp != 0 {
		t.Errorf("Seccomp mode %d without a filter, want 0", rep.Seccomp)
	}
}

// TestProcessCPUAffinity: execCPUAffinity.initial is the process's
// affinity from before it joins the container's cgroup, final the one it
// execs with; a process with only initial keeps it. The same for exec,
// which starts another process with the container's settings.
func TestProcessCPUAffinity(t *testing.T) {
	skipIfRunc(t, "runc 1.1 ignores process.execCPUAffinity")
	_, _, _, cpus := hostSched(t)
	if len(cpus) < 2 {
		t.Skip("needs two CPUs")
	}
	first, last := fmt.Sprint(cpus[0]), fmt.Sprint(cpus[len(cpus)-1])
	for _, tc := range []struct {
		name string
		aff  specs.CPUAffinity
		want string
	}{
		{"initial", specs.CPUAffinity{Initial: last}, "[" + last + "]"},
		{"final", specs.CPUAffinity{Initial: last, Final: first}, "[" + first + "]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.NewBundle()
			b.Spec.Process.ExecCPUAffinity = &tc.aff
			if rep := e.Probe(b); fmt.Sprint(rep.CPUAffinity) != tc.want {
				t.Errorf("run: cpu affinity %v, want %s", rep.CPUAffinity, tc.want)
			}
			c, _ := runningContainer(t, e, b)
			if rep := execReport(t, c); fmt.Sprint(rep.CPUAffinity) != tc.want {
				t.Errorf("exec: cpu affinity %v, want %s", rep.CPUAffinity, tc.want)
			}
		})
	}
}
