package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func readMounts() ([]Mount, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseMountinfo(f)
}

// detachUnder lazily unmounts (MNT_DETACH) everything mounted at or below
// dir, repeating while mounts remain because several can be stacked on one
// point. It returns the mount points it found on the first pass.
func detachUnder(dir string) ([]string, error) {
	var found []string
	for round := 0; round < 10; round++ {
		mounts, err := readMounts()
		if err != nil {
			return found, err
		}
		under := MountsUnder(mounts, dir)
		if len(under) == 0 {
			return found, nil
		}
		if round == 0 {
			found = under
		}
		for _, p := range under {
			if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
				return found, &os.PathError{Op: "umount", Path: p, Err: err}
			}
		}
	}
	return found, fmt.Errorf("mounts remain under %s after 10 rounds of unmounting", dir)
}

// privateMountNamespace reports whether the driver runs in a mount namespace
// of its own (not its parent's: pid 1's namespace link is not readable from
// every sandbox) in which no mount is shared, so nothing the suite mounts can
// propagate to the host.
func privateMountNamespace() (bool, error) {
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return false, err
	}
	parent, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", os.Getppid()))
	if err != nil {
		return false, err
	}
	if self == parent {
		return false, nil
	}
	mounts, err := readMounts()
	if err != nil {
		return false, err
	}
	for _, m := range mounts {
		if m.Shared {
			return false, nil
		}
	}
	return true, nil
}
