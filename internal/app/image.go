package app

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/specgen"
)

// image is a prepared root filesystem: the spec's root path, the mounts the
// image adds and its user databases (for -u).
type image struct {
	root          string
	mounts        []specs.Mount
	passwd, group []byte
}

// hostFile reads a host configuration file; a missing one is empty.
func hostFile(p string) []byte {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	return data
}

// prepareHost builds the built-in host image in bundle/rootfs: an empty
// directory of mountpoints, the host's /bin-style symlinks and a generated
// /etc; the spec then binds the host's /usr and friends read-only over it.
// Nothing here is influenced by a container (the directory is new), so
// plain file calls are safe.
func prepareHost(bundle, hostname string, hostNet bool) (*image, error) {
	root := filepath.Join(bundle, "rootfs")
	if err := os.Mkdir(root, 0o755); err != nil {
		return nil, err
	}
	layout, err := specgen.Host(os.Lstat, os.Readlink)
	if err != nil {
		return nil, err
	}
	for _, d := range layout.Dirs {
		p := filepath.Join(root, d.Path)
		if err := os.Mkdir(p, d.Mode); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		// Mkdir's mode is cut by the umask.
		if err := os.Chmod(p, d.Mode); err != nil {
			return nil, err
		}
	}
	for _, l := range layout.Symlinks {
		if err := os.Symlink(l.Target, filepath.Join(root, l.Path)); err != nil {
			return nil, err
		}
	}
	for _, f := range layout.MountFiles {
		if err := writeFile(filepath.Join(root, f), nil); err != nil {
			return nil, err
		}
	}
	etc := specgen.EtcFiles(hostname, hostNet, hostFile("/etc/hosts"), hostFile("/etc/resolv.conf"))
	for name, data := range etc {
		if err := writeFile(filepath.Join(root, "etc", name), data); err != nil {
			return nil, err
		}
	}
	return &image{root: root, mounts: layout.Mounts, passwd: etc["passwd"], group: etc["group"]}, nil
}

// prepareRootfs uses a directory the user gave (--rootfs) as the root, as
// is: it is never copied and never removed. Like Docker, hostname, hosts
// and resolv.conf are the container's own files (in the bundle) bound over
// the image's /etc, when it has one.
func prepareRootfs(bundle, dir, hostname string, hostNet, readOnly bool) (*image, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("rootfs: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("rootfs %s: not a directory", root)
	}
	img := &image{root: root}
	etc := specgen.EtcFiles(hostname, hostNet, hostFile("/etc/hosts"), hostFile("/etc/resolv.conf"))
	for _, name := range []string{"hostname", "hosts", "resolv.conf"} {
		if err := writeFile(filepath.Join(bundle, name), etc[name]); err != nil {
			return nil, err
		}
	}
	if efi, err := os.Lstat(filepath.Join(root, "etc")); err == nil && efi.IsDir() {
		img.mounts = specgen.EtcBinds(bundle, readOnly)
	}
	if img.passwd, err = readInRoot(root, "/etc/passwd"); err != nil {
		return nil, err
	}
	if img.group, err = readInRoot(root, "/etc/group"); err != nil {
		return nil, err
	}
	return img, nil
}

// readInRoot reads a file of a container rootfs, resolving symlinks as the
// container would (inside root), so an image's /etc/passwd -> /etc/shadow
// style link cannot make unha read the host's file. A missing file is
// empty; the size is capped.
func readInRoot(root, p string) ([]byte, error) {
	h, err := pathrs.OpenInRoot(root, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s in %s: %w", p, root, err)
	}
	defer h.Close()
	f, err := pathrs.Reopen(h, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("open %s in %s: %w", p, root, err)
	}
	defer f.Close()
	// O_NONBLOCK above and this check: a FIFO planted as /etc/passwd must
	// not hang unha.
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s in %s: not a regular file", p, root)
	}
	return io.ReadAll(io.LimitReader(f, 1<<20))
}

// writeFile creates a new file (never through an existing one or a
// symlink) with mode 0644.
func writeFile(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	// The umask must not make the container's /etc/passwd unreadable.
	werr := f.Chmod(0o644)
	if werr == nil {
		_, werr = f.Write(data)
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}
