//go:build cgo

package seccomp

// The reference: how this package compiled filters with libseccomp (through
// cgo) before it had its own compiler. The differential tests compile every
// profile both ways and compare what the programs do.

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// refCompile is the former Filter.Compile: libseccomp's program behind the
// ENOSYS stub, with bounds from libseccomp's syscall tables.
func (f *Filter) refCompile(log *slog.Logger) (*Program, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sf, notify, err := f.refBuild(log)
	if err != nil {
		return nil, err
	}
	defer sf.Release()
	flags, err := kernelFlags(f, notify, probeFlags)
	if err != nil {
		return nil, err
	}
	bpf, err := refExportBPF(sf)
	if err != nil {
		return nil, err
	}
	if needsENOSYSStub(f.DefaultAction) {
		bounds, err := f.refEnosysBounds()
		if err != nil {
			return nil, err
		}
		stub, err := enosysStub(bounds)
		if err != nil {
			return nil, err
		}
		bpf = append(encodeBPF(stub), bpf...)
	}
	return &Program{BPF: bpf, Flags: flags}, nil
}

// refArchUsable is the former Features' test of an architecture.
func refArchUsable(a specs.Arch) bool {
	sf, err := libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		return false
	}
	defer sf.Release()
	return sf.AddArch(scmpArchs[a]) == nil
}

// build makes the libseccomp filter; notify says whether a NOTIFY rule was
// added.
func (f *Filter) refBuild(log *slog.Logger) (_ *libseccomp.ScmpFilter, notify bool, err error) {
	def, err := scmpAction(f.DefaultAction)
	if err != nil {
		return nil, false, fmt.Errorf("seccomp: defaultAction: %w", err)
	}
	sf, err := libseccomp.NewFilter(def)
	if err != nil {
		return nil, false, fmt.Errorf("seccomp: create filter: %w", err)
	}
	defer func() {
		if err != nil {
			sf.Release()
		}
	}()
	for _, a := range f.Architectures {
		// The native architecture is in every new filter already.
		if err := sf.AddArch(scmpArchs[a]); err != nil {
			// EDOM: libseccomp cannot mix byte orders in one filter.
			return nil, false, fmt.Errorf("seccomp: architecture %s cannot be used here: %w", a, err)
		}
	}
	added := 0
	skipped := map[string]bool{}
	for _, r := range f.Rules {
		nr, err := libseccomp.GetSyscallFromName(r.Syscall)
		if err != nil {
			if !skipped[r.Syscall] {
				log.Debug("seccomp: unknown syscall skipped", "syscall", r.Syscall)
				skipped[r.Syscall] = true
			}
			continue
		}
		act, err := scmpAction(r.Action)
		if err != nil {
			return nil, false, fmt.Errorf("seccomp: syscall %s: %w", r.Syscall, err)
		}
		if len(r.Conditions) == 0 {
			err = sf.AddRule(nr, act)
		} else {
			conds := make([]libseccomp.ScmpCondition, 0, len(r.Conditions))
			for _, c := range r.Conditions {
				values := []uint64{c.Value}
				if c.Op == specs.OpMaskedEqual {
					values = append(values, c.ValueTwo)
				}
				sc, err := libseccomp.MakeCondition(c.Index, scmpOps[c.Op], values...)
				if err != nil {
					return nil, false, fmt.Errorf("seccomp: syscall %s: condition on argument %d: %w", r.Syscall, c.Index, err)
				}
				conds = append(conds, sc)
			}
			err = sf.AddRuleConditional(nr, act, conds)
		}
		if err != nil {
			return nil, false, fmt.Errorf("seccomp: add rule for syscall %s: %w", r.Syscall, err)
		}
		notify = notify || r.Action.Kind == specs.ActNotify
		added++
	}
	// A binary tree makes long profiles (Docker's has ~350 syscalls)
	// O(log n). runc's threshold: libseccomp <= 2.5.4 misbuilds the tree for
	// tiny rule sets, and for none at all. It takes effect at export.
	if added > 32 {
		if err := sf.SetOptimize(2); err != nil {
			log.Debug("seccomp: binary tree optimisation unavailable", "error", err)
		}
	}
	return sf, notify, nil
}

// scmpAction maps an Action to libseccomp, after checking that the kernel
// knows it (libseccomp would refuse the rule with a bare EOPNOTSUPP).
func scmpAction(a Action) (libseccomp.ScmpAction, error) {
	var act libseccomp.ScmpAction
	switch a.Kind {
	case specs.ActKillThread:
		act = libseccomp.ActKillThread
	case specs.ActKillProcess:
		act = libseccomp.ActKillProcess
	case specs.ActTrap:
		act = libseccomp.ActTrap
	case specs.ActErrno:
		act = libseccomp.ActErrno.SetReturnCode(int16(a.Ret))
	case specs.ActTrace:
		act = libseccomp.ActTrace.SetReturnCode(int16(a.Ret))
	case specs.ActAllow:
		act = libseccomp.ActAllow
	case specs.ActLog:
		act = libseccomp.ActLog
	case specs.ActNotify:
		act = libseccomp.ActNotify
	default:
		return libseccomp.ActInvalid, fmt.Errorf("unknown action %q", a.Kind)
	}
	if !actionAvailable(kernelActions[a.Kind]) {
		return libseccomp.ActInvalid, fmt.Errorf("action %s is not supported by this kernel", a.Kind)
	}
	return act, nil
}

// exportBPF gets the program out of libseccomp: from memory where the
// library can (2.6+), else through a memfd (2.5 only writes to an fd).
func refExportBPF(sf *libseccomp.ScmpFilter) ([]byte, error) {
	if b, err := sf.ExportBPFMem(); err == nil {
		return b, nil
	}
	fd, err := unix.MemfdCreate("unha-seccomp-bpf", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("seccomp: export bpf: %w", os.NewSyscallError("memfd_create", err))
	}
	mf := os.NewFile(uintptr(fd), "unha-seccomp-bpf")
	defer mf.Close()
	if err := sf.ExportBPF(mf); err != nil {
		return nil, fmt.Errorf("seccomp: export bpf: %w", err)
	}
	if _, err := mf.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seccomp: export bpf: %w", err)
	}
	b, err := io.ReadAll(mf)
	if err != nil {
		return nil, fmt.Errorf("seccomp: export bpf: %w", err)
	}
	if len(b) == 0 {
		return nil, errors.New("seccomp: export bpf: libseccomp wrote an empty program")
	}
	return b, nil
}

// enosysBounds finds, for each architecture in the filter, the highest
// syscall number the profile names there.
func (f *Filter) refEnosysBounds() ([]archBound, error) {
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, fmt.Errorf("seccomp: native architecture: %w", err)
	}
	arches := []libseccomp.ScmpArch{native}
	for _, a := range f.Architectures {
		if sa := scmpArchs[a]; !slices.Contains(arches, sa) {
			arches = append(arches, sa)
		}
	}
	var bounds []archBound
	for _, a := range arches {
		audit, ok := auditArchs[a]
		if !ok {
			return nil, fmt.Errorf("seccomp: no AUDIT_ARCH for architecture %v", a)
		}
		var top uint32
		for _, name := range f.Listed {
			// Negative numbers are libseccomp's pseudo-syscalls: names
			// that do not exist on this architecture.
			if nr, err := libseccomp.GetSyscallFromNameByArch(name, a); err == nil && nr >= 0 && uint32(nr) > top {
				top = uint32(nr)
			}
		}
		if top == 0 {
			continue
		}
		i := slices.IndexFunc(bounds, func(b archBound) bool { return b.auditArch == audit })
		if i < 0 {
			bounds = append(bounds, archBound{auditArch: audit})
			i = len(bounds) - 1
		}
		if a == libseccomp.ArchX32 {
			bounds[i].x32Max = top
		} else {
			bounds[i].max = top
		}
	}
	// x32 without x86_64 cannot happen on an x86_64 kernel, whose native
	// x86_64 is always in the filter; without a bound there is no check.
	return slices.DeleteFunc(bounds, func(b archBound) bool { return b.max == 0 }), nil
}

// auditArchs maps libseccomp's architectures to the AUDIT_ARCH_* value the
// kernel puts in seccomp_data.arch; x32 shares x86_64's.
var auditArchs = map[libseccomp.ScmpArch]uint32{
	libseccomp.ArchX86:         unix.AUDIT_ARCH_I386,
	libseccomp.ArchAMD64:       unix.AUDIT_ARCH_X86_64,
	libseccomp.ArchX32:         unix.AUDIT_ARCH_X86_64,
	libseccomp.ArchARM:         unix.AUDIT_ARCH_ARM,
	libseccomp.ArchARM64:       unix.AUDIT_ARCH_AARCH64,
	libseccomp.ArchMIPS:        unix.AUDIT_ARCH_MIPS,
	libseccomp.ArchMIPS64:      unix.AUDIT_ARCH_MIPS64,
	libseccomp.ArchMIPS64N32:   unix.AUDIT_ARCH_MIPS64N32,
	libseccomp.ArchMIPSEL:      unix.AUDIT_ARCH_MIPSEL,
	libseccomp.ArchMIPSEL64:    unix.AUDIT_ARCH_MIPSEL64,
	libseccomp.ArchMIPSEL64N32: unix.AUDIT_ARCH_MIPSEL64N32,
	libseccomp.ArchPPC:         unix.AUDIT_ARCH_PPC,
	libseccomp.ArchPPC64:       unix.AUDIT_ARCH_PPC64,
	libseccomp.ArchPPC64LE:     unix.AUDIT_ARCH_PPC64LE,
	libseccomp.ArchS390:        unix.AUDIT_ARCH_S390,
	libseccomp.ArchS390X:       unix.AUDIT_ARCH_S390X,
	libseccomp.ArchPARISC:      unix.AUDIT_ARCH_PARISC,
	libseccomp.ArchPARISC64:    unix.AUDIT_ARCH_PARISC64,
	libseccomp.ArchRISCV64:     unix.AUDIT_ARCH_RISCV64,
	libseccomp.ArchLOONGARCH64: unix.AUDIT_ARCH_LOONGARCH64,
	libseccomp.ArchM68K:        unix.AUDIT_ARCH_M68K,
	libseccomp.ArchSH:          unix.AUDIT_ARCH_SHEL, // libseccomp's SH is little-endian
	libseccomp.ArchSHEB:        unix.AUDIT_ARCH_SH,
}

var scmpOps = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

// scmpArchs maps the spec's names (libseccomp's SCMP_ARCH_* macros) to the
// bindings' constants, as runc's table does.
var scmpArchs = map[specs.Arch]libseccomp.ScmpArch{
	specs.ArchX86:         libseccomp.ArchX86,
	specs.ArchX86_64:      libseccomp.ArchAMD64,
	specs.ArchX32:         libseccomp.ArchX32,
	specs.ArchARM:         libseccomp.ArchARM,
	specs.ArchAARCH64:     libseccomp.ArchARM64,
	specs.ArchMIPS:        libseccomp.ArchMIPS,
	specs.ArchMIPS64:      libseccomp.ArchMIPS64,
	specs.ArchMIPS64N32:   libseccomp.ArchMIPS64N32,
	specs.ArchMIPSEL:      libseccomp.ArchMIPSEL,
	specs.ArchMIPSEL64:    libseccomp.ArchMIPSEL64,
	specs.ArchMIPSEL64N32: libseccomp.ArchMIPSEL64N32,
	specs.ArchPPC:         libseccomp.ArchPPC,
	specs.ArchPPC64:       libseccomp.ArchPPC64,
	specs.ArchPPC64LE:     libseccomp.ArchPPC64LE,
	specs.ArchS390:        libseccomp.ArchS390,
	specs.ArchS390X:       libseccomp.ArchS390X,
	specs.ArchPARISC:      libseccomp.ArchPARISC,
	specs.ArchPARISC64:    libseccomp.ArchPARISC64,
	specs.ArchRISCV64:     libseccomp.ArchRISCV64,
	specs.ArchLOONGARCH64: libseccomp.ArchLOONGARCH64,
	specs.ArchM68K:        libseccomp.ArchM68K,
	specs.ArchSH:          libseccomp.ArchSH,
	specs.ArchSHEB:        libseccomp.ArchSHEB,
}
