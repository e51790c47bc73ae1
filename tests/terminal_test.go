package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/tests/cmd/probe/report"
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
	checkConsoleIsPty(t, rep)
	c.Delete(false)
}

// checkConsoleIsPty: in a terminal:true container /dev/console is the container's pty slave
// (bind-mounted over it), the very device that is the process's fd 0.
func checkConsoleIsPty(t *testing.T, rep *report.Report) {
	t.Helper()
	d, ok := harness.Dev(rep, "/dev/console")
	if !ok || d.Type != "c" || d.Major != 136 {
		t.Errorf("/dev/console is %+v, want the pty slave (char 136:N)", d)
		return
	}
	stdin, ok := harness.Dev(rep, rep.Fds[0])
	if !ok || stdin.Type != "c" {
		t.Errorf("fd 0 is %q, not a device below /dev (%+v)", rep.Fds[0], stdin)
		return
	}
	if d.Major != stdin.Major || d.Minor != stdin.Minor {
		t.Errorf("/dev/console is %d:%d, fd 0 (%s) is %d:%d", d.Major, d.Minor, rep.Fds[0], stdin.Major, stdin.Minor)
	}
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

// ttyScript prints the probe's report, the terminal size it started with and READY, then answers every line typed with the line
// and the terminal's size, until "quit" (exit 3).
const ttyScript = `/probe json
echo "start size:$(stty size)"
echo READY
while read l; do
	[ "$l" = quit ] && exit 3
	echo "got:$l size:$(stty size)"
done
exit 4`

// withStty links busybox's stty into the rootfs (the harness rootfs has no stty applet).
func withStty(t *testing.T, b *harness.Bundle) {
	t.Helper()
	if err := os.Symlink("busybox", filepath.Join(b.Rootfs, "bin", "stty")); err != nil {
		t.Fatal(err)
	}
}

var sizeRE = regexp.MustCompile(`got:(ping\d+) size:(\d+ \d+)\r?\n`)

// waitSize types lines until the process inside reports the terminal size want ("rows cols").
// The runtime relays a size change asynchronously, so a few answers may still show the old
// size; every round waits for the answer before typing again.
func waitSize(t *testing.T, s *harness.TermSession, want string, round *int) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(harness.DefaultTimeout); time.Now().Before(deadline); {
		*round++
		ping := fmt.Sprintf("ping%d", *round)
		s.Type(ping + "\n")
		if err := s.Out.WaitFor("got:" + ping + " size:"); err != nil {
			t.Fatal(err)
		}
		// Wait for the end of the answer's line too.
		for _, m := range sizeRE.FindAllStringSubmatch(s.Out.String(), -1) {
			if m[1] == ping {
				last = m[2]
			}
		}
		if last == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("terminal size inside stayed %q, want %q; output %q", last, want, s.Out.String())
}

// checkTerminalSession drives a session running ttyScript: the process sees a tty on 0-2,
// its output arrives, typed input reaches it, it follows the outer terminal's size (initial
// and changed), and the runtime exits with the process's status.
func checkTerminalSession(t *testing.T, s *harness.TermSession, startSize func(t *testing.T, got string)) *report.Report {
	t.Helper()
	if err := s.Out.WaitFor("READY"); err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`start size:([0-9 ]*)\r?\n`).FindStringSubmatch(s.Out.String()); m == nil {
		t.Errorf("no start size in %q", s.Out.String())
	} else if startSize != nil {
		t.Run("start-size", func(t *testing.T) { startSize(t, m[1]) })
	}
	rep, err := harness.ParseReport(s.Out.String())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tty != [3]bool{true, true, true} {
		t.Errorf("isatty(0,1,2) = %v on a terminal", rep.Tty)
	}
	for fd := 0; fd < 3; fd++ {
		if !strings.HasPrefix(rep.Fds[fd], "/dev/pts/") {
			t.Errorf("fd %d is %q, want the container's pty slave", fd, rep.Fds[fd])
		}
	}
	round := 0
	waitSize(t, s, "30 100", &round)
	s.Type("hello world\n")
	if err := s.Out.WaitFor("got:hello world size:"); err != nil {
		t.Fatal(err)
	}
	s.Resize(40, 120)
	waitSize(t, s, "40 120", &round)
	s.Type("quit\n")
	if code, out := s.Wait(); code != 3 {
		t.Errorf("runtime exited %d, want the process's 3; terminal showed %q", code, out)
	}
	return rep
}

// TestExecTtyConsoleSocket: `exec -t --console-socket` sends the new pty's master; the process
// has the slave as its stdio, output arrives through it and input typed into it is read. Both
// the inline form and podman's `--process F --tty`.
func TestExecTtyConsoleSocket(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	withStty(t, b)
	c, initPid := runningContainer(t, e, b)
	script := `/probe json; echo "size:$(stty size)"; echo READY; read x; echo "got:$x"`
	pf := filepath.Join(e.Dir, "process.json")
	p := *c.Bundle.Spec.Process
	p.Args = []string{"/bin/sh", "-c", script}
	p.Terminal = true
	// With a console socket nobody resizes the pty but the client, so the process must find
	// the size the process asks for.
	p.ConsoleSize = &specs.Box{Height: 25, Width: 90}
	data, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pf, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, form := range []struct {
		name  string
		flags []string
		args  []string
		size  string
	}{
		{"inline", []string{"-t"}, []string{"/bin/sh", "-c", script}, ""},
		{"process-file", []string{"--process", pf, "--tty"}, nil, "25 90"},
	} {
		t.Run(form.name, func(t *testing.T) {
			cs := e.NewConsoleSocket()
			d := c.ExecDetached(append(form.flags, "--console-socket", cs.Path), form.args...)
			master, err := cs.Master()
			if err != nil {
				t.Fatal(err)
			}
			defer master.Close()
			out := harness.ReadPtyAsync(master)
			if err := out.WaitFor("READY"); err != nil {
				t.Fatal(err)
			}
			rep, err := harness.ParseReport(out.String())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Tty != [3]bool{true, true, true} {
				t.Errorf("isatty(0,1,2) = %v with exec -t", rep.Tty)
			}
			for fd := 0; fd < 3; fd++ {
				if !strings.HasPrefix(rep.Fds[fd], "/dev/pts/") {
					t.Errorf("fd %d is %q, want the pty slave", fd, rep.Fds[fd])
				}
			}
			if form.size != "" && !strings.Contains(out.String(), "size:"+form.size+"\r\n") {
				t.Errorf("consoleSize %s not applied: %q", form.size, out.String())
			}
			if _, err := master.Write([]byte("typed in\n")); err != nil {
				t.Fatal(err)
			}
			all, err := out.WaitHangup()
			if err != nil {
				t.Fatalf("reading the pty: %v (got %q)", err, all)
			}
			if !strings.Contains(all, "got:typed in\r\n") {
				t.Errorf("the process did not read what was typed: %q", all)
			}
			if d.Output() != "" {
				t.Errorf("the runtime's stdout/stderr got %q; everything belongs on the pty", d.Output())
			}
			d.WaitGone()
			onlyInit(t, initPid)
		})
	}
}

// TestExecTtyForeground: `exec -t` typed at a shell prompt. The runtime's stdio is a terminal
// (its controlling one); it proxies between that and the container's new pty.
func TestExecTtyForeground(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	withStty(t, b)
	c, initPid := runningContainer(t, e, b)
	s := e.StartOnTerminal(30, 100, "exec", "-t", c.ID, "/bin/sh", "-c", ttyScript)
	rep := checkTerminalSession(t, s, func(t *testing.T, got string) {
		// The pty is sized before the process starts, not by a resize racing with it.
		skipIfRunc(t, "runc 1.1 sizes an exec'd pty only after the process started")
		if got != "30 100" {
			t.Errorf("the process started on a %q terminal, want the caller's 30 100", got)
		}
	})
	if rep.Pid == 1 {
		t.Error("exec'd process is pid 1")
	}
	onlyInit(t, initPid)
	if st := c.State(); st.Status != "running" {
		t.Errorf("container %s after exec -t", st.Status)
	}
}

// TestExecTtyForegroundPipes: CRI-O's form, `exec` of a terminal:true process with no
// console socket and stdio that is not a terminal: the runtime still proxies the pty.
func TestExecTtyForegroundPipes(t *testing.T) {
	skipIfRunc(t, "runc 1.1 opens /dev/tty for a foreground terminal and fails without a controlling terminal")
	e := newEnv(t)
	c, initPid := runningContainer(t, e, e.NewBundle())
	in := filepath.Join(e.Dir, "stdin")
	if err := os.WriteFile(in, []byte("from stdin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := c.ExecWith(harness.RunOpts{Stdin: f}, []string{"-t"},
		"/bin/sh", "-c", `read x; echo "got:$x"; /probe json; exit 5`)
	if r.Code != 5 {
		t.Errorf("want exit 5: %s", r)
	}
	if !strings.Contains(r.Stdout, "got:from stdin\r\n") {
		t.Errorf("stdin did not reach the process through the pty: %s", r)
	}
	rep, err := harness.ParseReport(r.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tty != [3]bool{true, true, true} {
		t.Errorf("isatty(0,1,2) = %v with exec -t", rep.Tty)
	}
	onlyInit(t, initPid)
}

// TestRunTerminalForeground: `run` of a terminal:true container without a console socket,
// typed at a shell prompt: the runtime proxies the container's pty to its own terminal, and
// /dev/console is the container's pty.
func TestRunTerminalForeground(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/bin/sh", "-c", ttyScript)
	b.Spec.Process.Terminal = true
	withStty(t, b)
	b.Save()
	id := e.NewID()
	s := e.StartOnTerminal(30, 100, "run", "--bundle", b.Dir, id)
	// The spec has no consoleSize: the proxy sizes the pty once init runs, which may be after
	// the shell asked, so only later answers are checked.
	rep := checkTerminalSession(t, s, nil)
	if rep.Ppid != 1 {
		t.Errorf("the probe's parent is pid %d, want the container's shell, pid 1", rep.Ppid)
	}
	checkConsoleIsPty(t, rep)
	if r := e.Run("state", id); r.OK() {
		t.Errorf("run left the container behind: %s", r)
	}
	e.AssertClean()
}
