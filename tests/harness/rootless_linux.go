package harness

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// User is an unprivileged host account that the runtime runs as in the rootless tests.
type User struct {
	Uid, Gid uint32
	// Home is the directory given as HOME and holding XDG_RUNTIME_DIR; NewAs sets it to a
	// directory of the test's own.
	Home string
}

// Nobody is uid/gid 65534, present on every system and owning nothing: the rootless tests run
// as it with no change to /etc.
var Nobody = User{Uid: 65534, Gid: 65534}

// NewAs is New for a runtime run as u, the way a rootless user runs it: the test directory and
// the state root belong to u, XDG_RUNTIME_DIR points into the test directory, and every runtime
// invocation runs with u's credentials and no supplementary groups. The test itself (and the
// leftover checks) stay root. Bundles made by NewBundle belong to u and start from
// `spec --rootless`.
func NewAs(t testing.TB, s *Suite, u User) *Env {
	t.Helper()
	e := New(t, s)
	u.Home = filepath.Join(e.Dir, "home")
	for _, d := range []string{u.Home, filepath.Join(u.Home, "run"), e.Root} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(d, int(u.Uid), int(u.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	e.As = &u
	return e
}

// RuntimeDir is the user's XDG_RUNTIME_DIR.
func (u *User) RuntimeDir() string { return filepath.Join(u.Home, "run") }

// Chown gives path, and everything below it, to u (symlinks themselves, not their targets).
func (u *User) Chown(path string) error {
	return filepath.WalkDir(path, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(u.Uid), int(u.Gid))
	})
}

// apply makes cmd run as u.
func (u *User) apply(cmd *exec.Cmd, e *Env) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Credential = &syscall.Credential{Uid: u.Uid, Gid: u.Gid, Groups: []uint32{}}
	cmd.Env = append(cmd.Env, "XDG_RUNTIME_DIR="+u.RuntimeDir(), "HOME="+u.Home,
		"USER="+strconv.FormatUint(uint64(u.Uid), 10))
}
