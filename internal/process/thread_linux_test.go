package process

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// --- ioprio ---

func childIOPrio(arg string) (any, error) {
	in, err := decode[specs.LinuxIOPriority](arg)
	if err != nil {
		return nil, err
	}
	p, err := ParseIOPriority(&in)
	if err != nil {
		return nil, err
	}
	if err := SetIOPriority(0, p); err != nil {
		return nil, err
	}
	// Read back by explicit thread id: the same thread, named the other way.
	return GetIOPriority(unix.Gettid())
}

func TestIOPriority(t *testing.T) {
	requireRoot(t)
	for _, in := range []specs.LinuxIOPriority{
		{Class: specs.IOPRIO_CLASS_BE, Priority: 6},
		{Class: specs.IOPRIO_CLASS_RT, Priority: 2},
		{Class: specs.IOPRIO_CLASS_IDLE, Priority: 0},
	} {
		want, _ := ParseIOPriority(&in)
		var got IOPriority
		if msg := child(t, "ioprio", in, nil, &got); msg != "" {
			t.Fatalf("%+v: %s", in, msg)
		}
		if got != want {
			t.Errorf("%+v: ioprio_get = class %d level %d, want class %d level %d", in, got.Class(), got.Level(), want.Class(), want.Level())
		}
	}
}

// --- scheduler ---

func childSched(arg string) (any, error) {
	in, err := decode[specs.Scheduler](arg)
	if err != nil {
		return nil, err
	}
	s, err := ParseScheduler(&in)
	if err != nil {
		return nil, err
	}
	if err := SetScheduler(0, s); err != nil {
		return nil, err
	}
	return unix.SchedGetAttr(0, 0)
}

func TestScheduler(t *testing.T) {
	requireRoot(t)
	for _, tt := range []struct {
		in   specs.Scheduler
		want unix.SchedAttr
	}{
		{in: specs.Scheduler{Policy: specs.SchedBatch, Nice: 7}, want: unix.SchedAttr{Policy: 3, Nice: 7}},
		{in: specs.Scheduler{Policy: specs.SchedIdle}, want: unix.SchedAttr{Policy: 5}},
		{in: specs.Scheduler{Policy: specs.SchedFIFO, Priority: 10, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}},
			want: unix.SchedAttr{Policy: 1, Priority: 10, Flags: 1}},
		{in: specs.Scheduler{Policy: specs.SchedRR, Priority: 3}, want: unix.SchedAttr{Policy: 2, Priority: 3}},
		{in: specs.Scheduler{Policy: specs.SchedOther, Nice: -3}, want: unix.SchedAttr{Policy: 0, Nice: -3}},
	} {
		var got unix.SchedAttr
		if msg := child(t, "sched", tt.in, nil, &got); msg != "" {
			t.Fatalf("%+v: %s", tt.in, msg)
		}
		if got.Policy != tt.want.Policy || got.Nice != tt.want.Nice || got.Priority != tt.want.Priority || got.Flags&1 != tt.want.Flags {
			t.Errorf("%s: sched_getattr = %+v, want %+v", tt.in.Policy, got, tt.want)
		}
	}
	// SCHED_ISO is in the spec but not in Linux: the error must say so.
	msg := child(t, "sched", specs.Scheduler{Policy: specs.SchedISO}, nil, nil)
	if !strings.Contains(msg, "process.scheduler: sched_setattr SCHED_ISO (not implemented by Linux)") {
		t.Errorf("SCHED_ISO: %q", msg)
	}
}

func TestSchedulerDeadline(t *testing.T) {
	requireRoot(t)
	in := specs.Scheduler{Policy: specs.SchedDeadline, Runtime: 1_000_000, Deadline: 10_000_000, Period: 10_000_000}
	var got unix.SchedAttr
	msg := child(t, "sched", in, nil, &got)
	if msg != "" {
		// The kernel may refuse (admission control, root domain); the
		// error must then name the field and the reason.
		if !strings.HasPrefix(msg, "process.scheduler: sched_setattr SCHED_DEADLINE (") {
			t.Fatalf("error %q", msg)
		}
		t.Logf("kernel refused SCHED_DEADLINE: %s", msg)
		return
	}
	if got.Policy != 6 || got.Runtime != in.Runtime || got.Deadline != in.Deadline || got.Period != in.Period {
		t.Errorf("sched_getattr = %+v", got)
	}
}

// --- CPU affinity ---

func childAffinity(arg string) (any, error) {
	list, err := decode[string](arg)
	if err != nil {
		return nil, err
	}
	set, err := ParseCPUList(list)
	if err != nil {
		return nil, err
	}
	if err := SetAffinity(0, &set); err != nil {
		return nil, err
	}
	var got unix.CPUSet
	if err := unix.SchedGetaffinity(0, &got); err != nil {
		return nil, err
	}
	return FormatCPUList(&got), nil
}

func childAffinityAll(arg string) (any, error) {
	list, err := decode[string](arg)
	if err != nil {
		return nil, err
	}
	set, err := ParseCPUList(list)
	if err != nil {
		return nil, err
	}
	if err := SetAffinityAll(os.Getpid(), &set); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	var lists []string
	for _, e := range ents {
		f, err := statusFields("/proc/self/task/"+e.Name()+"/status", "Cpus_allowed_list")
		if err != nil {
			return nil, err
		}
		lists = append(lists, f["Cpus_allowed_list"])
	}
	return lists, nil
}

func onlineCPUs(t *testing.T) []int {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	var cpus []int
	for c := 0; c < maxCPUs; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

func TestAffinity(t *testing.T) {
	cpus := onlineCPUs(t)
	last := strconv.Itoa(cpus[len(cpus)-1])
	// Narrowing one's own affinity within the allowed set needs no privilege.
	var got string
	if msg := child(t, "affinity", last, nil, &got); msg != "" {
		t.Fatal(msg)
	}
	if got != last {
		t.Errorf("affinity %q, want %q", got, last)
	}
	var lists []string
	if msg := child(t, "affinity-all", last, nil, &lists); msg != "" {
		t.Fatal(msg)
	}
	if len(lists) < 2 {
		t.Errorf("only %d threads", len(lists))
	}
	for i, l := range lists {
		if l != last {
			t.Errorf("thread %d: Cpus_allowed_list %q, want %q", i, l, last)
		}
	}
	// A cpu that does not exist here is a clear error.
	msg := child(t, "affinity", "1000", nil, nil)
	if !strings.Contains(msg, "process.execCPUAffinity: sched_setaffinity 1000 (no cpu of the list is online") {
		t.Errorf("error %q", msg)
	}
}

// --- personality ---

type personalityResult struct {
	Value uint32
	Uname string
}

func childPersonality(arg string) (any, error) {
	in, err := decode[specs.LinuxPersonality](arg)
	if err != nil {
		return nil, err
	}
	p, err := ParsePersonality(&in)
	if err != nil {
		return nil, err
	}
	if err := SetPersonality(p); err != nil {
		return nil, err
	}
	got, err := Personality()
	if err != nil {
		return nil, err
	}
	// uname -m in a child shows the domain survives fork and execve.
	out, err := exec.Command("/bin/uname", "-m").Output()
	if err != nil {
		return nil, err
	}
	return personalityResult{Value: got, Uname: strings.TrimSpace(string(out))}, nil
}

func TestPersonality(t *testing.T) {
	requireRoot(t)
	in := specs.LinuxPersonality{Domain: specs.PerLinux32, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}}
	var got personalityResult
	if msg := child(t, "personality", in, nil, &got); msg != "" {
		t.Fatal(msg)
	}
	if got.Value != 0x0040008 {
		t.Errorf("personality = %#x, want 0x40008", got.Value)
	}
	if runtime.GOARCH == "amd64" && got.Uname != "i686" {
		t.Errorf("uname -m under LINUX32 = %q, want i686", got.Uname)
	}
	if msg := child(t, "personality", specs.LinuxPersonality{Domain: specs.PerLinux}, nil, &got); msg != "" || got.Value != 0 {
		t.Errorf("LINUX: %#x %q", got.Value, msg)
	}
}
