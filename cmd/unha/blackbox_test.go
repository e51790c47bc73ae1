package main

// Black-box tests: build unha, run it as root against runc
// (UNHA_TEST_RUNTIME overrides), and check from outside that every run
// leaves nothing behind: bundles, runtime state, mounts, cgroups,
// processes. The harness is in harness_test.go.

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestBlackboxHostnameAndPID1(t *testing.T) {
	e := newEnv(t)
	r := e.mustRun("run", "--rm", "host", "sh", "-c", "hostname; echo $$; ps -o pid=,comm=")
	l := lines(r.stdout)
	id := e.lastID()
	if len(id) != 64 || len(l) < 3 || l[0] != id[:12] || l[1] != "1" {
		t.Fatalf("output %q for container %s", r.stdout, id)
	}
	// The host's ps reads the container's /proc: the shell is PID 1 and
	// nothing of the host shows.
	ps := strings.Fields(strings.Join(l[2:], " "))
	if len(ps) != 4 || ps[0] != "1" || ps[1] != "sh" || ps[3] != "ps" {
		t.Errorf("ps in the container: %q", l[2:])
	}
}

func TestBlackboxHostnameFlag(t *testing.T) {
	e := newEnv(t)
	r := e.mustRun("run", "--rm", "--hostname", "x", "host", "sh", "-c", "hostname; cat /etc/hostname; echo $HOSTNAME")
	if r.stdout != "x\nx\nx\n" {
		t.Errorf("output %q", r.stdout)
	}
}

func TestBlackboxEnv(t *testing.T) {
	e := newEnv(t)
	f := filepath.Join(e.dir, "env")
	if err := os.WriteFile(f, []byte("# comment\nD=from file\nA=overridden\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("UNHA_TEST_C", "from caller")
	r := e.mustRun("run", "--rm", "--env-file", f, "-e", "A=B", "-e", "UNHA_TEST_C", "-e", "UNHA_TEST_UNSET",
		"host", "sh", "-c", `echo "$A|$UNHA_TEST_C|$D|${UNHA_TEST_UNSET-unset}|$HOME|$PATH"`)
	want := "B|from caller|from file|unset|/root|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
	if r.stdout != want {
		t.Errorf("output %q, want %q", r.stdout, want)
	}
}

func TestBlackboxWorkdirAndUser(t *testing.T) {
	e := newEnv(t)
	if r := e.mustRun("run", "--rm", "-w", "/tmp", "host", "pwd"); r.stdout != "/tmp\n" {
		t.Errorf("-w /tmp: %q", r.stdout)
	}
	if r := e.mustRun("run", "--rm", "-u", "1000:1000", "host", "id"); r.stdout != "uid=1000 gid=1000 groups=1000\n" {
		t.Errorf("-u 1000:1000: %q", r.stdout)
	}
	if r := e.mustRun("run", "--rm", "-u", "nobody", "host", "id", "-u"); r.stdout != "65534\n" {
		t.Errorf("-u nobody: %q", r.stdout)
	}
	// A non-root user holds no capabilities (Docker 20.10+).
	r := e.mustRun("run", "--rm", "-u", "1000", "host", "sh", "-c", "grep -E '^Cap(Eff|Prm)' /proc/self/status")
	if r.stdout != "CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n" {
		t.Errorf("caps of uid 1000: %q", r.stdout)
	}
}

func TestBlackboxReadOnly(t *testing.T) {
	e := newEnv(t)
	// Writable by default: the write lands in the bundle, gone with --rm.
	e.mustRun("run", "--rm", "host", "sh", "-c", "touch /x /etc/x /tmp/x")
	r := e.run("", "run", "--rm", "--read-only", "host", "sh", "-c", "touch /x")
	if r.code != 1 || !strings.Contains(r.stderr, "Read-only file system") {
		t.Errorf("write to / with --read-only: exit %d, stderr %q", r.code, r.stderr)
	}
	// /tmp stays a writable tmpfs; the host's /usr is never writable.
	e.mustRun("run", "--rm", "--read-only", "host", "touch", "/tmp/x")
	if r := e.run("", "run", "--rm", "host", "touch", "/usr/unha-test"); r.code == 0 {
		t.Error("the host's /usr is writable from a container")
		os.Remove("/usr/unha-test")
	}
}

func TestBlackboxExitCodes(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"run", "--rm", "host", "sh", "-c", "exit 3"}, 3, ""},
		{[]string{"run", "--rm", "host", "false"}, 1, ""},
		{[]string{"run", "--rm", "host", "nosuchcommand"}, 127, `unha: create container `},
		{[]string{"run", "--rm", "host", "/no/such/file"}, 127, "no such file or directory"},
		{[]string{"run", "--rm", "host", "/etc/passwd"}, 126, "permission denied"},
		{[]string{"run", "--rm", "--nope", "host", "true"}, 125, "unha: unknown flag: --nope\n"},
		{[]string{"run", "--rm", "alpine", "true"}, 125, `unha: unable to find image "alpine"`},
		{[]string{"run", "--rm", "--network", "bridge", "host", "true"}, 125, "not supported"},
	} {
		r := e.run("", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
			t.Errorf("%q: exit %d, stderr %q; want %d, %q", tt.args, r.code, r.stderr, tt.code, tt.stderr)
		}
	}
	// The runtime's own copy of the message is not printed twice.
	r := e.run("", "run", "--rm", "host", "nosuchcommand")
	if n := strings.Count(r.stderr, "executable file not found"); n != 1 {
		t.Errorf("message printed %d times: %q", n, r.stderr)
	}
}

// A container's init killed by a signal reports 128+N. (`sh -c 'kill -9
// $$'` cannot show it: the kernel drops signals a PID namespace's init
// sends itself, so that sh exits 0, in Docker as well.)
func TestBlackboxKilled(t *testing.T) {
	e := newEnv(t)
	cmd, _, cancel := e.background("run", "--rm", "host", "sh", "-c", "echo ready; exec sleep 100")
	defer cancel()
	out, err := exec.Command(e.runtime, "--root", filepath.Join(e.dir, "rt"), "kill", e.lastID(), "KILL").CombinedOutput()
	if err != nil {
		t.Fatalf("runtime kill: %v %s", err, out)
	}
	if code := exitOf(t, cmd); code != 137 {
		t.Errorf("exit %d, want 137", code)
	}
}

// SIGTERM to unha reaches the container's init.
func TestBlackboxSignalRelay(t *testing.T) {
	e := newEnv(t)
	cmd, errb, cancel := e.background("run", "--rm", "host", "sh", "-c", `trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done`)
	defer cancel()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitOf(t, cmd); code != 42 {
		t.Errorf("exit %d, want 42; stderr %q", code, errb.String())
	}
}

func TestBlackboxStdin(t *testing.T) {
	e := newEnv(t)
	if r := e.run("hello\nworld\n", "run", "--rm", "-i", "host", "cat"); r.code != 0 || r.stdout != "hello\nworld\n" {
		t.Errorf("-i: %d %q %q", r.code, r.stdout, r.stderr)
	}
	// Without -i the container's stdin is empty, as in Docker.
	if r := e.run("hello\n", "run", "--rm", "host", "cat"); r.code != 0 || r.stdout != "" {
		t.Errorf("no -i: %d %q", r.code, r.stdout)
	}
	r := e.mustRun("run", "--rm", "host", "sh", "-c", "echo out; echo err >&2")
	if r.stdout != "out\n" || r.stderr != "err\n" {
		t.Errorf("stdout %q stderr %q", r.stdout, r.stderr)
	}
}

func TestBlackboxTTY(t *testing.T) {
	e := newEnv(t)
	master, slave := openPty(t)
	defer master.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := e.command(ctx, "run", "--rm", "-it", "host", "sh", "-c", `tty; stty size; echo "$TERM"; read x; echo "got $x"`)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&out, master); close(done) }()
	if _, err := master.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	code := exitOf(t, cmd)
	master.Close()
	<-done
	got := strings.ReplaceAll(out.String(), "\r\n", "\n")
	// The container has its own pty, our size, TERM=xterm, and our input.
	for _, want := range []string{"/dev/pts/0\n", "33 99\n", "xterm\n", "got hello\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output %q lacks %q", got, want)
		}
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	// -it with stdin not a terminal is refused, as by Docker.
	if r := e.run("", "run", "--rm", "-it", "host", "true"); r.code != 125 || !strings.Contains(r.stderr, "not a TTY") {
		t.Errorf("-it without a terminal: %d %q", r.code, r.stderr)
	}
}

func TestBlackboxNetwork(t *testing.T) {
	e := newEnv(t)
	if r := e.mustRun("run", "--rm", "host", "ls", "/sys/class/net"); r.stdout != "lo\n" {
		t.Errorf("default network: %q", r.stdout)
	}
	host, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range host {
		names = append(names, d.Name())
	}
	r := e.mustRun("run", "--rm", "--network", "host", "host", "sh", "-c", "ls /sys/class/net; hostname")
	want := strings.Join(names, "\n") + "\n"
	hn, _ := os.Hostname()
	if r.stdout != want+hn+"\n" {
		t.Errorf("host network: %q, want %q", r.stdout, want+hn+"\n")
	}
}

func TestBlackboxRootfs(t *testing.T) {
	e := newEnv(t)
	root := busyboxRootfs(t, e.dir)
	r := e.mustRun("run", "--rm", "--rootfs", root, "sh", "-c", "hostname; cat /etc/hostname; echo $$; id; echo $HOME")
	id := e.lastID()
	want := id[:12] + "\n" + id[:12] + "\n1\nuid=0(root) gid=0\n/root\n"
	if r.stdout != want {
		t.Errorf("output %q, want %q", r.stdout, want)
	}
	// Users come from the rootfs's own passwd.
	if r := e.mustRun("run", "--rm", "-u", "box", "--rootfs", root, "id"); r.stdout != "uid=7(box) gid=8\n" {
		t.Errorf("-u box: %q", r.stdout)
	}
	if r := e.run("", "run", "--rm", "--read-only", "--rootfs", root, "touch", "/x"); r.code == 0 {
		t.Error("--read-only rootfs is writable")
	}
	// The rootfs is the user's: --rm leaves it in place.
	if _, err := os.Stat(filepath.Join(root, "bin", "busybox")); err != nil {
		t.Errorf("rootfs damaged: %v", err)
	}
}

// Without --rm a container stays for `ps -a` and `rm`; its name is taken
// until then.
func TestBlackboxKeepPsRm(t *testing.T) {
	e := newEnv(t)
	name := "keep-" + strings.ToLower(regexp.MustCompile(`\W`).ReplaceAllString(t.Name(), ""))
	if r := e.run("", "run", "--name", name, "host", "sh", "-c", "exit 7"); r.code != 7 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	id := e.lastID()
	if _, err := os.Stat(filepath.Join(e.dir, "data", "containers", id, "config.json")); err != nil {
		t.Errorf("bundle gone without --rm: %v", err)
	}
	if r := e.mustRun("ps"); len(lines(r.stdout)) != 1 {
		t.Errorf("ps shows a stopped container: %q", r.stdout)
	}
	r := e.mustRun("ps", "-a")
	l := lines(r.stdout)
	if len(l) != 2 || !strings.HasPrefix(l[1], id[:12]) || !strings.Contains(l[1], "Exited (7)") || !strings.HasSuffix(l[1], name) {
		t.Errorf("ps -a: %q", r.stdout)
	}
	if r := e.run("", "run", "--rm", "--name", name, "host", "true"); r.code != 125 || !strings.Contains(r.stderr, "already in use") {
		t.Errorf("reused name: %d %q", r.code, r.stderr)
	}
	if r := e.mustRun("rm", name); r.stdout != name+"\n" {
		t.Errorf("rm: %q", r.stdout)
	}
	if r := e.run("", "rm", name); r.code != 125 || !strings.Contains(r.stderr, "no such container") {
		t.Errorf("rm again: %d %q", r.code, r.stderr)
	}
	// A failed create also stays, as Docker's "Created" container.
	if r := e.run("", "run", "host", "nosuchcommand"); r.code != 127 {
		t.Fatalf("exit %d", r.code)
	}
	id = e.lastID()
	if r := e.mustRun("ps", "-a"); !strings.Contains(r.stdout, "Created") {
		t.Errorf("ps -a after failed create: %q", r.stdout)
	}
	e.mustRun("rm", id[:8])
}

func TestBlackboxRmForce(t *testing.T) {
	e := newEnv(t)
	cmd, _, cancel := e.background("run", "--name", "victim", "host", "sh", "-c", "echo ready; exec sleep 100")
	defer cancel()
	if r := e.run("", "rm", "victim"); r.code != 125 || !strings.Contains(r.stderr, "container is running") {
		t.Errorf("rm of running container: %d %q", r.code, r.stderr)
	}
	if r := e.mustRun("ps"); !strings.Contains(r.stdout, "Up ") || !strings.Contains(r.stdout, "victim") {
		t.Errorf("ps: %q", r.stdout)
	}
	e.mustRun("rm", "-f", "victim")
	if code := exitOf(t, cmd); code != 137 {
		t.Errorf("killed container's unha exited %d", code)
	}
}

// With no --runtime, unha uses the unha-runtime next to its binary.
func TestBlackboxDefaultRuntime(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Join(e.dir, "bin")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(e.bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "unha"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(e.runtime, filepath.Join(dir, "unha-runtime")); err != nil {
		t.Fatal(err)
	}
	e.bin, e.runtime = filepath.Join(dir, "unha"), ""
	if r := e.mustRun("run", "--rm", "host", "echo", "ok"); r.stdout != "ok\n" {
		t.Errorf("output %q", r.stdout)
	}
	e.runtime = testRuntime()
}
