package tests

// Where linux.cgroupsPath puts a container: beneath the caller's own cgroup by default and
// for a relative path, exactly there for an absolute one, and in the cgroup2 hierarchy of a
// hybrid host as well as in the v1 ones.

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/tests/harness"
)

func uniqueName(t *testing.T, prefix string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b[:])
}

// checkPlacement checks that init's /proc/PID/cgroup names want(callerPath) in every
// hierarchy the caller belongs to, the cgroup2 one of a hybrid host included.
func checkPlacement(t *testing.T, pid int, want func(caller string) string) {
	t.Helper()
	self, got := procCgroups(t, "self"), procCgroups(t, strconv.Itoa(pid))
	for ctrl, caller := range self {
		if w := want(caller); got[ctrl] != w {
			t.Errorf("%s: init is in %q, want %q", hierName(ctrl), got[ctrl], w)
		}
	}
}

func hierName(ctrl string) string {
	if ctrl == "" {
		return "cgroup2"
	}
	return ctrl
}

// dirsFor maps an inner cgroup path, per hierarchy, to the host directories.
func dirsFor(t *testing.T, inner func(caller string) string) []string {
	t.Helper()
	mounts := cgroupMounts(t)
	var out []string
	for ctrl, caller := range procCgroups(t, "self") {
		if mnt, ok := mounts[ctrl]; ok {
			out = append(out, filepath.Join(mnt, inner(caller)))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestCgroupsPathDefault(t *testing.T) {
	e := newEnv(t)
	c, pid := startedContainer(t, e, e.NewBundle("/bin/sh", "-c", "echo ready; exec sleep 1000"), nil)
	checkPlacement(t, pid, func(caller string) string { return filepath.Join(caller, c.ID) })
	c.Delete(true)
	wantGone(t, "delete", defaultCgroupDirs(t, c.ID))
	e.AssertClean()
}

// rmdirOnCleanup removes, deepest first, directories a test had a runtime make beneath
// cgroups it owns by their unique names, should the runtime leave them; rmdir only ever
// succeeds on an empty cgroup.
func rmdirOnCleanup(t *testing.T, dirs []string) {
	t.Cleanup(func() {
		sorted := slices.Clone(dirs)
		slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
		for _, d := range sorted {
			_ = unix.Rmdir(d)
		}
	})
}

func TestCgroupsPathRelative(t *testing.T) {
	e := newEnv(t)
	parent := uniqueName(t, "unha-test-rel-")
	b := e.NewBundle("/bin/sh", "-c", "echo ready; exec sleep 1000")
	id := e.NewID()
	b.Spec.Linux.CgroupsPath = parent + "/" + id
	leaves := dirsFor(t, func(caller string) string { return filepath.Join(caller, parent, id) })
	parents := dirsFor(t, func(caller string) string { return filepath.Join(caller, parent) })
	rmdirOnCleanup(t, append(slices.Clone(leaves), parents...))
	c, r := e.TryCreate(b, harness.CreateOpts{ID: id})
	if !r.OK() {
		t.Fatalf("create: %s", r)
	}
	c.Start()
	c.WaitOutput("ready")
	checkPlacement(t, c.State().Pid, func(caller string) string { return filepath.Join(caller, parent, id) })
	c.Delete(true)
	wantGone(t, "delete", leaves)
	t.Run("intermediate", func(t *testing.T) {
		skipIfRunc(t, "runc 1.1 removes only the container's own cgroup, not the parents it created")
		wantGone(t, "delete", parents)
	})
	e.AssertClean()
}

// absoluteBase is the deepest of the caller's cgroups, provided every other one is an
// ancestor of it: an absolute cgroupsPath beneath it lies beneath the caller's own cgroup
// in every hierarchy. (Here the caller's memory cgroup is /process_api/<hash> and the others
// are /.)
func absoluteBase(t *testing.T) string {
	t.Helper()
	deepest := "/"
	self := procCgroups(t, "self")
	for _, p := range self {
		if len(p) > len(deepest) {
			deepest = p
		}
	}
	for ctrl, p := range self {
		if p != "/" && p != deepest && !strings.HasPrefix(deepest, p+"/") {
			t.Skipf("the caller's cgroups are not nested (%s: %s, deepest %s): no absolute path lies beneath all of them",
				hierName(ctrl), p, deepest)
		}
	}
	return deepest
}

func TestCgroupsPathAbsolute(t *testing.T) {
	e := newEnv(t)
	base := filepath.Join(absoluteBase(t), uniqueName(t, "unha-test-abs-"))
	id := e.NewID()
	abs := filepath.Join(base, id)
	// Every directory on the way that does not exist yet is the runtime's to make and remove.
	var made []string
	mounts := cgroupMounts(t)
	for ctrl, caller := range procCgroups(t, "self") {
		mnt, ok := mounts[ctrl]
		if !ok {
			continue
		}
		for p := abs; p != caller && p != "/"; p = filepath.Dir(p) {
			if _, err := os.Lstat(filepath.Join(mnt, p)); err == nil {
				break
			}
			made = append(made, filepath.Join(mnt, p))
		}
	}
	slices.Sort(made)
	made = slices.Compact(made)
	rmdirOnCleanup(t, made)
	t.Logf("cgroupsPath %s; the runtime makes %d directories", abs, len(made))

	b := e.NewBundle("/bin/sh", "-c", "echo ready; exec sleep 1000")
	b.Spec.Linux.CgroupsPath = abs
	c, r := e.TryCreate(b, harness.CreateOpts{ID: id})
	if !r.OK() {
		t.Fatalf("create: %s", r)
	}
	c.Start()
	c.WaitOutput("ready")
	checkPlacement(t, c.State().Pid, func(string) string { return abs })
	c.Delete(true)
	leaves := dirsFor(t, func(string) string { return abs })
	wantGone(t, "delete", leaves)
	t.Run("intermediate", func(t *testing.T) {
		skipIfRunc(t, "runc 1.1 removes only the container's own cgroup, not the parents it created")
		wantGone(t, "delete", made)
	})
	e.AssertClean()
}

// unifiedMount is the cgroup2 mount of a hybrid host, or skips.
func unifiedMount(t *testing.T) string {
	t.Helper()
	mounts := cgroupMounts(t)
	u, ok := mounts[""]
	if !ok {
		t.Skip("no cgroup2 mount")
	}
	if _, ok := mounts["memory"]; !ok {
		t.Skip("not a hybrid host: the cgroup v2 tests cover pure v2")
	}
	return u
}

// TestCgroupUnified: on a hybrid host init joins the cgroup2 hierarchy too (the 0:: line),
// in a cgroup named like its v1 ones.
func TestCgroupUnified(t *testing.T) {
	e := newEnv(t)
	unified := unifiedMount(t)
	c, pid := startedContainer(t, e, e.NewBundle("/bin/sh", "-c", "echo ready; exec sleep 1000"), nil)
	got, caller := procCgroups(t, strconv.Itoa(pid))[""], procCgroups(t, "self")[""]
	if want := filepath.Join(caller, c.ID); got != want {
		t.Errorf("0:: line of init is %q, want %q", got, want)
	}
	dir := filepath.Join(unified, caller, c.ID)
	if procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs")); err != nil || strings.TrimSpace(string(procs)) != strconv.Itoa(pid) {
		t.Errorf("%s/cgroup.procs is %q (%v), want init's pid %d", dir, procs, err, pid)
	}
	c.Delete(true)
	wantGone(t, "delete", []string{dir})
	e.AssertClean()
}

// hugetlbEnableEnv allows TestCgroupHugetlb to let the runtime enable the hugetlb controller
// in the cgroup2 ancestors of the container (on this host: the hierarchy's root), which
// writes to a cgroup the test did not create.
const hugetlbEnableEnv = "UNHA_TEST_HUGETLB_ENABLE"

// TestCgroupHugetlb: hugepageLimits land in the hugetlb files; on a hybrid host whose v1
// side has no hugetlb controller they go to the cgroup2 one.
func TestCgroupHugetlb(t *testing.T) {
	e := newEnv(t)
	mounts := cgroupMounts(t)
	caller := procCgroups(t, "self")
	var ctrlDir string // where hugetlb must already be usable for a child
	v1 := false
	if mnt, ok := mounts["hugetlb"]; ok {
		ctrlDir, v1 = filepath.Join(mnt, caller["hugetlb"]), true
	} else if u, ok := mounts[""]; ok {
		ctrlDir = filepath.Join(u, caller[""])
		avail, _ := os.ReadFile(filepath.Join(ctrlDir, "cgroup.controllers"))
		if !slices.Contains(strings.Fields(string(avail)), "hugetlb") {
			t.Skip("no hugetlb controller in the cgroup2 hierarchy")
		}
		on, _ := os.ReadFile(filepath.Join(ctrlDir, "cgroup.subtree_control"))
		if !slices.Contains(strings.Fields(string(on)), "hugetlb") && os.Getenv(hugetlbEnableEnv) == "" {
			t.Skipf("hugetlb is not enabled in %s/cgroup.subtree_control and enabling it writes to a cgroup "+
				"this test did not create; set %s=1 to allow it", ctrlDir, hugetlbEnableEnv)
		}
		skipIfRunc(t, "runc 1.1 ignores hugepageLimits when hugetlb is only on the cgroup2 side of a hybrid host")
		if !slices.Contains(strings.Fields(string(on)), "hugetlb") {
			// Leave the hierarchy as it was; EBUSY means someone else uses it now.
			t.Cleanup(func() { _ = os.WriteFile(filepath.Join(ctrlDir, "cgroup.subtree_control"), []byte("-hugetlb"), 0) })
		}
	} else {
		t.Skip("no hugetlb controller")
	}
	sizes, _ := filepath.Glob("/sys/kernel/mm/hugepages/hugepages-2048kB")
	if len(sizes) == 0 {
		t.Skip("no 2MB huge pages")
	}
	b := e.NewBundle("/bin/sh", "-c", "echo ready; exec sleep 1000")
	resources(b).HugepageLimits = []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 8 << 20}}
	c, pid := startedContainer(t, e, b, nil)
	file := "hugetlb.2MB.max"
	ctrl := ""
	if v1 {
		file, ctrl = "hugetlb.2MB.limit_in_bytes", "hugetlb"
	}
	if got := cgRead(t, pid, ctrl, file); got != "8388608" {
		t.Errorf("%s is %s, want 8388608", file, got)
	}
	c.Delete(true)
	e.AssertClean()
}
