package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/tests/cmd/probe/report"
	"github.com/unha/unha/tests/harness"
)

// hookKit records hooks into a host directory that is also bind-mounted at /hooks, so the
// startContainer hook (whose path resolves inside the container) writes to the same place.
type hookKit struct {
	t   *testing.T
	dir string
}

func newHookKit(t *testing.T, e *harness.Env, b *harness.Bundle) *hookKit {
	dir := filepath.Join(e.Dir, "hooks")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	b.AddMount(specs.Mount{Destination: "/hooks", Type: "bind", Source: dir, Options: []string{"bind", "rw"}})
	b.Spec.Hooks = &specs.Hooks{}
	return &hookKit{t: t, dir: dir}
}

// hook returns a hook running the probe; fail makes it exit 1 after recording.
func (k *hookKit) hook(name string, fail bool) specs.Hook {
	path, dir := suite.Probe, k.dir
	if name == "startContainer" {
		path, dir = "/probe", "/hooks"
	}
	args := []string{"probe", "hook", name, dir}
	if fail {
		args = append(args, "exit", "1")
	}
	return specs.Hook{Path: path, Args: args, Env: []string{"UNHA_HOOK=" + name}}
}

func (k *hookKit) order() []string {
	data, err := os.ReadFile(filepath.Join(k.dir, "order"))
	if err != nil {
		return nil
	}
	return strings.Fields(string(data))
}

func (k *hookKit) record(name string) (report.HookRecord, specs.State) {
	k.t.Helper()
	var rec report.HookRecord
	var st specs.State
	data, err := os.ReadFile(filepath.Join(k.dir, name+".json"))
	if err != nil {
		k.t.Fatalf("hook %s did not run: %v", name, err)
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		k.t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(rec.State), &st); err != nil {
		k.t.Fatalf("hook %s got state %q on stdin: %v", name, rec.State, err)
	}
	return rec, st
}

func hasPrefix(s, prefix []string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := range prefix {
		if s[i] != prefix[i] {
			return false
		}
	}
	return true
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func wantOrder(t *testing.T, k *hookKit, want ...string) {
	t.Helper()
	if got := k.order(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("hooks ran %v, want %v", got, want)
	}
}

func TestHooks(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "print", "process-ran")
	b.Spec.Annotations = map[string]string{"org.unha.hooks": "yes"}
	k := newHookKit(t, e, b)
	h := b.Spec.Hooks
	//lint:ignore SA1019 prestart is deprecated but clients still send it (Docker's libnetwork)
	h.Prestart = []specs.Hook{k.hook("prestart", false)}
	h.CreateRuntime = []specs.Hook{k.hook("createRuntime", false)}
	h.CreateContainer = []specs.Hook{k.hook("createContainer", false)}
	h.StartContainer = []specs.Hook{k.hook("startContainer", false)}
	h.Poststart = []specs.Hook{k.hook("poststart", false)}
	h.Poststop = []specs.Hook{k.hook("poststop", false)}

	c := e.Create(b)
	afterCreate := k.order()
	st := c.State()
	containerMnt := hostNS(t, strconv.Itoa(st.Pid), "mnt")
	c.Start()
	afterStart := k.order()
	c.WaitStatus("stopped")
	if !strings.Contains(c.Stdout(), "process-ran") {
		t.Errorf("process did not run: %q", c.Stdout())
	}
	c.Delete(false)
	afterDelete := k.order()

	created := []string{"prestart", "createRuntime", "createContainer"}
	if !hasPrefix(afterCreate, created) {
		t.Errorf("after create hooks ran %v, want %v first", afterCreate, created)
	}
	if !hasPrefix(afterStart, afterCreate) || !contains(afterStart, "startContainer") || !contains(afterStart, "poststart") {
		t.Errorf("after start hooks ran %v, want startContainer and poststart added to %v", afterStart, afterCreate)
	}
	if len(afterDelete) != 6 || afterDelete[5] != "poststop" || !hasPrefix(afterDelete, afterStart) {
		t.Errorf("after delete hooks ran %v, want poststop added to %v", afterDelete, afterStart)
	}
	t.Run("poststart-after-start", func(t *testing.T) {
		skipIfRunc(t, "runc 1.1 runs poststart hooks at the end of create, with status created")
		if strings.Join(afterCreate, " ") != strings.Join(created, " ") {
			t.Errorf("after create hooks ran %v, want %v", afterCreate, created)
		}
		// poststart runs after the user process started and before start returns.
		if want := append(created, "startContainer", "poststart"); strings.Join(afterStart, " ") != strings.Join(want, " ") {
			t.Errorf("after start hooks ran %v, want %v", afterStart, want)
		}
		if _, s := k.record("poststart"); s.Status != specs.StateRunning {
			t.Errorf("poststart: status %q, want running", s.Status)
		}
	})

	hostMnt := hostNS(t, "self", "mnt")
	for _, tc := range []struct {
		name, status string
		// pid: the pid as seen by the hook's namespace (runtime-spec state, "pid"); -1: any.
		pid int
		mnt string
	}{
		{"prestart", "creating", st.Pid, hostMnt},
		{"createRuntime", "creating", st.Pid, hostMnt},
		{"createContainer", "creating", 1, containerMnt},
		{"startContainer", "created", 1, containerMnt},
		{"poststart", "", st.Pid, hostMnt}, // status: see poststart-after-start
		{"poststop", "stopped", -1, hostMnt},
	} {
		rec, s := k.record(tc.name)
		if s.ID != c.ID || s.Bundle != b.Dir || s.Version == "" {
			t.Errorf("%s: state %+v does not describe the container", tc.name, s)
		}
		if tc.status != "" && s.Status != specs.ContainerState(tc.status) {
			t.Errorf("%s: status %q, want %q", tc.name, s.Status, tc.status)
		}
		if tc.pid >= 0 && s.Pid != tc.pid {
			t.Errorf("%s: state pid %d, want %d", tc.name, s.Pid, tc.pid)
		}
		if s.Annotations["org.unha.hooks"] != "yes" {
			t.Errorf("%s: annotations %v", tc.name, s.Annotations)
		}
		if rec.Namespaces["mnt"] != tc.mnt {
			t.Errorf("%s ran in mount namespace %s, want %s", tc.name, rec.Namespaces["mnt"], tc.mnt)
		}
		if strings.Join(rec.Env, " ") != "UNHA_HOOK="+tc.name {
			t.Errorf("%s: env %q, want exactly the hook's", tc.name, rec.Env)
		}
		if want := k.hook(tc.name, false).Args; strings.Join(rec.Args, " ") != strings.Join(want, " ") {
			t.Errorf("%s: args %q, want %q", tc.name, rec.Args, want)
		}
	}
}

// TestHookFailsCreate: a failing prestart, createRuntime or createContainer hook fails create,
// and the container is destroyed (runtime-spec lifecycle steps 3-5, then 12).
func TestHookFailsCreate(t *testing.T) {
	for _, name := range []string{"prestart", "createRuntime", "createContainer"} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			b := e.NewBundle("/probe", "print", "process-ran")
			k := newHookKit(t, e, b)
			h := k.hook(name, true)
			switch name {
			case "prestart":
				//lint:ignore SA1019 deprecated but still sent by clients
				b.Spec.Hooks.Prestart = []specs.Hook{h}
			case "createRuntime":
				b.Spec.Hooks.CreateRuntime = []specs.Hook{h}
			case "createContainer":
				b.Spec.Hooks.CreateContainer = []specs.Hook{h}
			}
			b.Spec.Hooks.Poststop = []specs.Hook{k.hook("poststop", false)}
			c, r := e.TryCreate(b, harness.CreateOpts{})
			if r.OK() {
				t.Fatalf("create with a failing %s hook succeeded: %s", name, r)
			}
			checkOneLineError(t, r, "hook")
			if got := k.order(); len(got) == 0 || got[0] != name {
				t.Errorf("hooks ran %v, want %s first", got, name)
			}
			if strings.Contains(c.Stdout(), "process-ran") {
				t.Error("the process ran")
			}
			e.AssertClean()
		})
	}
}

// TestHookFailsStart: a failing startContainer or poststart hook fails start and stops the
// container (runtime-spec 1.3 lifecycle steps 7 and 9).
func TestHookFailsStart(t *testing.T) {
	for _, name := range []string{"startContainer", "poststart"} {
		t.Run(name, func(t *testing.T) {
			if name == "poststart" {
				skipIfRunc(t, "runc 1.1 runs poststart hooks during create, so a failing one fails create")
			}
			e := newEnv(t)
			b := e.NewBundle("/probe", "print", "process-ran", "wait-signal")
			k := newHookKit(t, e, b)
			if name == "startContainer" {
				b.Spec.Hooks.StartContainer = []specs.Hook{k.hook(name, true)}
			} else {
				b.Spec.Hooks.Poststart = []specs.Hook{k.hook(name, true), k.hook("poststart2", false)}
			}
			c := e.Create(b)
			r := e.Run("start", c.ID)
			t.Run("start-fails", func(t *testing.T) {
				if name == "startContainer" {
					skipIfRunc(t, "runc 1.1 runs startContainer hooks in its init after start returned, so start exits 0")
				}
				if r.OK() {
					t.Errorf("start with a failing %s hook succeeded: %s", name, r)
				}
			})
			// Stopped, or already destroyed: either way the process is not left running.
			if st, err := c.TryState(); err == nil && st.Status != "stopped" {
				c.WaitStatus("stopped")
			}
			if name == "startContainer" && strings.Contains(c.Stdout(), "process-ran") {
				t.Error("the process ran although its startContainer hook failed")
			}
			if got := k.order(); len(got) != 1 || got[0] != name {
				t.Errorf("hooks ran %v, want only %s", got, name)
			}
		})
	}
}

// TestHookPoststopFailure: a failing poststop hook is only a warning; the remaining poststop
// hooks run and delete succeeds (runtime-spec lifecycle step 13).
func TestHookPoststopFailure(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "exit", "0")
	k := newHookKit(t, e, b)
	b.Spec.Hooks.Poststop = []specs.Hook{k.hook("poststop", true), k.hook("poststop2", false)}
	c := e.Create(b)
	c.Start()
	c.WaitStatus("stopped")
	if r := e.Run("delete", c.ID); !r.OK() {
		t.Errorf("delete with a failing poststop hook must succeed: %s", r)
	}
	e.AssertClean()
	t.Run("remaining-hooks-run", func(t *testing.T) {
		skipIfRunc(t, "runc 1.1 stops at the first failing poststop hook")
		wantOrder(t, k, "poststop", "poststop2")
	})
}
