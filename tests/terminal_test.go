package tests

import (
	"strings"
	"testing"

	"github.com/unha/unha/tests/harness"
)

func TestNoTerminal(t *testing.T) {
	e := newEnv(t)
	rep := e.Probe(e.NewBundle())
	if rep.Tty != [3]bool{} {
		t.Errorf("isatty(0,1,2) = %v without a terminal", rep.Tty)
	}
}

func TestTerminal(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	b.Spec.Process.Terminal = true
	cs := e.NewConsoleSocket()
	c := e.Create(b, "--console-socket", cs.Path)
	master, err := cs.Master()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	c.Start()
	out, err := harness.ReadPty(master)
	if err != nil {
		t.Fatalf("reading the pty: %v (got %q)", err, out)
	}
	c.WaitStatus("stopped")
	rep, err := harness.ParseReport(out)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tty != [3]bool{true, true, true} {
		t.Errorf("isatty(0,1,2) = %v with a terminal", rep.Tty)
	}
	for fd := 0; fd < 3; fd++ {
		if !strings.HasPrefix(rep.Fds[fd], "/dev/pts/") {
			t.Errorf("fd %d is %q, want the pty slave", fd, rep.Fds[fd])
		}
	}
	if d, ok := harness.Dev(rep, "/dev/console"); !ok || d.Type != "c" || d.Major != 136 {
		t.Errorf("/dev/console is %+v, want the pty slave (char 136:N)", d)
	}
	c.Delete(false)
}

func TestTerminalWithoutSocket(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	b.Spec.Process.Terminal = true
	_, r := e.TryCreate(b, harness.CreateOpts{})
	if r.OK() {
		t.Errorf("create with terminal and no --console-socket succeeded: %s", r)
	}
	e.AssertClean()

	b2 := e.NewBundle()
	cs := e.NewConsoleSocket()
	if _, r := e.TryCreate(b2, harness.CreateOpts{Args: []string{"--console-socket", cs.Path}}); r.OK() {
		t.Errorf("create with --console-socket but no terminal succeeded: %s", r)
	}
	e.AssertClean()
}
