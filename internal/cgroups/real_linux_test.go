package cgroups

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

func uniqueName(t *testing.T) string {
	return fmt.Sprintf("unha-test-%s-%d-%d", strings.ReplaceAll(t.Name(), "/", "_"), os.Getpid(), time.Now().UnixNano())
}

// startSleep starts a child that is killed and reaped at cleanup.
func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	c := exec.Command("sleep", "1000")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Process.Kill()
		_, _ = c.Process.Wait()
	})
	return c
}

// cleanupManager destroys m at the end (after killing what is inside) and
// checks that every directory the test could have made is gone.
func cleanupManager(t *testing.T, m Manager, top []string) {
	t.Helper()
	t.Cleanup(func() {
		_ = m.Signal(unix.SIGKILL)
		if err := m.Destroy(); err != nil {
			t.Errorf("cleanup Destroy: %v", err)
		}
		for _, d := range top {
			if exists(d) {
				t.Errorf("left behind %s", d)
				_ = removeTree(d)
			}
		}
	})
}

// procState is the state letter of /proc/PID/stat (field 3).
func procState(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return strings.Fields(s[i+1:])[0]
}

// topDirs returns, for each path, the first component below the hierarchy
// (what a nested cgroupsPath a/b made at the top).
func topDirs(t *testing.T, m Manager, name string) []string {
	var out []string
	for _, p := range m.Paths() {
		i := strings.Index(p, "/"+name)
		if i < 0 {
			t.Fatalf("path %s lacks %s", p, name)
		}
		out = append(out, p[:i+1+len(name)])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestRealPlacementV1(t *testing.T) {
	needRoot(t)
	name := uniqueName(t)
	m, err := New(name+"/inner", "id", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Version() != 1 {
		t.Skip("host is not v1/hybrid")
	}
	top := topDirs(t, m, name)
	cleanupManager(t, m, top)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	for k, p := range m.Paths() {
		if !exists(p) {
			t.Errorf("%q: %s not created", k, p)
		}
	}
	c := startSleep(t)
	if err := m.AddProc(c.Process.Pid); err != nil {
		t.Fatal(err)
	}
	self, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", c.Process.Pid))
	if !strings.Contains(string(self), name+"/inner") {
		t.Errorf("child cgroup = %s", self)
	}
	pids, err := m.Pids()
	if err != nil || !slices.Equal(pids, []int{c.Process.Pid}) {
		t.Errorf("Pids = %v, %v; want [%d]", pids, err, c.Process.Pid)
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if p, err := m.Paused(); err != nil || !p {
		t.Errorf("Paused = %v, %v after Freeze", p, err)
	}
	// A task in the freezer's refrigerator shows as D (uninterruptible).
	if s := procState(t, c.Process.Pid); s != "D" {
		t.Errorf("frozen child state = %s, want D", s)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if p, _ := m.Paused(); p {
		t.Errorf("Paused after Thaw")
	}
	if s := procState(t, c.Process.Pid); s != "S" && s != "R" {
		t.Errorf("thawed child state = %s, want S or R", s)
	}
	if err := m.Signal(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st, _ := c.Process.Wait()
	if ws, ok := st.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Errorf("child ended with %v, want SIGKILL", st)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, d := range top {
		if exists(d) {
			t.Errorf("Destroy left %s", d)
		}
	}
}

func TestRealLoadDestroy(t *testing.T) {
	needRoot(t)
	name := uniqueName(t)
	m, err := New(name, "id", Options{})
	if err != nil {
		t.Fatal(err)
	}
	top := topDirs(t, m, name)
	cleanupManager(t, m, top)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	l, err := Load(m.Paths(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, d := range top {
		if exists(d) {
			t.Errorf("Destroy after Load left %s", d)
		}
	}
}

// unifiedOptions treats the hybrid host's cgroup2 mount as a v2 root.
func unifiedOptions(t *testing.T) Options {
	if !exists("/sys/fs/cgroup/unified/cgroup.procs") {
		t.Skip("no cgroup2 mount at /sys/fs/cgroup/unified")
	}
	return Options{Root: "/sys/fs/cgroup/unified"}
}

func TestRealPlacementV2(t *testing.T) {
	needRoot(t)
	opts := unifiedOptions(t)
	name := uniqueName(t)
	m, err := New(name+"/inner", "id", opts)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version() != 2 {
		t.Fatalf("Version = %d on the unified mount", m.Version())
	}
	top := topDirs(t, m, name)
	cleanupManager(t, m, top)
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	f, err := m.OpenFD()
	if err != nil || f == nil {
		t.Fatalf("OpenFD = %v, %v", f, err)
	}
	f.Close()
	c := startSleep(t)
	if err := m.AddProc(c.Process.Pid); err != nil {
		t.Fatal(err)
	}
	pids, err := m.Pids()
	if err != nil || !slices.Equal(pids, []int{c.Process.Pid}) {
		t.Errorf("Pids = %v, %v; want [%d]", pids, err, c.Process.Pid)
	}
	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if p, err := m.Paused(); err != nil || !p {
		t.Errorf("Paused = %v, %v after Freeze", p, err)
	}
	// A v2-frozen task sleeps in the signal path (state S, unlike v1's
	// D); the kernel's own answer is cgroup.events.
	if ev := readBack(t, m.Paths()[""], "cgroup.events"); !strings.Contains(ev, "frozen 1") {
		t.Errorf("cgroup.events after Freeze = %q", ev)
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if err := m.Signal(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st, _ := c.Process.Wait()
	if ws, ok := st.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Errorf("child ended with %v, want SIGKILL", st)
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for _, d := range top {
		if exists(d) {
			t.Errorf("Destroy left %s", d)
		}
	}
}

// TestRealEnterTasks: a process enters the v1 cgroups itself through the
// files OpenTasks gives it (after CreateV2 made the cgroup2 directory
// alone), and RemoveIfEmpty refuses while it is inside, then removes all.
func TestRealEnterTasks(t *testing.T) {
	needRoot(t)
	name := uniqueName(t)
	m, err := New(name+"/inner", "id", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Version() != 1 {
		t.Skip("host is not v1/hybrid")
	}
	top := topDirs(t, m, name)
	cleanupManager(t, m, top)
	if err := m.CreateV2(); err != nil {
		t.Fatal(err)
	}
	for k, p := range m.Paths() {
		if exists(p) != (k == "") {
			t.Errorf("after CreateV2, %q: %s exists = %v", k, p, exists(p))
		}
	}
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	tasks, err := m.OpenTasks()
	if err != nil {
		t.Fatal(err)
	}
	v1 := 0
	for k := range m.Paths() {
		if k != "" {
			v1++
		}
	}
	if len(tasks) != v1 {
		t.Fatalf("OpenTasks gave %d files for %d v1 hierarchies", len(tasks), v1)
	}
	// The helper writes "0" to each from its main thread, then waits.
	c := exec.Command("/proc/self/exe")
	c.Env = append(os.Environ(), "UNHA_CGROUP_HELPER=enter", fmt.Sprintf("UNHA_FDS=%d", len(tasks)))
	c.ExtraFiles = tasks
	stdin, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Process.Kill()
		_ = c.Wait()
	})
	for _, f := range tasks {
		f.Close()
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "in\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	self, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", c.Process.Pid))
	for _, l := range strings.Split(strings.TrimSpace(string(self)), "\n") {
		if strings.HasPrefix(l, "0::") {
			continue // cgroup2: not entered this way
		}
		if !strings.HasSuffix(l, name+"/inner") {
			t.Errorf("child not in its v1 cgroup: %s", l)
		}
	}
	if m.RemoveIfEmpty() {
		t.Fatal("RemoveIfEmpty removed a cgroup with a process inside")
	}
	stdin.Close()
	if err := c.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	if !m.RemoveIfEmpty() {
		t.Fatal("RemoveIfEmpty refused an empty cgroup")
	}
	for _, d := range top {
		if exists(d) {
			t.Errorf("RemoveIfEmpty left %s", d)
		}
	}
}
