package harness

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Applets are the busybox applets linked into every test rootfs.
var Applets = []string{"sh", "ls", "cat", "echo", "sleep", "true", "false", "hostname", "ps",
	"mount", "id", "env", "kill"}

const passwd = `root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
`

// group lists no members on purpose: a runtime adds a user's supplementary groups from
// /etc/group, and the tests want additionalGids to be the only source.
const group = `root:x:0:
wheel:x:10:
uucp:x:20:
user:x:1000:
nogroup:x:65534:
`

// MakeRootfs fills dir with a minimal busybox system and the probe at /probe.
func (s *Suite) MakeRootfs(dir string) error {
	for _, d := range []string{"bin", "dev", "etc", "proc", "sys", "root", "mnt", "home/user", "var"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return err
	}
	// Mkdir is subject to the umask, so set the sticky bit with an explicit chmod.
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777|os.ModeSticky); err != nil {
		return err
	}
	if err := copyFile(s.Busybox, filepath.Join(dir, "bin", "busybox"), 0o755); err != nil {
		return err
	}
	for _, a := range Applets {
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", a)); err != nil {
			return err
		}
	}
	if err := copyFile(s.Probe, filepath.Join(dir, "probe"), 0o755); err != nil {
		return err
	}
	files := map[string]string{"etc/passwd": passwd, "etc/group": group, "etc/hostname": "rootfs\n"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
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
	if err := out.Close(); err != nil {
		return err
	}
	// Chmod because OpenFile's mode is filtered by the umask.
	return os.Chmod(dst, mode)
}
