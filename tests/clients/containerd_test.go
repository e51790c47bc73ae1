//go:build linux

package clients

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ctrNamespace is the containerd namespace of the ctr tests; containerd puts each container's
// cgroup at /<namespace>/<id>.
const ctrNamespace = "unha"

// containerd is one test's private containerd daemon.
type containerd struct {
	*testEnv
	sock string
	ctr  string
	cmd  *exec.Cmd
	done chan struct{}
	log  string
	env  []string
}

// criConfig is the CRI plugin's part of config.toml. The default runtime's binary does not
// exist, so a pod that did not go through the "unha" handler fails. restrict_oom_score_adj:
// CRI gives the sandbox oom_score_adj -998, and lowering it needs CAP_SYS_RESOURCE, which this
// machine does not grant.
const criConfig = `
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  restrict_oom_score_adj = true
  disable_tcp_service = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "not-under-test"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.not-under-test]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.not-under-test.options]
        BinaryName = "/nonexistent/runtime-not-under-test"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.unha]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.unha.options]
        BinaryName = %q
`

// newContainerd starts a containerd with its own config, root, state and socket under the test's
// directory (the CRI plugin only when cri is set), and stops it when the test ends.
func newContainerd(t *testing.T, cri bool) *containerd {
	e := newEnv(t, "ctrd")
	c := &containerd{testEnv: e, ctr: e.lookTool("ctr"), sock: e.path("c.sock"), log: e.path("containerd.log"),
		done: make(chan struct{})}
	bin := e.lookTool("containerd")
	e.lookTool("containerd-shim-runc-v2")
	disabled := `"io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"`
	extra := ""
	if cri {
		extra = fmt.Sprintf(criConfig, pauseRef, e.path("cni"), suite.Runtime)
	} else {
		disabled += `, "io.containerd.grpc.v1.cri"`
	}
	// The v2 shims' sockets go to /run/containerd/s whatever the config says; /run is the
	// suite's own tmpfs.
	conf := e.writeFile("config.toml", fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = [%s]

[grpc]
  address = %q

[ttrpc]
  address = %q

[debug]
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = %q
%s`, e.path("root"), e.path("state"), disabled, c.sock, c.sock+".ttrpc", e.path("opt"), extra))
	c.env = e.clientEnv()
	logf, err := os.OpenFile(c.log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command(bin, "--config", conf)
	c.cmd.Env, c.cmd.Dir = c.env, e.dir
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	err = c.cmd.Start()
	logf.Close()
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(c.stop)
	e.keep[ctrNamespace] = true

	deadline := time.Now().Add(30 * time.Second)
	for {
		r := c.run(10*time.Second, c.env, c.ctr, "--address", c.sock, "version")
		if r.code == 0 && strings.Contains(r.stdout, "Server:") {
			break
		}
		select {
		case <-c.done:
			t.Fatalf("containerd exited: %v\n%s", c.cmd.ProcessState, c.logTail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd did not answer within 30s:\n%s", c.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return c
}

// ctrIn runs ctr against this daemon in a namespace.
func (c *containerd) ctrIn(ns string, args ...string) result {
	c.t.Helper()
	return c.run(0, c.env, c.ctr, append([]string{"--address", c.sock, "--namespace", ns}, args...)...)
}

// ctrc runs ctr in the tests' namespace.
func (c *containerd) ctrc(args ...string) result {
	c.t.Helper()
	return c.ctrIn(ctrNamespace, args...)
}

// importImage imports an OCI archive into a namespace (unpacking it into the default
// snapshotter) and checks that the image is listed.
func (c *containerd) importImage(ns, archive, ref string) {
	c.t.Helper()
	c.must(c.ctrIn(ns, "images", "import", archive))
	c.wantLines(c.must(c.ctrIn(ns, "images", "ls", "-q")), ref)
}

// runArgs start every ctr container: the runtime under test through the runc v2 shim (ctr
// gives each container a new, empty network namespace unless told --net-host).
func (c *containerd) runArgs() []string {
	return []string{"--runc-binary", suite.Runtime}
}

// taskStatus is the STATUS column of `ctr task ls` for id, "" when it is not listed.
func (c *containerd) taskStatus(id string) string {
	c.t.Helper()
	r := c.must(c.ctrc("task", "ls"))
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == id {
			return f[2]
		}
	}
	return ""
}

// waitStatus waits, bounded, for a task to reach a status.
func (c *containerd) waitStatus(id, want string) {
	c.t.Helper()
	c.eventually(20*time.Second, id+" "+want, func() string {
		if got := c.taskStatus(id); got != want {
			return "status " + got
		}
		return ""
	})
}

// startSleeper runs a detached container whose init exits 0 on SIGTERM.
func (c *containerd) startSleeper(id string) {
	c.t.Helper()
	c.track(id)
	args := append(append([]string{"run", "-d"}, c.runArgs()...), busyboxRef, id,
		"sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait")
	c.must(c.ctrc(args...))
	c.waitStatus(id, "RUNNING")
}

// stop removes what the test left in containerd (failing the test for it), then stops the
// daemon: SIGTERM to the PID the test started, SIGKILL after 20s.
func (c *containerd) stop() {
	c.t.Helper()
	select {
	case <-c.done:
		c.t.Errorf("containerd died during the test: %v\n%s", c.cmd.ProcessState, c.logTail())
		return
	default:
	}
	c.clean(ctrNamespace)
	c.clean("k8s.io")
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		c.t.Errorf("containerd did not exit on SIGTERM within 20s")
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// clean fails the test for tasks and containers left in a namespace, and removes them.
func (c *containerd) clean(ns string) {
	c.t.Helper()
	if r := c.ctrIn(ns, "task", "ls", "-q"); r.code == 0 {
		for _, id := range strings.Fields(r.stdout) {
			c.t.Errorf("leftover: containerd task %s/%s", ns, id)
			c.ctrIn(ns, "task", "kill", "-a", "-s", "SIGKILL", id)
			c.ctrIn(ns, "task", "delete", "-f", id)
		}
	}
	if r := c.ctrIn(ns, "containers", "ls", "-q"); r.code == 0 {
		for _, id := range strings.Fields(r.stdout) {
			c.t.Errorf("leftover: containerd container %s/%s", ns, id)
			c.ctrIn(ns, "containers", "delete", id)
		}
	}
}

func (c *containerd) logTail() string {
	b, _ := os.ReadFile(c.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// uniqueID names a container after the test, unique across runs of the suite.
func uniqueID(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), time.Now().UnixNano()%1e6)
}

func newCtr(t *testing.T) *containerd {
	c := newContainerd(t, false)
	_, busyboxOCI, _ := testImages(t)
	c.importImage(ctrNamespace, busyboxOCI, busyboxRef)
	return c
}

// TestCtrRunRm: `ctr run --rm` prints the container's output, places it in the cgroup
// containerd asked for (/<namespace>/<id>), returns its exit status, and leaves nothing.
func TestCtrRunRm(t *testing.T) {
	c := newCtr(t)
	id := uniqueID("unha-run")
	c.track(id)
	args := append(append([]string{"run", "--rm"}, c.runArgs()...), busyboxRef, id,
		"sh", "-c", "echo hello; cat /etc/unha-image; grep -E ':(pids|memory):' /proc/self/cgroup")
	r := c.must(c.ctrc(args...))
	c.wantLines(r, "hello", imageMarker)
	for _, ctl := range []string{"pids", "memory"} {
		want := fmt.Sprintf(":%s:/%s/%s", ctl, ctrNamespace, id)
		if !strings.Contains(r.stdout, want) {
			t.Errorf("/proc/self/cgroup lacks %q: %s", want, r)
		}
	}

	id2 := uniqueID("unha-exit")
	c.track(id2)
	args = append(append([]string{"run", "--rm"}, c.runArgs()...), busyboxRef, id2, "sh", "-c", "exit 7")
	c.wantCode(c.ctrc(args...), 7)
	if left := strings.TrimSpace(c.must(c.ctrc("containers", "ls", "-q")).stdout); left != "" {
		t.Errorf("run --rm left containers %q", left)
	}
}

// TestCtrDetached: run -d, task exec (output and exit status), task kill (SIGTERM reaches the
// init's trap, so the exit status is 0), task delete and containers delete.
func TestCtrDetached(t *testing.T) {
	c := newCtr(t)
	id := uniqueID("unha-detached")
	c.startSleeper(id)
	// The shim gives the runtime --root /run/containerd/runc/<namespace>.
	var pid string
	for _, l := range strings.Split(c.must(c.ctrc("task", "ls")).stdout, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == id {
			pid = f[1]
		}
	}
	if status, rpid := c.runtimeState("/run/containerd/runc/"+ctrNamespace, id); status != "running" || fmt.Sprint(rpid) != pid {
		t.Errorf("runtime state: %s pid %d, want running pid %s", status, rpid, pid)
	}

	ex := c.wantCode(c.ctrc("task", "exec", "--exec-id", "e1", id, "sh", "-c", "echo in-exec; cat /etc/unha-image; exit 4"), 4)
	c.wantLines(ex, "in-exec", imageMarker)
	ex = c.must(c.ctrc("task", "exec", "--exec-id", "e2", "--cwd", "/etc", id, "sh", "-c", "pwd; echo $$"))
	c.wantLines(ex, "/etc")
	ps := c.must(c.ctrc("task", "ps", id))
	if n := len(strings.Fields(strings.TrimSpace(ps.stdout))); n < 4 { // header + init and its sleep
		t.Errorf("task ps lists too few processes: %s", ps)
	}

	c.must(c.ctrc("task", "kill", id))
	c.waitStatus(id, "STOPPED")
	if del := c.must(c.ctrc("task", "delete", id)); strings.Contains(del.stderr, "exit code") {
		t.Errorf("task delete reports a non-zero exit status, want 0 (the TERM trap): %s", del)
	}
	c.must(c.ctrc("containers", "delete", id))
	if left := strings.TrimSpace(c.must(c.ctrc("containers", "ls", "-q")).stdout); left != "" {
		t.Errorf("containers left: %q", left)
	}
}

// TestCtrPauseResume: task pause freezes the container's cgroup and task resume thaws it; the
// container still runs commands afterwards; SIGKILL shows as exit status 137 on delete.
func TestCtrPauseResume(t *testing.T) {
	c := newCtr(t)
	id := uniqueID("unha-pause")
	c.startSleeper(id)
	freezer := filepath.Join(cgroupRoot, "freezer", ctrNamespace, id, "freezer.state")
	state := func() string {
		b, err := os.ReadFile(freezer)
		if err != nil {
			return err.Error()
		}
		return strings.TrimSpace(string(b))
	}

	// With a v1 freezer hierarchy the container's own freezer cgroup must say so too.
	v1 := false
	for _, h := range suite.Hierarchies {
		v1 = v1 || h.Name == "freezer"
	}
	c.must(c.ctrc("task", "pause", id))
	c.waitStatus(id, "PAUSED")
	if got := state(); v1 && got != "FROZEN" {
		t.Errorf("%s: %s, want FROZEN", freezer, got)
	}
	c.must(c.ctrc("task", "resume", id))
	c.waitStatus(id, "RUNNING")
	if got := state(); v1 && got != "THAWED" {
		t.Errorf("%s: %s, want THAWED", freezer, got)
	}
	c.wantLines(c.must(c.ctrc("task", "exec", "--exec-id", "after", id, "echo", "alive")), "alive")

	c.must(c.ctrc("task", "kill", "-s", "SIGKILL", id))
	c.waitStatus(id, "STOPPED")
	// ctr task delete exits 0 and reports the status as a warning.
	if del := c.must(c.ctrc("task", "delete", id)); !strings.Contains(del.stderr, "exit code 137") {
		t.Errorf("task delete does not report exit code 137: %s", del)
	}
	c.must(c.ctrc("containers", "delete", id))
}

// TestCtrMetrics: task metrics reads the running container's cgroup statistics (through the
// shim, which finds the cgroup from the init's pid): its processes and its memory.
func TestCtrMetrics(t *testing.T) {
	c := newCtr(t)
	id := uniqueID("unha-metrics")
	c.startSleeper(id)
	r := c.must(c.ctrc("task", "metrics", id))
	values := map[string]string{}
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			values[f[0]] = f[1]
		}
	}
	if !strings.Contains(r.stdout, id) {
		t.Errorf("metrics do not name %s: %s", id, r)
	}
	// init and its sleep
	if n, err := strconv.Atoi(values["pids.current"]); err != nil || n < 2 {
		t.Errorf("pids.current %q, want at least 2: %s", values["pids.current"], r)
	}
	if n, err := strconv.ParseInt(values["memory.usage_in_bytes"], 10, 64); err != nil || n <= 0 {
		t.Errorf("memory.usage_in_bytes %q, want > 0: %s", values["memory.usage_in_bytes"], r)
	}
	c.must(c.ctrc("task", "kill", id))
	c.waitStatus(id, "STOPPED")
	c.must(c.ctrc("task", "delete", id))
	c.must(c.ctrc("containers", "delete", id))
}

// TestCtrTTY: `ctr run -t` under a pty gives the container a terminal of the caller's size,
// passes input through and returns the shell's exit status.
func TestCtrTTY(t *testing.T) {
	c := newCtr(t)
	id := uniqueID("unha-tty")
	c.track(id)
	args := append([]string{"--address", c.sock, "--namespace", ctrNamespace, "run", "-t", "--rm"},
		append(c.runArgs(), busyboxRef, id, "sh")...)
	s := c.startPty(60*time.Second, c.env, c.ctr, args...)
	t.Cleanup(s.closeOnFailure)
	s.expect("# ", 30*time.Second)
	s.send("echo $((6*7)); tty; stty size; exit 5\n")
	code, out := s.wait()
	if code != 5 {
		t.Errorf("exit %d, want 5; output %q", code, out)
	}
	for _, want := range []*regexp.Regexp{regexp.MustCompile(`\r*\n42\r*\n`), regexp.MustCompile(`/dev/pts/\d+`), regexp.MustCompile(`24 80`)} {
		if !want.MatchString(out) {
			t.Errorf("output lacks %s: %q", want, out)
		}
	}
}
