package seccomp

//go:generate go run internal/gentables/main.go -o ztables.go

import (
	"math"
	"runtime"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// noSyscall marks a name an architecture's table cannot resolve.
const noSyscall = math.MinInt32

// archTable is one architecture as libseccomp sees it (ztables.go).
type archTable struct {
	arch specs.Arch
	// auditArch is the AUDIT_ARCH_* value the kernel puts in
	// seccomp_data.arch; x32 shares x86_64's.
	auditArch uint32
	// is32 is libseccomp's ARCH_SIZE_32: arguments are compared on their
	// low 32 bits only.
	is32      bool
	bigEndian bool
	// mux is set where libseccomp multiplexes socket and SysV IPC calls
	// through socketcall(2) and ipc(2); direct[i] is then the number of
	// muxCalls[i] as a direct syscall (a pseudo-syscall where the kernel
	// has none), nil where the generator could not find out.
	mux    bool
	direct *[len(muxCalls)]int32
	// nrs is indexed like syscallNames; nil when the libseccomp the tables
	// came from did not know the architecture.
	nrs *[len(syscallNames)]int32
}

// syscallIndex finds name in syscallNames.
func syscallIndex(name string) (int, bool) {
	i := sort.SearchStrings(syscallNames[:], name)
	return i, i < len(syscallNames) && syscallNames[i] == name
}

// archByName returns the table of a, or nil.
func archByName(a specs.Arch) *archTable {
	for i := range archTables {
		if archTables[i].arch == a {
			return &archTables[i]
		}
	}
	return nil
}

// goArchs maps GOARCH to the architecture of the kernel ABI a Go binary
// uses, libseccomp's "native" architecture.
var goArchs = map[string]specs.Arch{
	"386": specs.ArchX86, "amd64": specs.ArchX86_64, "arm": specs.ArchARM, "arm64": specs.ArchAARCH64,
	"loong64": specs.ArchLOONGARCH64, "mips": specs.ArchMIPS, "mipsle": specs.ArchMIPSEL,
	"mips64": specs.ArchMIPS64, "mips64le": specs.ArchMIPSEL64, "ppc64": specs.ArchPPC64,
	"ppc64le": specs.ArchPPC64LE, "riscv64": specs.ArchRISCV64, "s390x": specs.ArchS390X,
}

// nativeArch is the table of the architecture this binary runs as, nil when
// there is none (or the tables' libseccomp did not know it).
func nativeArch() *archTable {
	t := archByName(goArchs[runtime.GOARCH])
	if t == nil || t.nrs == nil {
		return nil
	}
	return t
}

// nr is name's number on t: ok is false when t cannot resolve it.
func (t *archTable) nr(name string) (nr int32, ok bool) {
	i, found := syscallIndex(name)
	if !found || t.nrs == nil || t.nrs[i] == noSyscall {
		return 0, false
	}
	return t.nrs[i], true
}

// muxCalls are the calls libseccomp multiplexes, in the generator's order:
// socketcall(2)'s SYS_SOCKET (1) to SYS_SENDMMSG (20), linux/net.h, then
// ipc(2)'s, linux/ipc.h.
var muxCalls = [...]string{
	"socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername",
	"socketpair", "send", "recv", "sendto", "recvfrom", "shutdown", "setsockopt",
	"getsockopt", "sendmsg", "recvmsg", "accept4", "recvmmsg", "sendmmsg",
	"semop", "semget", "semctl", "semtimedop", "msgsnd", "msgrcv", "msgget", "msgctl",
	"shmat", "shmdt", "shmget", "shmctl",
}

// ipcCallNumbers are ipc(2)'s call numbers for muxCalls[20:] (linux/ipc.h).
var ipcCallNumbers = [...]uint64{1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24}
