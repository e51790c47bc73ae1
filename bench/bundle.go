package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/spec"
)

// makeBundle writes a bundle whose rootfs holds a static busybox and whose
// config is the default one (spec.Default, the same as `runc spec`) running
// /bin/true without a terminal. cgroupsPath is relative, so every runtime
// puts the container's cgroup beneath the caller's own cgroup; containers
// run one at a time, so one name serves all of them.
func makeBundle(dir, busybox, cgroupsPath string) error {
	if err := makeRootfs(filepath.Join(dir, "rootfs"), busybox); err != nil {
		return err
	}
	return writeConfig(dir, "rootfs", cgroupsPath, []string{"/bin/true"}, nil)
}

// makeRootfs fills rootfs with a static busybox and the applets the benches
// run.
func makeRootfs(rootfs, busybox string) error {
	for _, d := range []string{"bin", "dev", "proc", "sys", "etc", "tmp"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			return err
		}
	}
	if err := copyFile(busybox, filepath.Join(rootfs, "bin", "busybox"), 0o755); err != nil {
		return err
	}
	for _, applet := range []string{"true", "sh", "sleep"} {
		if err := os.Symlink("busybox", filepath.Join(rootfs, "bin", applet)); err != nil {
			return err
		}
	}
	return nil
}

// writeConfig writes dir/config.json: the default config with rootfs (a
// path relative to dir, or absolute, so that several bundles share one
// rootfs), cgroupsPath and args, then edit applied when it is not nil.
func writeConfig(dir, rootfs, cgroupsPath string, args []string, edit func(*specs.Spec)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	s := spec.Default()
	// Every field used here exists since runtime-spec 1.0, and crun 1.8
	// rejects a config whose ociVersion is newer than 1.0.x.
	s.Version = "1.0.2"
	s.Root.Path = rootfs
	s.Process.Terminal = false
	s.Process.Args = args
	s.Linux.CgroupsPath = cgroupsPath
	if edit != nil {
		edit(s)
	}
	b, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return out.Close()
}
