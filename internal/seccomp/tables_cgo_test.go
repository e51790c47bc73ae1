//go:build cgo

package seccomp

import (
	"testing"

	libseccomp "github.com/seccomp/libseccomp-golang"
)

// TestTablesMatchLibseccomp catches drift between ztables.go and the
// installed libseccomp: rerun go generate when it fails.
func TestTablesMatchLibseccomp(t *testing.T) {
	for _, at := range archTables {
		sa, ok := scmpArchs[at.arch]
		if !ok {
			t.Fatalf("%s: not in scmpArchs", at.arch)
		}
		for i, name := range syscallNames {
			nr, err := libseccomp.GetSyscallFromNameByArch(name, sa)
			want := int32(noSyscall)
			if err == nil {
				want = int32(nr)
			}
			got := int32(noSyscall)
			if at.nrs != nil {
				got = at.nrs[i]
			}
			if got != want {
				t.Errorf("%s %s: table %d, libseccomp %d", at.arch, name, got, want)
			}
		}
		// Every number libseccomp names is in the table.
		for _, r := range [][2]int{{-11000, 0}, {0, 8192}, {x32SyscallBit, x32SyscallBit + 8192}, {0x0f0000, 0x0f0100}} {
			for nr := r[0]; nr < r[1]; nr++ {
				name, err := libseccomp.ScmpSyscall(nr).GetNameByArch(sa)
				if err != nil {
					continue
				}
				got, ok := at.nr(name)
				if ok && got == int32(nr) {
					continue
				}
				// Multiplexed calls: the number → name direction
				// gives the direct syscall, the other a pseudo one.
				if i := slicesIndex(name); ok && at.direct != nil && i >= 0 && (at.direct[i] == int32(nr) || at.direct[i] == int32(nr)+4000) {
					continue
				}
				// MIPS and x32 names also resolve without their
				// ABI's offset.
				if ok && (got == int32(nr)+4000 || got == int32(nr)+5000 || got == int32(nr)+6000 || got == int32(nr)|x32SyscallBit) {
					continue
				}
				t.Errorf("%s: libseccomp names %d %q, table has %d (%v)", at.arch, nr, name, got, ok)
			}
		}
	}
}

// Features' architectures are exactly those libseccomp can add here.
func TestArchUsableMatchesLibseccomp(t *testing.T) {
	for _, a := range knownArchs {
		if got, want := archUsable(a) == nil, refArchUsable(a); got != want {
			t.Errorf("%s: usable %v, libseccomp %v", a, got, want)
		}
	}
}

func slicesIndex(name string) int {
	for i, n := range muxCalls {
		if n == name {
			return i
		}
	}
	return -1
}
