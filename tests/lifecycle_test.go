package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/unha/unha/tests/harness"
)

// cmdline returns /proc/PID/cmdline with NULs as spaces.
func cmdline(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatalf("cmdline of %d: %v", pid, err)
	}
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "wait-signal", "json")
	b.Spec.Annotations = map[string]string{"org.unha.test": "lifecycle", "empty": ""}
	pidFile := filepath.Join(e.Dir, "init.pid")
	before := time.Now()
	c := e.Create(b, "--pid-file", pidFile)

	st := c.State()
	if st.Status != "created" || st.Pid <= 0 || st.ID != c.ID {
		t.Fatalf("after create: status %q pid %d id %q, want created, >0, %q", st.Status, st.Pid, st.ID, c.ID)
	}
	if st.OCIVersion == "" {
		t.Error("state has no ociVersion")
	}
	if st.Bundle != b.Dir || st.Rootfs != b.Rootfs {
		t.Errorf("state bundle %q rootfs %q, want %q %q", st.Bundle, st.Rootfs, b.Dir, b.Rootfs)
	}
	if st.Created.Before(before.Add(-time.Minute)) || st.Created.After(time.Now().Add(time.Minute)) {
		t.Errorf("state created %v is not around now (%v)", st.Created, before)
	}
	for _, k := range []string{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"} {
		if _, ok := st.Raw[k]; !ok {
			t.Errorf("state lacks %q: %v", k, st.Raw)
		}
	}
	if !reflect.DeepEqual(st.Annotations, b.Spec.Annotations) {
		t.Errorf("state annotations %v, want %v", st.Annotations, b.Spec.Annotations)
	}
	// The user process must not run before start: the pid is still the runtime's init.
	if cl := cmdline(t, st.Pid); strings.HasPrefix(cl, "/probe") {
		t.Errorf("process already exec'd before start: %q", cl)
	}
	if c.Stdout() != "" {
		t.Errorf("container wrote before start: %q", c.Stdout())
	}
	pf, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(pf) != strconv.Itoa(st.Pid) {
		t.Errorf("pid file %q, want exactly %q (no newline)", pf, strconv.Itoa(st.Pid))
	}

	c.Start()
	c.WaitOutput("ready")
	st2 := c.State()
	if st2.Status != "running" || st2.Pid != st.Pid {
		t.Errorf("after start: status %q pid %d, want running %d", st2.Status, st2.Pid, st.Pid)
	}
	if cl := cmdline(t, st.Pid); cl != "/probe wait-signal json" {
		t.Errorf("running cmdline %q, want the probe", cl)
	}

	c.Kill("TERM")
	c.WaitStatus("stopped")
	lines := harness.Lines(c.Stdout())
	if len(lines) < 2 || lines[1] != "signal 15" {
		t.Errorf("probe output %q, want ready then signal 15", lines)
	}
	rep, err := harness.ParseReport(c.Stdout())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Pid != 1 {
		t.Errorf("container pid %d, want 1", rep.Pid)
	}

	c.Delete(false)
	r := e.Run("state", c.ID)
	if r.Code != 1 || !strings.Contains(r.Stderr, "container does not exist") {
		t.Errorf("state after delete: %s", r)
	}
	e.AssertClean()
}

func TestStateMissing(t *testing.T) {
	e := newEnv(t)
	r := e.Run("state", "unha-test-does-not-exist")
	if r.Code != 1 || !strings.Contains(r.Stderr, "container does not exist") {
		t.Errorf("want exit 1 and \"container does not exist\": %s", r)
	}
	if r.Stdout != "" {
		t.Errorf("stdout %q, want nothing", r.Stdout)
	}
}

func TestList(t *testing.T) {
	e := newEnv(t)
	c1 := e.Create(e.NewBundle("/probe", "wait-signal"))
	c2 := e.Create(e.NewBundle("/probe", "wait-signal"))
	c2.Start()
	c2.WaitOutput("ready")

	r := e.Run("list")
	if !r.OK() {
		t.Fatalf("list: %s", r)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("list output %q, want a header and two rows", r.Stdout)
	}
	want := map[string]string{c1.ID: "created", c2.ID: "running"}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) < 4 || want[f[0]] == "" || f[2] != want[f[0]] || f[3] != bundleOf(f[0], c1, c2) {
			t.Errorf("list row %q does not match %v", l, want)
		}
	}

	r = e.Run("list", "--format", "json")
	if !r.OK() {
		t.Fatalf("list --format json: %s", r)
	}
	var got []harness.State
	if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
		t.Fatalf("list json %q: %v", r.Stdout, err)
	}
	if len(got) != 2 {
		t.Fatalf("list json has %d entries, want 2: %s", len(got), r.Stdout)
	}
	for _, s := range got {
		if want[s.ID] != s.Status || s.Pid <= 0 || s.Owner != "root" || s.Bundle != bundleOf(s.ID, c1, c2) {
			t.Errorf("list json entry %+v does not match %v", s, want)
		}
	}

	r = e.Run("list", "-q")
	ids := strings.Fields(r.Stdout)
	if !r.OK() || len(ids) != 2 || want[ids[0]] == "" || want[ids[1]] == "" || ids[0] == ids[1] {
		t.Errorf("list -q: %s", r)
	}
}

func bundleOf(id string, cs ...*harness.Container) string {
	for _, c := range cs {
		if c.ID == id {
			return c.Bundle.Dir
		}
	}
	return ""
}

func TestListEmpty(t *testing.T) {
	e := newEnv(t)
	r := e.Run("list", "--format", "json")
	if !r.OK() {
		t.Fatalf("list: %s", r)
	}
	// runc prints null for no containers; an empty array says the same.
	if s := strings.TrimSpace(r.Stdout); s != "null" && s != "[]" {
		t.Errorf("list json of nothing: %q", s)
	}
}

func TestStartTwice(t *testing.T) {
	e := newEnv(t)
	c := e.Create(e.NewBundle("/probe", "wait-signal"))
	c.Start()
	c.WaitOutput("ready")
	pid := c.State().Pid
	r := e.Run("start", c.ID)
	if r.OK() || len(r.StderrLines()) == 0 {
		t.Errorf("second start of a running container succeeded: %s", r)
	}
	if st := c.State(); st.Status != "running" || st.Pid != pid {
		t.Errorf("second start changed the container: %+v", st)
	}
	if n := strings.Count(c.Stdout(), "ready"); n != 1 {
		t.Errorf("the process ran %d times", n)
	}
	c.Kill("KILL")
	c.WaitStatus("stopped")
	if r := e.Run("start", c.ID); r.OK() {
		t.Errorf("start of a stopped container succeeded: %s", r)
	}
}

func TestDuplicateID(t *testing.T) {
	e := newEnv(t)
	first := e.Create(e.NewBundle("/probe", "wait-signal"))
	st := first.State()
	other := e.NewBundle()
	_, r := e.TryCreate(other, harness.CreateOpts{ID: first.ID})
	if r.OK() {
		t.Fatalf("second create with the same id succeeded: %s", r)
	}
	checkOneLineError(t, r, "exists", first.ID)
	st2 := first.State()
	if st2.Status != "created" || st2.Pid != st.Pid || st2.Bundle != first.Bundle.Dir {
		t.Errorf("first container changed: before %+v after %+v", st, st2)
	}
	if !harness.ProcessAlive(st.Pid) {
		t.Errorf("first container's init %d died", st.Pid)
	}
	first.Start()
	first.WaitOutput("ready")
}

func TestInvalidID(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	b.Save()
	for _, id := range []string{"../x", "a/b", "", "..", ".", "/abs"} {
		r := e.Run("create", "--bundle", b.Dir, id)
		if r.OK() || len(r.StderrLines()) == 0 {
			t.Errorf("create with id %q: %s", id, r)
		}
	}
	// Nothing may have been created, neither in the state root nor next to it ("../x").
	if entries, err := os.ReadDir(e.Root); err == nil && len(entries) > 0 {
		t.Errorf("state root has entries after invalid ids: %v", entries)
	}
	for _, p := range []string{filepath.Join(e.Dir, "x"), filepath.Join(e.Root, "a")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was created", p)
		}
	}
}
