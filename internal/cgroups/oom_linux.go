package cgroups

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// OOMEvents reports each OOM kill in the container's memory cgroup. The
// channel closes when ctx ends or the cgroup goes away.
func (m *manager) OOMEvents(ctx context.Context) (<-chan struct{}, error) {
	if m.v2 {
		d, _ := m.dir("")
		return oomV2(ctx, d)
	}
	d, ok := m.dir("memory")
	if !ok {
		return nil, errors.New("oom events: the memory controller is not mounted")
	}
	return oomV1(ctx, d)
}

// oomV1 registers an eventfd for memory.oom_control through
// cgroup.event_control (Documentation/admin-guide/cgroup-v1/memory.rst,
// "Memory thresholds" / "OOM Control"). The kernel also signals the
// eventfd when the cgroup is removed, which is told apart by
// cgroup.event_control having vanished.
func oomV1(ctx context.Context, dir string) (<-chan struct{}, error) {
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, os.NewSyscallError("eventfd", err)
	}
	ev := os.NewFile(uintptr(efd), "oom-eventfd") // non-blocking: Close unblocks Read
	ctl, err := os.OpenFile(filepath.Join(dir, "memory.oom_control"), os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		ev.Close()
		return nil, err
	}
	defer ctl.Close() // the kernel holds its own reference once registered
	if err := writeFile(dir, "cgroup.event_control", fmt.Sprintf("%d %d", efd, ctl.Fd())); err != nil {
		ev.Close()
		return nil, err
	}
	ch := make(chan struct{}, 16)
	done := make(chan struct{})
	go func() {
		// Closing the non-blocking fd wakes the blocked Read.
		select {
		case <-ctx.Done():
		case <-done:
		}
		ev.Close()
	}()
	go func() {
		defer close(ch)
		defer close(done)
		buf := make([]byte, 8)
		for {
			if _, err := ev.Read(buf); err != nil {
				return
			}
			if !exists(filepath.Join(dir, "cgroup.event_control")) {
				return
			}
			for n := binary.NativeEndian.Uint64(buf); n > 0; n-- {
				select {
				case ch <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return ch, nil
}

// oomV2 watches memory.events with inotify (cgroupfs sends IN_MODIFY on
// each change) and reports increases of oom_kill; the removal of the
// cgroup ends the watch (IN_IGNORED).
func oomV2(ctx context.Context, dir string) (<-chan struct{}, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	in := os.NewFile(uintptr(fd), "oom-inotify")
	file := filepath.Join(dir, "memory.events")
	if _, err := unix.InotifyAddWatch(fd, file, unix.IN_MODIFY|unix.IN_DELETE_SELF); err != nil {
		in.Close()
		return nil, &os.PathError{Op: "inotify_add_watch", Path: file, Err: err}
	}
	// count reads oom_kill; gone is true once the file has vanished (the
	// cgroup was removed).
	count := func() (n uint64, ok, gone bool) {
		s, err := readFile(dir, "memory.events")
		if err != nil {
			return 0, false, errors.Is(err, os.ErrNotExist)
		}
		for _, l := range strings.Split(s, "\n") {
			if v, found := strings.CutPrefix(l, "oom_kill "); found {
				n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
				return n, err == nil, false
			}
		}
		return 0, false, false
	}
	last, ok, _ := count()
	if !ok {
		in.Close()
		return nil, fmt.Errorf("oom events: no oom_kill counter in %s", file)
	}
	ch := make(chan struct{}, 16)
	done := make(chan struct{})
	go func() {
		// Closing the non-blocking fd wakes the blocked Read.
		select {
		case <-ctx.Done():
		case <-done:
		}
		in.Close()
	}()
	go func() {
		defer close(ch)
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := in.Read(buf)
			if err != nil {
				return
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				mask := binary.NativeEndian.Uint32(buf[off+4:])
				nameLen := binary.NativeEndian.Uint32(buf[off+12:])
				off += unix.SizeofInotifyEvent + int(nameLen)
				if mask&(unix.IN_IGNORED|unix.IN_DELETE_SELF) != 0 {
					return
				}
			}
			cur, ok, gone := count()
			if gone {
				return
			}
			if !ok {
				continue // caught mid-update; the next event rereads
			}
			for ; last < cur; last++ {
				select {
				case ch <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return ch, nil
}
