package cgroups

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Layouts of the parts of union bpf_attr the device program needs
// (include/uapi/linux/bpf.h). The kernel accepts a shorter attr as long as
// every byte it knows beyond it would be zero.
type bpfProgLoadAttr struct {
	progType           uint32
	insnCnt            uint32
	insns              uint64
	license            uint64
	logLevel           uint32
	logSize            uint32
	logBuf             uint64
	kernVersion        uint32
	progFlags          uint32
	progName           [16]byte
	progIfindex        uint32
	expectedAttachType uint32
}

type bpfAttachAttr struct {
	targetFd     uint32
	attachBpfFd  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBpfFd uint32
}

type bpfQueryAttr struct {
	targetFd    uint32
	attachType  uint32
	queryFlags  uint32
	attachFlags uint32
	progIDs     uint64
	progCnt     uint32
	_           uint32
}

type bpfGetFDAttr struct {
	id       uint32
	nextID   uint32
	openFlag uint32
}

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// loadDeviceProgram loads prog; on failure it loads again with the
// verifier log so the error says why.
func loadDeviceProgram(prog []insn) (int, error) {
	code := encode(prog)
	license := []byte("Apache\x00")
	attr := bpfProgLoadAttr{
		progType:           unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:            uint32(len(prog)),
		insns:              uint64(uintptr(unsafe.Pointer(&code[0]))),
		license:            uint64(uintptr(unsafe.Pointer(&license[0]))),
		expectedAttachType: unix.BPF_CGROUP_DEVICE,
	}
	copy(attr.progName[:], "unha_devices")
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	if err == nil {
		unix.CloseOnExec(fd) // the kernel sets O_CLOEXEC on bpf fds; be explicit
		return fd, nil
	}
	logBuf := make([]byte, 64*1024)
	attr.logLevel = 1
	attr.logSize = uint32(len(logBuf))
	attr.logBuf = uint64(uintptr(unsafe.Pointer(&logBuf[0])))
	if fd2, err2 := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err2 == nil {
		unix.Close(fd2)
	}
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	runtime.KeepAlive(logBuf)
	msg := string(logBuf)
	if i := indexNul(msg); i >= 0 {
		msg = msg[:i]
	}
	return -1, fmt.Errorf("load device program: %w (verifier: %s)", os.NewSyscallError("bpf", err), msg)
}

func indexNul(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
}

// attachedPrograms returns the ids and attach flags of the device programs
// attached directly to the cgroup.
func attachedPrograms(cgfd int) ([]uint32, uint32, error) {
	ids := make([]uint32, 64)
	attr := bpfQueryAttr{
		targetFd:   uint32(cgfd),
		attachType: unix.BPF_CGROUP_DEVICE,
		progIDs:    uint64(uintptr(unsafe.Pointer(&ids[0]))),
		progCnt:    uint32(len(ids)),
	}
	_, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(ids)
	if err != nil {
		return nil, 0, os.NewSyscallError("bpf prog query", err)
	}
	return ids[:attr.progCnt], attr.attachFlags, nil
}

// attachDeviceProgram puts prog on the cgroup at dir in place of whatever
// device programs are attached there. The new program goes on first
// (BPF_F_ALLOW_MULTI) and the old ones come off after, so no device access
// is ever decided by no program at all, as runc does it.
func attachDeviceProgram(dir string, prog []insn) error {
	cgfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(cgfd)
	old, flags, err := attachedPrograms(cgfd)
	if err != nil {
		return err
	}
	pfd, err := loadDeviceProgram(prog)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	attachFlags := uint32(unix.BPF_F_ALLOW_MULTI)
	if len(old) > 0 && flags&unix.BPF_F_ALLOW_MULTI == 0 {
		// A program attached without ALLOW_MULTI can only be replaced
		// by another attach without flags.
		attachFlags = 0
		old = nil
	}
	at := bpfAttachAttr{targetFd: uint32(cgfd), attachBpfFd: uint32(pfd), attachType: unix.BPF_CGROUP_DEVICE, attachFlags: attachFlags}
	if _, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&at), unsafe.Sizeof(at)); err != nil {
		return fmt.Errorf("attach device program to %s: %w", dir, os.NewSyscallError("bpf", err))
	}
	var errs []error
	for _, id := range old {
		g := bpfGetFDAttr{id: id}
		ofd, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&g), unsafe.Sizeof(g))
		if err != nil {
			errs = append(errs, fmt.Errorf("get old device program %d: %w", id, os.NewSyscallError("bpf", err)))
			continue
		}
		d := bpfAttachAttr{targetFd: uint32(cgfd), attachBpfFd: uint32(ofd), attachType: unix.BPF_CGROUP_DEVICE}
		if _, err := bpf(unix.BPF_PROG_DETACH, unsafe.Pointer(&d), unsafe.Sizeof(d)); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("detach old device program %d: %w", id, os.NewSyscallError("bpf", err)))
		}
		unix.Close(ofd)
	}
	return errors.Join(errs...)
}
