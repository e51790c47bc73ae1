package process

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// --- rlimits ---

func childRlimits(arg string) (any, error) {
	in, err := decode[[]specs.POSIXRlimit](arg)
	if err != nil {
		return nil, err
	}
	rl, err := ParseRlimits(in)
	if err != nil {
		return nil, err
	}
	if err := SetRlimits(0, rl); err != nil {
		return nil, err
	}
	return readLimits("/proc/self/limits")
}

// readLimits parses /proc/<pid>/limits, printed by the kernel as
// "%-25s %-20s %-20s %-10s" (name, soft, hard, units).
func readLimits(path string) (map[string][2]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string][2]string{}
	for _, l := range strings.Split(string(b), "\n")[1:] {
		if len(l) < 26 {
			continue
		}
		f := strings.Fields(l[26:])
		if len(f) >= 2 {
			out[strings.TrimSpace(l[:26])] = [2]string{f[0], f[1]}
		}
	}
	return out, nil
}

// dropEffective removes c from the calling thread's effective set, so the
// test behaves the same whether or not the machine grants CAP_SYS_RESOURCE.
func dropEffective(c uint) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var d [2]unix.CapUserData
	if err := unix.Capget(&hdr, &d[0]); err != nil {
		return err
	}
	d[c/32].Effective &^= 1 << (c % 32)
	return unix.Capset(&hdr, &d[0])
}

func childRlimitRaise(string) (any, error) {
	if err := dropEffective(unix.CAP_SYS_RESOURCE); err != nil {
		return nil, err
	}
	var cur unix.Rlimit
	if err := unix.Prlimit(0, unix.RLIMIT_NOFILE, nil, &cur); err != nil {
		return nil, err
	}
	// Lower the hard limit (always allowed), then try to raise it back.
	lower := []Rlimit{{Type: "RLIMIT_NOFILE", Resource: unix.RLIMIT_NOFILE, Soft: 64, Hard: 128}}
	if err := SetRlimits(0, lower); err != nil {
		return nil, err
	}
	var msgs []string
	raise := []Rlimit{{Type: "RLIMIT_NOFILE", Resource: unix.RLIMIT_NOFILE, Soft: 64, Hard: 256}}
	if err := SetRlimits(0, raise); err != nil {
		msgs = append(msgs, err.Error(), fmt.Sprint(errors.Is(err, unix.EPERM)))
	}
	nrOpen, _ := readNrOpen()
	over := []Rlimit{{Type: "RLIMIT_NOFILE", Resource: unix.RLIMIT_NOFILE, Soft: 64, Hard: nrOpen + 1}}
	if err := SetRlimits(0, over); err != nil {
		msgs = append(msgs, err.Error())
	}
	return msgs, nil
}

func TestRlimits(t *testing.T) {
	// Lowering limits needs no privilege, so this runs as any user.
	var cur unix.Rlimit
	if err := unix.Prlimit(0, unix.RLIMIT_NOFILE, nil, &cur); err != nil {
		t.Fatal(err)
	}
	in := []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200},
		{Type: "RLIMIT_CORE", Soft: 0, Hard: 4096},
		{Type: "RLIMIT_MSGQUEUE", Soft: 1000, Hard: 2000},
		{Type: "RLIMIT_NICE", Soft: 0, Hard: 0},
		{Type: "RLIMIT_CPU", Soft: 3600, Hard: unix.RLIM_INFINITY},
	}
	if cur.Max < 200 {
		t.Skipf("hard RLIMIT_NOFILE %d too low", cur.Max)
	}
	var got map[string][2]string
	if msg := child(t, "rlimits", in, nil, &got); msg != "" {
		t.Fatal(msg)
	}
	for name, want := range map[string][2]string{
		"Max open files":     {"100", "200"},
		"Max core file size": {"0", "4096"},
		"Max msgqueue size":  {"1000", "2000"},
		"Max nice priority":  {"0", "0"},
		"Max cpu time":       {"3600", "unlimited"},
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
}

func TestRlimitRaiseError(t *testing.T) {
	requireRoot(t)
	var msgs []string
	if msg := child(t, "rlimit-raise", nil, nil, &msgs); msg != "" {
		t.Fatal(msg)
	}
	if len(msgs) != 3 {
		t.Fatalf("child reported %q, want two errors", msgs)
	}
	want := "process.rlimits: setrlimit RLIMIT_NOFILE (soft 64, hard 256): operation not permitted: raising a hard limit needs CAP_SYS_RESOURCE (current hard limit 128)"
	if msgs[0] != want || msgs[1] != "true" {
		t.Errorf("raise error %q (errno kept: %s), want %q", msgs[0], msgs[1], want)
	}
	if !strings.Contains(msgs[2], "RLIMIT_NOFILE cannot exceed fs.nr_open") {
		t.Errorf("nr_open error %q", msgs[2])
	}
}

// TestSetRlimitsAllocatesNothing: init sets the rlimits right before execve, when an
// RLIMIT_AS below the Go runtime's reservations makes any allocation that needs a new
// mapping fatal; setting them must not allocate.
func TestSetRlimitsAllocatesNothing(t *testing.T) {
	var cur unix.Rlimit
	if err := unix.Prlimit(0, unix.RLIMIT_CORE, nil, &cur); err != nil {
		t.Fatal(err)
	}
	same := []Rlimit{{Type: "RLIMIT_CORE", Resource: unix.RLIMIT_CORE, Soft: cur.Cur, Hard: cur.Max}}
	if n := testing.AllocsPerRun(100, func() {
		if err := SetRlimits(0, same); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("SetRlimits allocates %v times per call", n)
	}
}
