//go:build cgo

package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Load plans s and loads it into the calling process; see Program.Load.
// It returns -1 and no error when s asks for no filter.
func Load(s *specs.LinuxSeccomp) (notifyFd int, err error) {
	f, err := Plan(s)
	if f == nil || err != nil {
		return -1, err
	}
	return f.Load(nil)
}

// Load compiles f and loads it into the calling process; see Program.Load.
func (f *Filter) Load(log *slog.Logger) (notifyFd int, err error) {
	p, err := f.Compile(log)
	if err != nil {
		return -1, err
	}
	return p.Load()
}

// Compile turns f into BPF with libseccomp and settles the seccomp(2) flags
// against this kernel. Rules for syscalls libseccomp does not know are
// skipped with a debug message, as runc does: profiles list syscalls of
// newer kernels and other architectures. log may be nil.
func (f *Filter) Compile(log *slog.Logger) (*Program, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sf, notify, err := f.build(log)
	if err != nil {
		return nil, err
	}
	defer sf.Release()
	flags, err := kernelFlags(f, notify, probeFlags)
	if err != nil {
		return nil, err
	}
	bpf, err := exportBPF(sf)
	if err != nil {
		return nil, err
	}
	if needsENOSYSStub(f.DefaultAction) {
		bounds, err := f.enosysBounds()
		if err != nil {
			return nil, err
		}
		stub, err := enosysStub(bounds)
		if err != nil {
			return nil, err
		}
		log.Debug("seccomp: ENOSYS for syscalls above the profile's", "bounds", fmt.Sprintf("%+v", bounds), "instructions", len(stub))
		bpf = append(encodeBPF(stub), bpf...)
	}
	return &Program{BPF: bpf, Flags: flags}, nil
}

func encodeBPF(insns []unix.SockFilter) []byte {
	b, err := binary.Append(nil, binary.NativeEndian, insns)
	if err != nil {
		panic(err) // fixed-size structs always encode
	}
	return b
}

// build makes the libseccomp filter; notify says whether a NOTIFY rule was
// added.
func (f *Filter) build(log *slog.Logger) (_ *libseccomp.ScmpFilter, notify bool, err error) {
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
func exportBPF(sf *libseccomp.ScmpFilter) ([]byte, error) {
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
