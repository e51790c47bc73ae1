package clients

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testEnv is one test's directory, the state of the suite's namespaces before it, and what it
// must check afterwards.
type testEnv struct {
	t   *testing.T
	dir string
	tmp string // TMPDIR of every client command
	// run is the test's directory in the suite's private /run, for paths that must be short.
	runDir string
	// mounts and cgroups as they were when the test began.
	mounts  map[int]bool
	cgroups map[string]string
	// ids are the container (and sandbox) ids the test created, looked for among leftovers.
	ids []string
	// keep names cgroups a client creates as parents and never removes (podman's
	// libpod_parent, containerd's namespace): removed after the test without complaint.
	keep map[string]bool
}

// newEnv starts a test. It skips without root: the clients run real containers.
func newEnv(t *testing.T, short string) *testEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the clients run real containers")
	}
	if suite == nil {
		t.Fatal("the suite's namespaces were not set up (TestMain's inner stage did not run)")
	}
	dir, err := os.MkdirTemp(suite.Base, short+"-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := &testEnv{t: t, dir: dir, tmp: filepath.Join(dir, "tmp"), runDir: filepath.Join("/run", filepath.Base(dir)),
		keep: map[string]bool{}}
	for _, d := range []string{e.tmp, e.runDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	e.mounts = map[int]bool{}
	ms, err := readMountinfo()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		e.mounts[m.ID] = true
	}
	e.cgroups = nsCgroupDirs(suite)
	t.Cleanup(e.finish)
	return e
}

// track records an id to look for among leftovers.
func (e *testEnv) track(id string) {
	if id = strings.TrimSpace(id); id != "" {
		e.ids = append(e.ids, id)
	}
}

// path names a file in the test's directory.
func (e *testEnv) path(name string) string { return filepath.Join(e.dir, name) }

// writeFile writes a file in the test's directory and returns its path.
func (e *testEnv) writeFile(name, content string) string {
	e.t.Helper()
	p := e.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// finish runs after the client's own cleanup (t.Cleanup is LIFO and newEnv registers first).
// Each thing it has to clean up fails the test.
func (e *testEnv) finish() {
	t := e.t
	t.Helper()

	// Processes: in the suite's cgroups (everything a client starts lands there) or naming the
	// test's directory. conmon and the shims exit a moment after the client command returns.
	deadline := time.Now().Add(10 * time.Second)
	var left []int
	for {
		left = e.processes()
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, pid := range left {
		t.Errorf("leftover: process %d %s", pid, cmdline(pid))
	}
	for _, d := range e.newCgroups() {
		killCgroup(d)
	}
	for _, pid := range left {
		killPid(pid)
	}

	// Mounts that were not there before the test, deepest first.
	ms, err := readMountinfo()
	if err != nil {
		t.Error(err)
	}
	var points []string
	for _, m := range ms {
		if !e.mounts[m.ID] {
			t.Errorf("leftover: mount %s on %s (%s)", m.Source, m.Point, m.FSType)
			points = append(points, m.Point)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, p := range points {
		_ = unix.Unmount(p, unix.MNT_DETACH)
	}

	// Cgroups created during the test: a client's parents go quietly, the rest are leftovers.
	var parents []string
	for _, name := range e.newCgroupNames() {
		if e.keptParent(name) {
			parents = append(parents, name)
		} else {
			t.Errorf("leftover: cgroup %s", name)
		}
	}
	if len(parents) > 0 {
		t.Logf("removing the client's parent cgroups %s", strings.Join(parents, " "))
	}
	for _, d := range e.newCgroups() {
		killCgroup(d)
		if err := rmdirCgroup(d); err != nil {
			t.Error(err)
		}
	}

	// State: entries naming a container id in the private /run (runtime roots, shim sockets,
	// conmon's files) or in the test's directory (client state, bundles).
	for _, root := range []string{"/run", e.dir} {
		for _, p := range entriesNaming(root, e.ids, 8) {
			t.Errorf("leftover: %s", p)
		}
	}

	if len(points) > 0 {
		t.Errorf("not removing %s and %s: mounts were left under them", e.dir, e.runDir)
		return
	}
	for _, d := range []string{e.dir, e.runDir} {
		if err := os.RemoveAll(d); err != nil {
			t.Error(err)
		}
	}
}

func (e *testEnv) processes() []int {
	out := nsPids(suite)
	self := os.Getpid()
	seen := map[int]bool{}
	for _, pid := range out {
		seen[pid] = true
	}
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == self || seen[pid] {
			continue
		}
		if st := procState(pid); st == "" || st == "Z" {
			continue
		}
		b, _ := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if strings.Contains(string(b), e.dir) {
			out = append(out, pid)
		}
	}
	return out
}

// newCgroupNames lists the cgroups created since the test began, children first.
func (e *testEnv) newCgroupNames() []string {
	var out []string
	for name := range nsCgroupDirs(suite) {
		if _, old := e.cgroups[name]; !old {
			out = append(out, name)
		}
	}
	// Deepest first (rmdir only removes a leaf), then by name for a stable report.
	sort.Slice(out, func(i, j int) bool {
		di, dj := strings.Count(out[i], "/"), strings.Count(out[j], "/")
		return di > dj || di == dj && out[i] < out[j]
	})
	return out
}

func (e *testEnv) newCgroups() []string {
	now := nsCgroupDirs(suite)
	var out []string
	for _, name := range e.newCgroupNames() {
		out = append(out, now[name])
	}
	return out
}

// keptParent reports whether every component of a cgroup's path is a client's parent name.
func (e *testEnv) keptParent(name string) bool {
	_, path, _ := strings.Cut(name, ":")
	for _, c := range strings.Split(strings.Trim(path, "/"), "/") {
		if !e.keep[c] {
			return false
		}
	}
	return true
}

// entriesNaming walks at most depth levels below root for names containing one of ids.
func entriesNaming(root string, ids []string, depth int) []string {
	if depth == 0 || len(ids) == 0 {
		return nil
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil
	}
	var out []string
	for _, ent := range entries {
		p := filepath.Join(root, ent.Name())
		named := false
		for _, id := range ids {
			named = named || strings.Contains(ent.Name(), id)
		}
		if named {
			out = append(out, p)
		} else if ent.IsDir() {
			out = append(out, entriesNaming(p, ids, depth-1)...)
		}
	}
	return out
}
