package seccomp

import (
	"encoding/binary"
	"fmt"
	"log/slog"

	specs "github.com/opencontainers/runtime-spec/specs-go"
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

// Compile turns f into BPF and settles the seccomp(2) flags against this
// kernel. The program does what the rules mean, which for real profiles is
// what libseccomp 2.5 builds for them (bpf_linux.go). Rules for syscalls
// libseccomp's tables do not know are skipped with a debug message, as runc
// does: profiles list syscalls of newer kernels and other architectures.
// log may be nil.
func (f *Filter) Compile(log *slog.Logger) (*Program, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := f.newCompiler(log)
	if err != nil {
		return nil, err
	}
	flags, err := kernelFlags(f, c.notify, probeFlags)
	if err != nil {
		return nil, err
	}
	prog, err := c.program()
	if err != nil {
		return nil, err
	}
	if needsENOSYSStub(f.DefaultAction) {
		bounds := c.enosysBounds()
		stub, err := enosysStub(bounds)
		if err != nil {
			return nil, err
		}
		log.Debug("seccomp: ENOSYS for syscalls above the profile's", "bounds", fmt.Sprintf("%+v", bounds), "instructions", len(stub))
		prog = append(stub, prog...)
	}
	if len(prog) > bpfMaxInsns {
		return nil, fmt.Errorf("seccomp: filter has %d instructions, the kernel accepts at most %d", len(prog), bpfMaxInsns)
	}
	return &Program{BPF: encodeBPF(prog), Flags: flags}, nil
}

// encodeBPF lays insns out as struct sock_filter in native byte order, field
// by field: binary.Append would do the same through reflection, and
// encoding/binary's reflective half is ~30 KB of a binary whose every page
// ends up resident.
func encodeBPF(insns []unix.SockFilter) []byte {
	b := make([]byte, 0, len(insns)*sockFilterSize)
	for _, in := range insns {
		b = binary.NativeEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.NativeEndian.AppendUint32(b, in.K)
	}
	return b
}

// retValue is the SECCOMP_RET_* value of an action, after checking that the
// kernel knows it.
func retValue(a Action) (uint32, error) {
	k, ok := kernelActions[a.Kind]
	if !ok {
		return 0, fmt.Errorf("unknown action %q", a.Kind)
	}
	if !actionAvailable(k) {
		return 0, fmt.Errorf("action %s is not supported by this kernel", a.Kind)
	}
	switch a.Kind {
	case specs.ActErrno, specs.ActTrace:
		k |= uint32(a.Ret)
	}
	return k, nil
}
