package seccomp

import (
	"errors"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	tsync   = unix.SECCOMP_FILTER_FLAG_TSYNC
	flLog   = unix.SECCOMP_FILTER_FLAG_LOG
	spec    = unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
	waitKR  = unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
	listen  = unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
	esrch   = unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	allBits = tsync | flLog | spec | waitKR | listen | esrch
)

// fakeProbe accepts the bits in ok, as a kernel that has exactly those flags
// would, and records what it was asked.
type fakeProbe struct {
	ok    uint
	asked []uint
}

func (p *fakeProbe) probe(flags uint) error {
	p.asked = append(p.asked, flags)
	if flags&^p.ok != 0 {
		return unix.EINVAL
	}
	return nil
}

func TestKernelFlags(t *testing.T) {
	tests := []struct {
		name   string
		f      Filter
		notify bool
		kernel uint
		want   uint
		err    string
	}{
		{name: "TSYNC always", f: Filter{}, kernel: allBits, want: tsync},
		{name: "notify needs a listener and TSYNC_ESRCH", f: Filter{}, notify: true, kernel: allBits, want: tsync | listen | esrch},
		{
			name: "explicit flags", kernel: allBits, want: tsync | flLog | spec,
			f: Filter{Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow}},
		},
		{
			name: "WAIT_KILLABLE_RECV with a listener", notify: true, kernel: allBits, want: tsync | listen | esrch | waitKR,
			f: Filter{Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}},
		},
		{
			name: "WAIT_KILLABLE_RECV without a listener is moot", kernel: tsync, want: tsync,
			f: Filter{Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}},
		},
		{name: "flags unset: SPEC_ALLOW when the kernel has it", f: Filter{FlagsUnset: true}, kernel: allBits, want: tsync | spec},
		{name: "flags unset: nothing when it does not", f: Filter{FlagsUnset: true}, kernel: tsync, want: tsync},
		{
			name: "explicit flag the kernel lacks", kernel: tsync | spec,
			f:   Filter{Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}},
			err: "flag SECCOMP_FILTER_FLAG_LOG is not supported by this kernel",
		},
		{
			name: "WAIT_KILLABLE_RECV the kernel lacks", notify: true, kernel: tsync | listen | esrch,
			f:   Filter{Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv}},
			err: "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported",
		},
		{name: "kernel without TSYNC_ESRCH cannot notify", notify: true, kernel: tsync | listen, err: "refuses filter flags"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &fakeProbe{ok: tc.kernel}
			got, err := kernelFlags(&tc.f, tc.notify, p.probe)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("kernelFlags() = %#x, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("kernelFlags() = %#x, %v; want %#x", got, err, tc.want)
			}
			// The kernel refuses WAIT_KILLABLE_RECV without NEW_LISTENER,
			// so it must never be probed alone.
			for _, a := range p.asked {
				if a&waitKR != 0 && a&listen == 0 {
					t.Errorf("probed %#x: WAIT_KILLABLE_RECV without NEW_LISTENER", a)
				}
			}
		})
	}
}

// The real probe against this kernel: known flags pass, an unknown bit and
// an invalid combination do not, and nothing gets installed.
func TestProbeFlags(t *testing.T) {
	for _, fl := range knownFlags {
		if err := probeFlags(flagProbe(fl)); err != nil {
			t.Errorf("probeFlags(%s): %v (kernel 5.19+ has them all)", fl, err)
		}
	}
	if err := probeFlags(1 << 30); !errors.Is(err, unix.EINVAL) {
		t.Errorf("probeFlags(1<<30) = %v, want EINVAL", err)
	}
	if err := probeFlags(waitKR); !errors.Is(err, unix.EINVAL) {
		t.Errorf("probeFlags(WAIT_KILLABLE_RECV alone) = %v, want EINVAL", err)
	}
	if err := probeFlags(tsync | listen); !errors.Is(err, unix.EINVAL) {
		t.Errorf("probeFlags(TSYNC|NEW_LISTENER) = %v, want EINVAL", err)
	}
	if mode, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0); err != nil || mode != 0 {
		t.Fatalf("PR_GET_SECCOMP = %d, %v after probing: a probe installed a filter", mode, err)
	}
}

func TestActionAvailable(t *testing.T) {
	for a, ret := range kernelActions {
		if !actionAvailable(ret) {
			t.Errorf("actionAvailable(%s) = false (kernel 5.0+ has them all)", a)
		}
	}
	if actionAvailable(0x12340000) {
		t.Error("actionAvailable(0x12340000) = true for an action that does not exist")
	}
}

func TestProgramLoadRejectsBadPrograms(t *testing.T) {
	tests := []struct {
		name string
		bpf  []byte
		err  string
	}{
		{name: "empty", bpf: nil, err: "not a whole number of instructions"},
		{name: "ragged", bpf: make([]byte, 12), err: "not a whole number of instructions"},
		{name: "too long", bpf: make([]byte, 8*(bpfMaxInsns+1)), err: "the kernel accepts at most 4096"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fd, err := (&Program{BPF: tc.bpf, Flags: tsync}).Load()
			if fd != -1 || err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Load() = %d, %v; want -1 and %q", fd, err, tc.err)
			}
		})
	}
}

func TestProgramNotify(t *testing.T) {
	if (&Program{Flags: tsync}).Notify() {
		t.Error("Notify() without NEW_LISTENER")
	}
	if !(&Program{Flags: tsync | listen | esrch}).Notify() {
		t.Error("!Notify() with NEW_LISTENER")
	}
	if !slices.Contains(knownFlags, FlagTsync) {
		t.Error("knownFlags lacks TSYNC, which the runtime-spec lists")
	}
}
