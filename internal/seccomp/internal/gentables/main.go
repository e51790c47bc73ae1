//go:build ignore

// Command gentables writes ztables.go: for every architecture libseccomp
// knows, its AUDIT_ARCH value, word size, byte order and the number of every
// syscall name, as the installed libseccomp resolves them. The pure-Go
// compiler uses the tables instead of linking libseccomp; run it (go
// generate ./internal/seccomp) after a libseccomp upgrade. It needs cgo and
// libseccomp-dev.
//
// libseccomp 2.5 knows one list of names for all architectures: a name a
// given architecture lacks resolves to a negative pseudo-syscall number
// (__PNR_*, seccomp-syscalls.h), which the tables keep, because the x86 and
// s390 socketcall/ipc multiplexing works on exactly those numbers.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// auditArchLE is __AUDIT_ARCH_LE (include/uapi/linux/audit.h).
const auditArchLE = 0x40000000

type arch struct {
	spec  string // the runtime-spec's name, libseccomp's SCMP_ARCH_* macro
	scmp  libseccomp.ScmpArch
	audit uint32
	// is32 is libseccomp's ARCH_SIZE_32: x32 and the MIPS n32 ABIs
	// count as 32-bit although their AUDIT_ARCH says 64 (libseccomp then
	// compares only the low word of an argument).
	is32 bool
}

// The architectures of scmpArchs (arch_linux.go): every one libseccomp has.
var arches = []arch{
	{"SCMP_ARCH_X86", libseccomp.ArchX86, unix.AUDIT_ARCH_I386, true},
	{"SCMP_ARCH_X86_64", libseccomp.ArchAMD64, unix.AUDIT_ARCH_X86_64, false},
	{"SCMP_ARCH_X32", libseccomp.ArchX32, unix.AUDIT_ARCH_X86_64, true},
	{"SCMP_ARCH_ARM", libseccomp.ArchARM, unix.AUDIT_ARCH_ARM, true},
	{"SCMP_ARCH_AARCH64", libseccomp.ArchARM64, unix.AUDIT_ARCH_AARCH64, false},
	{"SCMP_ARCH_MIPS", libseccomp.ArchMIPS, unix.AUDIT_ARCH_MIPS, true},
	{"SCMP_ARCH_MIPS64", libseccomp.ArchMIPS64, unix.AUDIT_ARCH_MIPS64, false},
	{"SCMP_ARCH_MIPS64N32", libseccomp.ArchMIPS64N32, unix.AUDIT_ARCH_MIPS64N32, true},
	{"SCMP_ARCH_MIPSEL", libseccomp.ArchMIPSEL, unix.AUDIT_ARCH_MIPSEL, true},
	{"SCMP_ARCH_MIPSEL64", libseccomp.ArchMIPSEL64, unix.AUDIT_ARCH_MIPSEL64, false},
	{"SCMP_ARCH_MIPSEL64N32", libseccomp.ArchMIPSEL64N32, unix.AUDIT_ARCH_MIPSEL64N32, true},
	{"SCMP_ARCH_PPC", libseccomp.ArchPPC, unix.AUDIT_ARCH_PPC, true},
	{"SCMP_ARCH_PPC64", libseccomp.ArchPPC64, unix.AUDIT_ARCH_PPC64, false},
	{"SCMP_ARCH_PPC64LE", libseccomp.ArchPPC64LE, unix.AUDIT_ARCH_PPC64LE, false},
	{"SCMP_ARCH_S390", libseccomp.ArchS390, unix.AUDIT_ARCH_S390, true},
	{"SCMP_ARCH_S390X", libseccomp.ArchS390X, unix.AUDIT_ARCH_S390X, false},
	{"SCMP_ARCH_PARISC", libseccomp.ArchPARISC, unix.AUDIT_ARCH_PARISC, true},
	{"SCMP_ARCH_PARISC64", libseccomp.ArchPARISC64, unix.AUDIT_ARCH_PARISC64, false},
	{"SCMP_ARCH_RISCV64", libseccomp.ArchRISCV64, unix.AUDIT_ARCH_RISCV64, false},
	{"SCMP_ARCH_LOONGARCH64", libseccomp.ArchLOONGARCH64, unix.AUDIT_ARCH_LOONGARCH64, false},
	{"SCMP_ARCH_M68K", libseccomp.ArchM68K, unix.AUDIT_ARCH_M68K, true},
	{"SCMP_ARCH_SH", libseccomp.ArchSH, unix.AUDIT_ARCH_SHEL, true}, // libseccomp's SH is little-endian
	{"SCMP_ARCH_SHEB", libseccomp.ArchSHEB, unix.AUDIT_ARCH_SH, true},
}

// numberRanges are where the architectures put their syscalls: plain
// tables (MIPS o32/n64/n32 start at 4000/5000/6000), x32's with
// __X32_SYSCALL_BIT, ARM's private ones at __ARM_NR_BASE (0x0f0000) and its
// OABI base (0x900000), and libseccomp's pseudo-syscalls below zero.
var numberRanges = [][2]int{
	{-11000, 0}, {0, 8192}, {0x40000000, 0x40000000 + 8192}, {0x0f0000, 0x0f0000 + 256}, {0x900000, 0x900000 + 8192},
}

func main() {
	out := flag.String("o", "ztables.go", "output file")
	flag.Parse()
	nums := make([]map[string]int32, len(arches))
	nameSet := map[string]bool{}
	// byNum[i] is what the number → name scan found (the highest number:
	// MIPS names resolve without their ABI offset too); for multiplexed
	// calls it gives the kernel's direct number where the name → number
	// direction gives a pseudo-syscall.
	byNum := make([]map[string]int32, len(arches))
	for i, a := range arches {
		nums[i] = map[string]int32{}
		byNum[i] = map[string]int32{}
		for _, r := range numberRanges {
			for nr := r[0]; nr < r[1]; nr++ {
				name, err := libseccomp.ScmpSyscall(nr).GetNameByArch(a.scmp)
				if err != nil {
					continue
				}
				nameSet[name] = true
				if old, ok := byNum[i][name]; (!ok || int32(nr) > old) && nr >= 0 {
					byNum[i][name] = int32(nr)
				}
			}
		}
	}
	names := make([]string, 0, len(nameSet))
	for n := range nameSet {
		names = append(names, n)
	}
	sort.Strings(names)
	// Every name resolved the other way round: the number → name scan
	// only finds names, and a name can be absent from one architecture's
	// list while another has it.
	for i, a := range arches {
		for _, n := range names {
			nr, err := libseccomp.GetSyscallFromNameByArch(n, a.scmp)
			if err != nil {
				continue
			}
			nums[i][n] = int32(nr)
		}
	}
	direct := map[string][]int32{}
	for i, a := range arches {
		if d := demux(a); d != nil {
			direct[a.spec] = d
			// Check the number → name scan against the hook, to
			// trust it where the hook cannot be asked.
			for j, name := range muxCalls {
				if nr, ok := byNum[i][name]; ok && nr != d[j] || !ok && d[j] >= 0 {
					log.Fatalf("%s %s: hook %d, scan %d", a.spec, name, d[j], nr)
				}
			}
		} else if sc, ok := nums[i]["socketcall"]; ok && sc >= 0 {
			// Other-endian: the scan's direct numbers, else
			// the pseudo-syscall (which is what the hook keeps
			// where the checked architectures lack the call).
			for _, name := range muxCalls {
				nr, ok := byNum[i][name]
				if !ok {
					nr = nums[i][name]
				}
				direct[a.spec] = append(direct[a.spec], nr)
			}
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by internal/gentables from libseccomp %s. DO NOT EDIT.\n\n", version())
	b.WriteString("package seccomp\n\n")
	b.WriteString("// syscallNames is every syscall name libseccomp knows, sorted.\n")
	b.WriteString("var syscallNames = [...]string{\n")
	for _, n := range names {
		fmt.Fprintf(&b, "%q,\n", n)
	}
	b.WriteString("}\n\n")
	b.WriteString("// archTables describes each architecture; nrs[i] is the number of\n")
	b.WriteString("// syscallNames[i] there (negative: libseccomp's pseudo-syscall), noSyscall\n")
	b.WriteString("// when the name cannot be resolved there; nrs is nil for an architecture\n")
	b.WriteString("// the generating libseccomp did not know.\n")
	b.WriteString("var archTables = [...]archTable{\n")
	for i, a := range arches {
		fmt.Fprintf(&b, "{arch: %q, auditArch: %#x, is32: %v, bigEndian: %v, ", a.spec, a.audit, a.is32, a.audit&auditArchLE == 0)
		if len(nums[i]) == 0 {
			// This libseccomp predates the architecture: it
			// cannot be used in a filter, and nor can ours.
			b.WriteString("},\n")
			continue
		}
		if sc, ok := nums[i]["socketcall"]; ok && sc >= 0 {
			// libseccomp multiplexes socket and IPC calls here.
			b.WriteString("mux: true, ")
			if d, ok := direct[a.spec]; ok {
				fmt.Fprintf(&b, "direct: &[len(muxCalls)]int32{")
				for _, nr := range d {
					fmt.Fprintf(&b, "%d, ", nr)
				}
				b.WriteString("}, ")
			}
		}
		b.WriteString("nrs: &[len(syscallNames)]int32{")
		for j, n := range names {
			if j%16 == 0 {
				b.WriteString("\n")
			}
			nr, ok := nums[i][n]
			if !ok {
				b.WriteString("noSyscall, ")
				continue
			}
			fmt.Fprintf(&b, "%d, ", nr)
		}
		b.WriteString("\n}},\n")
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// muxCalls are the calls libseccomp multiplexes through socketcall(2)
// (SYS_SOCKET ... SYS_SENDMMSG, linux/net.h) and ipc(2) (linux/ipc.h), in
// the order of muxCalls in tables.go.
var muxCalls = []string{
	"socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername",
	"socketpair", "send", "recv", "sendto", "recvfrom", "shutdown", "setsockopt",
	"getsockopt", "sendmsg", "recvmsg", "accept4", "recvmmsg", "sendmmsg",
	"semop", "semget", "semctl", "semtimedop", "msgsnd", "msgrcv", "msgget", "msgctl",
	"shmat", "shmdt", "shmget", "shmctl",
}

var pfcSyscall = regexp.MustCompile(`# filter for syscall "([^"]+)" \(([0-9]+)\)`)

// demux finds the number libseccomp's rule hook gives each multiplexed call
// as a direct syscall on a: its tables resolve most of them to
// pseudo-syscalls, and the hook maps those to the kernel's numbers where the
// kernel has some (the rest stay pseudo-syscalls, which libseccomp then
// nevertheless puts in the program). It asks libseccomp by building a
// filter with one rule per call and reading its pseudo filter code; nil
// when a cannot join a filter here.
func demux(a arch) []int32 {
	if nr, err := libseccomp.GetSyscallFromNameByArch("socketcall", a.scmp); err != nil || nr < 0 {
		return nil
	}
	var out []int32
	for _, name := range muxCalls {
		sf, err := libseccomp.NewFilter(libseccomp.ActAllow)
		if err != nil {
			log.Fatal(err)
		}
		if err := sf.AddArch(a.scmp); err != nil {
			sf.Release()
			return nil
		}
		nr, err := libseccomp.GetSyscallFromName(name)
		if err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		if err := sf.AddRule(nr, libseccomp.ActErrno.SetReturnCode(1)); err != nil {
			log.Fatalf("%s: %v", name, err)
		}
		f, err := os.CreateTemp("", "gentables-*.pfc")
		if err != nil {
			log.Fatal(err)
		}
		if err := sf.ExportPFC(f); err != nil {
			log.Fatal(err)
		}
		sf.Release()
		pfc, err := os.ReadFile(f.Name())
		f.Close()
		os.Remove(f.Name())
		if err != nil {
			log.Fatal(err)
		}
		text := string(pfc)
		i := strings.Index(text, fmt.Sprintf("(%d)\n", a.audit))
		if i < 0 {
			log.Fatalf("%s: no section for %s in\n%s", name, a.spec, text)
		}
		text = text[i:]
		if j := strings.Index(text, "# filter for arch"); j >= 0 {
			text = text[:j]
		}
		found := false
		for _, m := range pfcSyscall.FindAllStringSubmatch(text, -1) {
			if m[1] == "socketcall" || m[1] == "ipc" {
				continue
			}
			v, err := strconv.ParseUint(m[2], 10, 32)
			if err != nil {
				log.Fatal(err)
			}
			out = append(out, int32(uint32(v)))
			found = true
		}
		if !found {
			log.Fatalf("%s: no direct syscall for %s in\n%s", name, a.spec, text)
		}
	}
	return out
}

func version() string {
	ma, mi, mc := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("%d.%d.%d", ma, mi, mc)
}
