package clients

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// benchEnv is testEnv for benchmarks: testEnv and the client helpers built on it take a
// *testing.T, which a benchmark does not have. It has the same private directories and the
// same leftover checks after the benchmark (processes, mounts, cgroups, entries naming a
// container), but its commands log nothing: a benchmark's log is always printed, and the
// samples are what it reports.
type benchEnv struct {
	tb     testing.TB
	dir    string
	tmp    string
	runDir string
	// mounts and cgroups as they were when the benchmark began.
	mounts  map[int]bool
	cgroups map[string]string
	// ids are the container ids the benchmark created, looked for among leftovers.
	ids []string
	// keep names the parent cgroups a client creates and never removes.
	keep map[string]bool
}

func newBenchEnv(tb testing.TB, short string) *benchEnv {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root: the clients run real containers")
	}
	if suite == nil {
		tb.Fatal("the suite's namespaces were not set up (TestMain's inner stage did not run)")
	}
	dir, err := os.MkdirTemp(suite.Base, short+"-")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	e := &benchEnv{tb: tb, dir: dir, tmp: filepath.Join(dir, "tmp"), runDir: filepath.Join("/run", filepath.Base(dir)),
		mounts: map[int]bool{}, keep: map[string]bool{}}
	for _, d := range []string{e.tmp, e.runDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			tb.Fatal(err)
		}
	}
	ms, err := readMountinfo()
	if err != nil {
		tb.Fatal(err)
	}
	for _, m := range ms {
		e.mounts[m.ID] = true
	}
	e.cgroups = nsCgroupDirs(suite)
	tb.Cleanup(e.finish)
	return e
}

func (e *benchEnv) track(id string) { e.ids = append(e.ids, id) }

func (e *benchEnv) path(name string) string { return filepath.Join(e.dir, name) }

func (e *benchEnv) writeFile(name, content string) string {
	e.tb.Helper()
	p := e.path(name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.tb.Fatal(err)
	}
	return p
}

// clientEnv is testEnv.clientEnv: the suite's variables removed, a PATH without runc, the
// benchmark's TMPDIR.
func (e *benchEnv) clientEnv(extra ...string) []string {
	return (&testEnv{tmp: e.tmp}).clientEnv(extra...)
}

func (e *benchEnv) lookTool(name string) string {
	e.tb.Helper()
	for _, dir := range strings.Split(clientPath, ":") {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	e.tb.Fatalf("%s is not installed (looked in %s): run tests/clients/install-deps.sh", name, clientPath)
	return ""
}

// run runs one command to completion (bounded by cmdTimeout) and returns what it did and its
// wall time, from fork to reaping.
func (e *benchEnv) run(env []string, name string, args ...string) (result, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env, cmd.Dir = env, e.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A daemonising client (conmon, the shim) may inherit the pipes: do not wait on them.
	cmd.WaitDelay = 5 * time.Second
	t0 := time.Now()
	err := cmd.Run()
	d := time.Since(t0)
	r := result{args: append([]string{name}, args...), stdout: stdout.String(), stderr: stderr.String(), code: -1, err: err}
	var ee *exec.ExitError
	switch {
	case err == nil:
		r.code = 0
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	}
	if ctx.Err() != nil {
		r.err = fmt.Errorf("timed out after %v: %w", cmdTimeout, err)
	}
	return r, d
}

// must fails the benchmark unless the command exited 0.
func (e *benchEnv) must(r result, d time.Duration) (result, time.Duration) {
	e.tb.Helper()
	if r.code != 0 {
		e.tb.Fatalf("command failed: %s", r)
	}
	return r, d
}

// finish is testEnv.finish: each thing it has to clean up fails the benchmark.
func (e *benchEnv) finish() {
	tb := e.tb
	te := &testEnv{dir: e.dir, cgroups: e.cgroups, keep: e.keep}
	deadline := time.Now().Add(10 * time.Second)
	var left []int
	for {
		left = te.processes()
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, pid := range left {
		tb.Errorf("leftover: process %d %s", pid, cmdline(pid))
	}
	for _, d := range te.newCgroups() {
		killCgroup(d)
	}
	for _, pid := range left {
		killPid(pid)
	}

	ms, err := readMountinfo()
	if err != nil {
		tb.Error(err)
	}
	var points []string
	for _, m := range ms {
		if !e.mounts[m.ID] {
			tb.Errorf("leftover: mount %s on %s (%s)", m.Source, m.Point, m.FSType)
			points = append(points, m.Point)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, p := range points {
		_ = unix.Unmount(p, unix.MNT_DETACH)
	}

	for _, name := range te.newCgroupNames() {
		if !te.keptParent(name) {
			tb.Errorf("leftover: cgroup %s", name)
		}
	}
	for _, d := range te.newCgroups() {
		killCgroup(d)
		if err := rmdirCgroup(d); err != nil {
			tb.Error(err)
		}
	}

	for _, root := range []string{"/run", e.dir} {
		for _, p := range entriesNaming(root, e.ids, 8) {
			tb.Errorf("leftover: %s", p)
		}
	}
	if len(points) > 0 {
		tb.Errorf("not removing %s and %s: mounts were left under them", e.dir, e.runDir)
		return
	}
	for _, d := range []string{e.dir, e.runDir} {
		if err := os.RemoveAll(d); err != nil {
			tb.Error(err)
		}
	}
}
