package runtime

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// sealedSelf returns a sealed in-memory copy of the running binary, from
// which init and exec helpers are started.
//
// CVE-2019-5736: a process in the container can open /proc/PID/exe of a
// runtime process that entered the container and, once that process is
// gone, write through it to the host's runtime binary. A memfd with
// F_SEAL_WRITE|F_SEAL_GROW|F_SEAL_SHRINK|F_SEAL_SEAL cannot be written by
// anyone, so there is nothing to overwrite.
func sealedSelf() (*os.File, error) {
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return nil, err
	}
	fd, err := unix.MemfdCreate("unha-runtime", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if err == unix.EINVAL {
		// MFD_EXEC arrived in 6.3; older kernels reject the flag.
		fd, err = unix.MemfdCreate("unha-runtime", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, os.NewSyscallError("memfd_create", err)
	}
	mem := os.NewFile(uintptr(fd), "unha-runtime (sealed)")
	size := fi.Size()
	var off int64
	for off < size {
		// sendfile stays in the kernel: no copy of the binary through our
		// memory on the hot path.
		n, err := unix.Sendfile(fd, int(src.Fd()), &off, int(size-off))
		if err != nil {
			mem.Close()
			return nil, os.NewSyscallError("sendfile", err)
		}
		if n == 0 {
			break
		}
	}
	if off != size {
		mem.Close()
		return nil, fmt.Errorf("copy runtime binary: short copy %d of %d bytes", off, size)
	}
	const seals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		mem.Close()
		return nil, os.NewSyscallError("fcntl F_ADD_SEALS", err)
	}
	return mem, nil
}
