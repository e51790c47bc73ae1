package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/unha/unha/tests/harness"
)

// recorder is a testing.TB whose Errorf and Cleanup are captured, so the harness's leftover
// checks can be shown to fire.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *recorder) Helper() {}

func (r *recorder) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.errs, "\n")
	r.errs = nil
	return s
}

// TestHarnessFindsLeftovers plants each kind of leftover the harness promises to catch and
// checks that it is reported and then removed by the cleanup.
func TestHarnessFindsLeftovers(t *testing.T) {
	rec := &recorder{TB: t}
	e := harness.New(rec, suite)
	id := e.NewID()

	if err := os.MkdirAll(filepath.Join(e.Root, id), 0o700); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(e.Dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	dirs, err := harness.CgroupDirs()
	if err != nil {
		t.Fatal(err)
	}
	cg := ""
	for _, d := range dirs {
		// Beneath our own cgroup, named after our unique id.
		if err := os.Mkdir(filepath.Join(d, id), 0o755); err == nil {
			cg = filepath.Join(d, id)
			break
		}
	}
	if cg == "" {
		t.Fatalf("could not make a cgroup beneath any of %v", dirs)
	}
	cmd := exec.Command(suite.Probe, "print", id, "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	e.AssertClean()
	got := rec.take()
	for _, want := range []string{"state directory entry", "mount on " + mnt, "cgroup " + cg,
		fmt.Sprintf("process %d", cmd.Process.Pid)} {
		if !strings.Contains(got, want) {
			t.Errorf("AssertClean did not report %q; it reported:\n%s", want, got)
		}
	}

	for i := len(rec.cleanups) - 1; i >= 0; i-- {
		rec.cleanups[i]()
	}
	<-waited
	if _, err := os.Stat(cg); err == nil {
		t.Errorf("cleanup left cgroup %s", cg)
		os.Remove(cg)
	}
	if mounts, _ := harness.ReadMountinfo("/proc/self/mountinfo"); len(mounts) > 0 {
		for _, m := range mounts {
			if m.Point == mnt {
				t.Errorf("cleanup left the mount on %s", mnt)
				unix.Unmount(mnt, unix.MNT_DETACH)
			}
		}
	}
	if _, err := os.Stat(e.Dir); err == nil {
		t.Errorf("cleanup left %s", e.Dir)
	}
}
