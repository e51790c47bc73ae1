package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/tests/harness"
)

func TestRunExitCode(t *testing.T) {
	e := newEnv(t)
	id, r := e.RunContainer(e.NewBundle("/probe", "print", "hi", "exit", "3"))
	if r.Code != 3 || r.Stdout != "hi\n" {
		t.Errorf("want exit 3 and the container's stdout: %s", r)
	}
	if r := e.Run("state", id); r.OK() {
		t.Errorf("run left the container behind: %s", r)
	}
	e.AssertClean()
}

func TestRunSignalDeath(t *testing.T) {
	e := newEnv(t)
	// As pid 1 of its own PID namespace the probe cannot kill itself (pid_namespaces(7)),
	// so this container shares the host's PID namespace.
	b := e.NewBundle("/probe", "signal-self", "9")
	b.RemoveNamespace(specs.PIDNamespace)
	_, r := e.RunContainer(b)
	if r.Code != 128+9 {
		t.Errorf("want exit 137 for SIGKILL: %s", r)
	}
	e.AssertClean()
}

func TestRunKilledFromOutside(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "wait-signal")
	b.Save()
	id := e.NewID()
	out, err := os.Create(filepath.Join(e.Dir, "run.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	done := make(chan harness.Result, 1)
	go func() { done <- e.RunWith(harness.RunOpts{Stdout: out}, "run", "--bundle", b.Dir, id) }()
	waitFileLine(t, out.Name(), "ready", done)
	if r := e.Run("kill", id, "KILL"); !r.OK() {
		t.Fatalf("kill: %s", r)
	}
	r := <-done
	if r.Code != 128+9 {
		t.Errorf("run of a SIGKILLed container: want 137: %s", r)
	}
	e.AssertClean()
}

// waitFileLine polls path for a line; done, if it yields first, means the command finished
// without ever printing it.
func waitFileLine(t *testing.T, path, line string, done chan harness.Result) {
	t.Helper()
	for deadline := time.Now().Add(harness.DefaultTimeout); time.Now().Before(deadline); {
		b, _ := os.ReadFile(path)
		for _, l := range strings.Split(string(b), "\n") {
			if l == line {
				return
			}
		}
		select {
		case r := <-done:
			t.Fatalf("finished before printing %q: %s", line, r)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("%s never got %q", path, line)
}

func TestRunDetached(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "wait-signal")
	b.Save()
	id := e.NewID()
	pidFile := filepath.Join(e.Dir, "run.pid")
	out, err := os.Create(filepath.Join(e.Dir, "run.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	r := e.RunWith(harness.RunOpts{Stdout: out}, "run", "-d", "--pid-file", pidFile, "--bundle", b.Dir, id)
	if !r.OK() {
		t.Fatalf("run -d: %s", r)
	}
	r = e.Run("state", id)
	st, err := harness.ParseState([]byte(r.Stdout))
	if err != nil {
		t.Fatalf("state: %v: %s", err, r)
	}
	e.TrackPid(st.Pid)
	if st.Status != "running" {
		t.Errorf("after run -d: status %q", st.Status)
	}
	if pf, _ := os.ReadFile(pidFile); string(pf) != strconv.Itoa(st.Pid) {
		t.Errorf("pid file %q, state pid %d", pf, st.Pid)
	}
	waitFileLine(t, out.Name(), "ready", nil)
	if r := e.Run("kill", id, "USR1"); !r.OK() {
		t.Fatal(r)
	}
	waitFileLine(t, out.Name(), "signal 10", nil)
}
