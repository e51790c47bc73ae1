package main

// Harness of the black-box tests: one build of unha, a private data and
// runtime root per test, and the leftover checks.

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// unhaBinary builds cmd/unha once per test binary.
func unhaBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "unha-blackbox-")
		if buildErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(buildDir, "unha"), ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{err, out}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "unha")
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + string(e.out) }

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func testRuntime() string {
	if r := os.Getenv("UNHA_TEST_RUNTIME"); r != "" {
		return r
	}
	return "/usr/sbin/runc"
}

// env is one test's unha: private data root, runtime root and cidfiles.
type env struct {
	t       *testing.T
	bin     string
	dir     string
	runtime string
	ids     []string
	keep    bool // the test leaves containers on purpose (and removes them)
	n       int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	rt := testRuntime()
	if _, err := os.Stat(rt); err != nil {
		t.Fatalf("runtime %s: %v", rt, err)
	}
	e := &env{t: t, bin: unhaBinary(t), dir: t.TempDir(), runtime: rt}
	t.Cleanup(e.checkClean)
	return e
}

type result struct {
	stdout, stderr string
	code           int
}

// command prepares `unha GLOBAL... ARGS...` with a bound on its run time.
// For `run`, a --cidfile is added so the test knows the container's ID.
func (e *env) command(ctx context.Context, args ...string) *exec.Cmd {
	global := []string{"--data-root", filepath.Join(e.dir, "data"), "--runtime-root", filepath.Join(e.dir, "rt")}
	if e.runtime != "" {
		global = append(global, "--runtime", e.runtime)
	}
	if len(args) > 0 && args[0] == "run" {
		e.n++
		cid := filepath.Join(e.dir, "cid"+string(rune('a'+e.n)))
		args = append([]string{"run", "--cidfile", cid}, args[1:]...)
		e.t.Cleanup(func() {
			if id, err := os.ReadFile(cid); err == nil && len(id) == 64 {
				e.ids = append(e.ids, string(id))
			}
		})
	}
	cmd := exec.CommandContext(ctx, e.bin, append(global, args...)...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (e *env) run(stdin string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := e.command(ctx, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		e.t.Fatalf("unha %q timed out; stderr %q", args, errb.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("unha %q: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// lastID is the ID of the container the last run created.
func (e *env) lastID() string {
	e.t.Helper()
	id, err := os.ReadFile(filepath.Join(e.dir, "cid"+string(rune('a'+e.n))))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(id)
}

func (e *env) mustRun(args ...string) result {
	e.t.Helper()
	r := e.run("", args...)
	if r.code != 0 {
		e.t.Fatalf("unha %q: exit %d, stderr %q", args, r.code, r.stderr)
	}
	return r
}

// checkClean runs after the test's cleanups (registered first, so last)
// and fails on anything left behind.
func (e *env) checkClean() {
	t := e.t
	if !e.keep {
		if ents, _ := os.ReadDir(filepath.Join(e.dir, "data", "containers")); len(ents) != 0 {
			t.Errorf("bundles left: %v", ents)
		}
		if ents, _ := os.ReadDir(filepath.Join(e.dir, "data", "names")); len(ents) != 0 {
			t.Errorf("names left: %v", ents)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(e.dir, "rt")); len(ents) != 0 {
		t.Errorf("runtime state left: %v", ents)
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(mi), "\n") {
		if strings.Contains(line, e.dir) {
			t.Errorf("mount left: %s", line)
		}
	}
	for _, id := range e.ids {
		for depth := 1; depth <= 4; depth++ {
			pat := "/sys/fs/cgroup" + strings.Repeat("/*", depth) + "/" + id
			if m, _ := filepath.Glob(pat); len(m) != 0 {
				t.Errorf("cgroups left: %v", m)
			}
		}
		procs, _ := filepath.Glob("/proc/[0-9]*/cgroup")
		for _, p := range procs {
			if data, err := os.ReadFile(p); err == nil && bytes.Contains(data, []byte(id)) {
				t.Errorf("process left in container %s: %s", id[:12], p)
			}
		}
	}
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

// background starts a container whose command prints "ready" when it is
// set, and returns once that line arrived.
func (e *env) background(args ...string) (*exec.Cmd, *bytes.Buffer, context.CancelFunc) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := e.command(ctx, args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		cmd.Wait()
		e.t.Fatalf("container did not get ready: %q %v, stderr %q", line, err, errb.String())
	}
	go io.Copy(io.Discard, out)
	return cmd, &errb, cancel
}

func exitOf(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0
}

// openPty returns a new pty's master and slave.
func openPty(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 33, Col: 99}); err != nil {
		t.Fatal(err)
	}
	return m, s
}

// busyboxRootfs is a minimal root: busybox-static and links to it.
func busyboxRootfs(t *testing.T, dir string) string {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("busybox not installed")
	}
	out, err := exec.Command("file", "-L", bb).CombinedOutput()
	if err == nil && !bytes.Contains(out, []byte("statically linked")) && !bytes.Contains(out, []byte("static-pie")) {
		t.Skipf("%s is not static: %s", bb, out)
	}
	root := filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "etc"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"sh", "cat", "hostname", "id", "ls", "touch"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", c)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nbox:x:7:8::/home/box:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}
