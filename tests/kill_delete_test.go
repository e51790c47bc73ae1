package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/unha/unha/tests/harness"
)

func TestKillSignalForms(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		arg  []string
		want int
	}{{[]string{"10"}, 10}, {[]string{"USR2"}, 12}, {[]string{"SIGHUP"}, 1}, {nil, 15}}
	var cs []*harness.Container
	for range cases {
		c := e.Create(e.NewBundle("/probe", "wait-signal"))
		c.Start()
		cs = append(cs, c)
	}
	for i, tc := range cases {
		cs[i].WaitOutput("ready")
		if r := e.Run(append([]string{"kill", cs[i].ID}, tc.arg...)...); !r.OK() {
			t.Errorf("kill %v: %s", tc.arg, r)
			continue
		}
		cs[i].WaitStatus("stopped")
		if want := fmt.Sprintf("signal %d", tc.want); !strings.Contains(cs[i].Stdout(), want) {
			t.Errorf("kill %v: probe saw %q, want %q", tc.arg, cs[i].Stdout(), want)
		}
	}
	if r := e.Run("kill", cs[0].ID, "NOSUCHSIGNAL"); r.OK() {
		t.Errorf("kill with a bad signal name succeeded: %s", r)
	}
}

func TestKillStopped(t *testing.T) {
	e := newEnv(t)
	c := e.Create(e.NewBundle("/probe", "exit", "0"))
	c.Start()
	c.WaitStatus("stopped")
	r := e.Run("kill", c.ID, "9")
	if r.OK() || !strings.Contains(r.Stderr, "container not running") {
		t.Errorf("kill of a stopped container: want \"container not running\": %s", r)
	}
	if r := e.Run("kill", "--all", c.ID, "9"); !r.OK() {
		t.Errorf("kill --all of a stopped container must succeed: %s", r)
	}
	if r := e.Run("kill", "-a", c.ID, "KILL"); !r.OK() {
		t.Errorf("kill -a of a stopped container must succeed: %s", r)
	}
}

func TestDeleteRunning(t *testing.T) {
	e := newEnv(t)
	c := e.Create(e.NewBundle("/probe", "wait-signal"))
	c.Start()
	c.WaitOutput("ready")
	pid := c.State().Pid
	if r := e.Run("delete", c.ID); r.OK() {
		t.Errorf("delete without --force of a running container succeeded: %s", r)
	}
	if st := c.State(); st.Status != "running" || !harness.ProcessAlive(pid) {
		t.Fatalf("failed delete changed the container: %+v", st)
	}
	c.Delete(true)
	if harness.ProcessAlive(pid) {
		t.Errorf("init %d alive after delete --force", pid)
	}
	if r := e.Run("state", c.ID); r.OK() {
		t.Errorf("state after delete --force: %s", r)
	}
	e.AssertClean()
}

// TestDeleteCreated: runc deletes a created, never started, container without --force
// (killing its init), although runtime-spec asks for an error; containerd's shim relies on it
// when a task is deleted before it was started.
func TestDeleteCreated(t *testing.T) {
	e := newEnv(t)
	c := e.Create(e.NewBundle("/probe", "print", "process-ran"))
	pid := c.State().Pid
	c.Delete(false)
	if harness.ProcessAlive(pid) {
		t.Errorf("init %d alive after delete", pid)
	}
	if strings.Contains(c.Stdout(), "process-ran") {
		t.Error("the process ran")
	}
	e.AssertClean()
}

func TestDeleteMissing(t *testing.T) {
	e := newEnv(t)
	r := e.Run("delete", "unha-test-missing")
	if r.OK() || !strings.Contains(r.Stderr, "container does not exist") {
		t.Errorf("delete of a missing id: want an error \"container does not exist\": %s", r)
	}
	if r := e.Run("delete", "--force", "unha-test-missing"); !r.OK() {
		t.Errorf("delete --force on a missing id must exit 0: %s", r)
	}
	if r := e.Run("delete", "-f", "unha-test-missing"); !r.OK() {
		t.Errorf("delete -f on a missing id must exit 0: %s", r)
	}
}
