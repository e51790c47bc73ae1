package process

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func wantErr(t *testing.T, err error, substr string) {
	t.Helper()
	if substr == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %v, want one containing %q", err, substr)
	}
}

func TestParseRlimits(t *testing.T) {
	got, err := ParseRlimits([]specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096},
		{Type: "RLIMIT_CORE", Soft: 0, Hard: unix.RLIM_INFINITY},
	})
	wantErr(t, err, "")
	want := []Rlimit{
		{Type: "RLIMIT_NOFILE", Resource: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 4096},
		{Type: "RLIMIT_CORE", Resource: unix.RLIMIT_CORE, Soft: 0, Hard: unix.RLIM_INFINITY},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	// Every name of getrlimit(2) is known.
	for _, n := range []string{"AS", "CORE", "CPU", "DATA", "FSIZE", "LOCKS", "MEMLOCK", "MSGQUEUE",
		"NICE", "NOFILE", "NPROC", "RSS", "RTPRIO", "RTTIME", "SIGPENDING", "STACK"} {
		if _, err := ParseRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_" + n}}); err != nil {
			t.Errorf("RLIMIT_%s: %v", n, err)
		}
	}
	for in, msg := range map[string][]specs.POSIXRlimit{
		`unknown rlimit type "RLIMIT_FOO"`:                         {{Type: "RLIMIT_FOO"}},
		`unknown rlimit type "nofile"`:                             {{Type: "nofile"}},
		"RLIMIT_CPU given more than once":                          {{Type: "RLIMIT_CPU"}, {Type: "RLIMIT_CPU"}},
		"RLIMIT_NOFILE soft limit unlimited exceeds hard limit 10": {{Type: "RLIMIT_NOFILE", Soft: unix.RLIM_INFINITY, Hard: 10}},
	} {
		_, err := ParseRlimits(msg)
		wantErr(t, err, in)
	}
}

func TestParseIOPriority(t *testing.T) {
	for _, tt := range []struct {
		in    specs.LinuxIOPriority
		class int
		level int
		err   string
	}{
		{in: specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_RT, Priority: 0}, class: 1},
		{in: specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 7}, class: 2, level: 7},
		{in: specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE}, class: 3},
		{in: specs.LinuxIOPriority{Class: "IOPRIO_CLASS_NONE"}, err: `process.ioPriority.class: unknown class "IOPRIO_CLASS_NONE"`},
		{in: specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 8}, err: "process.ioPriority.priority: 8 is outside 0-7"},
		{in: specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: -1}, err: "outside"},
	} {
		p, err := ParseIOPriority(&tt.in)
		wantErr(t, err, tt.err)
		if tt.err == "" && (p.Class() != tt.class || p.Level() != tt.level || int(p) != tt.class<<13|tt.level) {
			t.Errorf("%+v: got %d (class %d level %d)", tt.in, p, p.Class(), p.Level())
		}
	}
}

func TestParseScheduler(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   specs.Scheduler
		want Sched
		err  string
	}{
		{name: "other nice", in: specs.Scheduler{Policy: specs.SchedOther, Nice: -5},
			want: Sched{Policy: 0, Nice: -5, Name: "SCHED_OTHER"}},
		{name: "fifo", in: specs.Scheduler{Policy: specs.SchedFIFO, Priority: 50, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}},
			want: Sched{Policy: 1, Priority: 50, Flags: 1, Name: "SCHED_FIFO"}},
		{name: "all flags", in: specs.Scheduler{Policy: specs.SchedBatch, Flags: []specs.LinuxSchedulerFlag{
			specs.SchedFlagResetOnFork, specs.SchedFlagReclaim, specs.SchedFlagDLOverrun, specs.SchedFlagKeepPolicy,
			specs.SchedFlagKeepParams, specs.SchedFlagUtilClampMin, specs.SchedFlagUtilClampMax}},
			want: Sched{Policy: 3, Flags: 0x7f, Name: "SCHED_BATCH"}},
		{name: "idle", in: specs.Scheduler{Policy: specs.SchedIdle}, want: Sched{Policy: 5, Name: "SCHED_IDLE"}},
		{name: "iso", in: specs.Scheduler{Policy: specs.SchedISO}, want: Sched{Policy: 4, Name: "SCHED_ISO"}},
		{name: "deadline", in: specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 1e6, Deadline: 2e6, Period: 3e6},
			want: Sched{Policy: 6, Runtime: 1e6, Deadline: 2e6, Period: 3e6, Name: "SCHED_DEADLINE"}},
		{name: "unknown policy", in: specs.Scheduler{Policy: "SCHED_FAST"}, err: `process.scheduler.policy: unknown policy "SCHED_FAST"`},
		{name: "unknown flag", in: specs.Scheduler{Policy: specs.SchedOther, Flags: []specs.LinuxSchedulerFlag{"SCHED_FLAG_X"}},
			err: `process.scheduler.flags: unknown flag "SCHED_FLAG_X"`},
		{name: "nice range", in: specs.Scheduler{Policy: specs.SchedOther, Nice: 20}, err: "process.scheduler.nice: 20 is outside -20..19"},
		{name: "rr without priority", in: specs.Scheduler{Policy: specs.SchedRR}, err: "SCHED_RR needs a priority in 1..99, got 0"},
		{name: "fifo 100", in: specs.Scheduler{Policy: specs.SchedFIFO, Priority: 100}, err: "process.scheduler.priority"},
		{name: "other with priority", in: specs.Scheduler{Policy: specs.SchedOther, Priority: 1}, err: "must be 0 for SCHED_OTHER"},
		{name: "deadline fields elsewhere", in: specs.Scheduler{Policy: specs.SchedOther, Runtime: 1, Period: 2},
			err: "process.scheduler: period, runtime only applies to SCHED_DEADLINE"},
		{name: "deadline without runtime", in: specs.Scheduler{Policy: specs.SchedDeadline}, err: "process.scheduler.runtime"},
		{name: "deadline below runtime", in: specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 2, Deadline: 1}, err: "process.scheduler.deadline"},
		{name: "period below deadline", in: specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 1, Deadline: 3, Period: 2}, err: "process.scheduler.period"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseScheduler(&tt.in)
			wantErr(t, err, tt.err)
			if tt.err == "" && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func cpuList(cpus ...int) unix.CPUSet {
	var s unix.CPUSet
	for _, c := range cpus {
		s.Set(c)
	}
	return s
}

func TestParseCPUList(t *testing.T) {
	for in, want := range map[string]unix.CPUSet{
		"0":           cpuList(0),
		"0-3,7":       cpuList(0, 1, 2, 3, 7),
		" 1 , 3-4 ":   cpuList(1, 3, 4),
		"5-5":         cpuList(5),
		"1023":        cpuList(1023),
		"0,0,1":       cpuList(0, 1),
		"64-65,127":   cpuList(64, 65, 127),
		"2,1000-1001": cpuList(2, 1000, 1001),
	} {
		got, err := ParseCPUList(in)
		if err != nil || got != want {
			t.Errorf("ParseCPUList(%q) = %v, %v", in, FormatCPUList(&got), err)
		}
	}
	for in, msg := range map[string]string{
		"":       "empty cpu list",
		"3-1":    "reversed",
		"a":      `bad cpu number "a"`,
		"1,":     `bad cpu number ""`,
		"-1":     `bad cpu number ""`,
		"1024":   "beyond the 1024 cpus",
		"0-2000": "beyond",
		"1-2-3":  "bad cpu number",
	} {
		_, err := ParseCPUList(in)
		wantErr(t, err, msg)
	}
	s := cpuList(0, 1, 2, 3, 7, 9, 10)
	if got := FormatCPUList(&s); got != "0-3,7,9-10" {
		t.Errorf("FormatCPUList = %s", got)
	}
}

func TestParseCPUAffinity(t *testing.T) {
	a, err := ParseCPUAffinity(&specs.CPUAffinity{Initial: "0-1", Final: "1"})
	wantErr(t, err, "")
	if a.Initial == nil || *a.Initial != cpuList(0, 1) || a.Final == nil || *a.Final != cpuList(1) {
		t.Errorf("got %+v", a)
	}
	a, err = ParseCPUAffinity(&specs.CPUAffinity{Final: "3"})
	wantErr(t, err, "")
	if a.Initial != nil || a.Final == nil {
		t.Errorf("got %+v", a)
	}
	if a, err := ParseCPUAffinity(nil); err != nil || a.Initial != nil || a.Final != nil {
		t.Errorf("nil: %+v, %v", a, err)
	}
	_, err = ParseCPUAffinity(&specs.CPUAffinity{Initial: "0", Final: "x"})
	wantErr(t, err, "process.execCPUAffinity.final: ")
}

func TestParsePersonality(t *testing.T) {
	for _, tt := range []struct {
		in   specs.LinuxPersonality
		want uint32
		err  string
	}{
		{in: specs.LinuxPersonality{Domain: specs.PerLinux}, want: 0},
		{in: specs.LinuxPersonality{Domain: specs.PerLinux32}, want: 8},
		{in: specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE", "READ_IMPLIES_EXEC"}}, want: 0x0440000},
		{in: specs.LinuxPersonality{Domain: "BSD"}, err: `linux.personality.domain: unknown domain "BSD"`},
		{in: specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"FAST"}}, err: `linux.personality.flags: unknown flag "FAST"`},
	} {
		got, err := ParsePersonality(&tt.in)
		wantErr(t, err, tt.err)
		if tt.err == "" && got != tt.want {
			t.Errorf("%+v: %#x, want %#x", tt.in, got, tt.want)
		}
	}
}

func TestParseSysctl(t *testing.T) {
	got, err := ParseSysctl(map[string]string{"net.ipv4.ip_forward": "1", "kernel.msgmax": "8192", "fs.mqueue.queues_max": "10"})
	wantErr(t, err, "")
	want := []SysctlEntry{
		{Key: "fs.mqueue.queues_max", Path: "fs/mqueue/queues_max", Value: "10"},
		{Key: "kernel.msgmax", Path: "kernel/msgmax", Value: "8192"},
		{Key: "net.ipv4.ip_forward", Path: "net/ipv4/ip_forward", Value: "1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	for key, msg := range map[string]string{
		"net/ipv4/ip_forward":          "contains '/'",
		"net.ipv4.conf.eth0/1.forward": "contains '/'",
		"kernel..core_pattern":         "empty component",
		"..kernel.core_pattern":        "empty component",
		"kernel.":                      "empty component",
		".kernel":                      "empty component",
		"":                             "empty component",
	} {
		_, err := ParseSysctl(map[string]string{key: "x"})
		wantErr(t, err, msg)
	}
}

func TestWriteSysctlsRefusesSymlinks(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "net/ipv4"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "net/ipv4/ip_forward"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "target"), []byte("orig"), 0o644); err != nil {
		t.Fatal(err)
	}
	// kernel -> outside (directory symlink); fs/x -> outside/target.
	if err := os.Symlink(outside, filepath.Join(root, "kernel")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "fs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "target"), filepath.Join(root, "fs/x")); err != nil {
		t.Fatal(err)
	}

	for name, open := range map[string]func(int, string) (int, error){"openat2": openBeneath, "by component": openByComponents} {
		t.Run(name, func(t *testing.T) {
			dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(dir)
			fd, err := open(dir, "net/ipv4/ip_forward")
			if err != nil {
				t.Fatalf("plain path: %v", err)
			}
			unix.Close(fd)
			for _, rel := range []string{"kernel/target", "fs/x"} {
				if fd, err := open(dir, rel); !errors.Is(err, unix.ELOOP) && !errors.Is(err, unix.ENOTDIR) {
					if err == nil {
						unix.Close(fd)
					}
					t.Errorf("%s: err %v, want ELOOP", rel, err)
				}
			}
		})
	}

	entries, err := ParseSysctl(map[string]string{"net.ipv4.ip_forward": "1"})
	wantErr(t, err, "")
	wantErr(t, writeSysctls(root, entries, false), "")
	if b, _ := os.ReadFile(filepath.Join(root, "net/ipv4/ip_forward")); string(b) != "1" {
		t.Errorf("value %q", b)
	}
	entries, _ = ParseSysctl(map[string]string{"kernel.target": "pwned", "fs.x": "pwned"})
	for _, e := range entries {
		err := writeSysctls(root, []SysctlEntry{e}, false)
		wantErr(t, err, "linux.sysctl["+e.Key+"] (a component is a symlink)")
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "target")); string(b) != "orig" {
		t.Errorf("write escaped through a symlink: %q", b)
	}
	// A directory that is not procfs is refused outright.
	wantErr(t, writeSysctls(root, []SysctlEntry{{Key: "a", Path: "a"}}, true), "is not on procfs")
}

func TestRangeChecks(t *testing.T) {
	wantErr(t, SetOOMScoreAdj(0, 1001), "process.oomScoreAdj: 1001 is outside -1000..1000")
	wantErr(t, SetOOMScoreAdj(0, -1001), "outside")
	wantErr(t, SetHostname(strings.Repeat("h", 65)), "hostname: ")
	wantErr(t, SetDomainname(strings.Repeat("d", 65)), "domainname: ")
	wantErr(t, SetUser(specs.User{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), Umask: ptr(uint32(0o1777))}), "process.user.umask")
}

func ptr[T any](v T) *T { return &v }
