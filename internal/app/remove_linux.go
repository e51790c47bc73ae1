package app

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// removeBundle deletes a container's directory without ever recursing into
// a mount. A runtime that mounted in the caller's namespace (a spec without
// a mount namespace, or a crash mid-setup) can leave the host's /usr bound
// under rootfs/; a plain os.RemoveAll would then delete the host's files.
// So: detach every mount found at or below dir, then remove what is left
// one file system at a time, refusing to cross into another device.
func removeBundle(dir string) error {
	mounts, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	// Deepest first, so a parent's detach does not hide a child.
	sort.Slice(mounts, func(i, j int) bool { return len(mounts[i]) > len(mounts[j]) })
	for _, m := range mounts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return &os.PathError{Op: "umount", Path: m, Err: err}
		}
	}
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return removeTree(dir, fi.Sys().(*syscall.Stat_t).Dev)
}

// removeTree is os.RemoveAll restricted to one device, like `rm -r
// --one-file-system`: a directory on another device is a mount we did not
// see, and is an error rather than something to empty.
func removeTree(path string, dev uint64) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return ignoreNotExist(os.Remove(path))
	}
	if d := fi.Sys().(*syscall.Stat_t).Dev; d != dev {
		return fmt.Errorf("remove %s: refusing to cross into another file system (device %d)", path, d)
	}
	// A container may have left a directory without write or search
	// permission for its owner; root ignores that, others need the bits.
	if fi.Mode().Perm()&0o700 != 0o700 {
		os.Chmod(path, fi.Mode().Perm()|0o700)
	}
	ents, err := os.ReadDir(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range ents {
		if err := removeTree(filepath.Join(path, e.Name()), dev); err != nil {
			return err
		}
	}
	return ignoreNotExist(os.Remove(path))
}

func ignoreNotExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// mountsUnder lists the mount points in our mount namespace at or below
// dir, from /proc/self/mountinfo (field 5, octal-escaped as in proc(5)).
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountinfo(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out, sc.Err()
}

// unescapeMountinfo undoes the kernel's \NNN escapes of space, tab,
// newline and backslash.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
