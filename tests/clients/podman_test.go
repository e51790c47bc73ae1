//go:build linux

package clients

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// podman is one test's private podman: its own storage, state, configuration and image.
type podman struct {
	*testEnv
	bin    string
	global []string
	env    []string
	image  string
}

// newPodman sets up a private podman and imports the busybox rootfs tarball into it.
func newPodman(t *testing.T) *podman {
	e := newEnv(t, "podman")
	p := &podman{testEnv: e, bin: e.lookTool("podman"), image: busyboxRef}
	conmon := e.lookTool("conmon")
	// The runroot must be at most 50 bytes long (conmon's attach socket lives below it).
	root, runroot, tmp := e.path("root"), filepath.Join(e.runDir, "runroot"), e.path("libpod-tmp")
	// runtime_supports_json replaces podman's list: keep runc's and crun's entries and add the
	// runtime's own name, so podman asks every one of them for JSON errors (CONTRACT.md).
	conf := e.writeFile("containers.conf", fmt.Sprintf(`[containers]
netns = "none"

[network]
network_backend = "netavark"
network_config_dir = %q

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %q
tmp_dir = %q
image_copy_tmp_dir = %q
conmon_path = [%q]
runtime_supports_json = ["crun", "runc", %q]
`, e.path("networks"), e.path("events.log"), tmp, e.tmp, conmon, filepath.Base(suite.Runtime)))
	storage := e.writeFile("storage.conf", fmt.Sprintf(`[storage]
driver = "vfs"
graphroot = %q
runroot = %q
`, root, runroot))
	p.env = e.clientEnv("CONTAINERS_CONF="+conf, "CONTAINERS_STORAGE_CONF="+storage)
	p.global = []string{"--runtime", suite.Runtime, "--root", root, "--runroot", runroot,
		"--cgroup-manager", "cgroupfs", "--events-backend", "file", "--tmpdir", tmp}
	// podman's parent cgroup (beneath the suite's), and conmon's own cgroup inside it.
	e.keep["libpod_parent"], e.keep["conmon"] = true, true
	t.Cleanup(p.cleanup)

	rootfsTar, _, _ := testImages(t)
	r := p.must(p.podman("import", rootfsTar, p.image))
	if id := strings.TrimSpace(r.stdout); !strings.HasPrefix(id, "sha256:") {
		t.Fatalf("podman import printed %q, want the image id", id)
	}
	return p
}

func (p *podman) podman(args ...string) result {
	p.t.Helper()
	return p.run(0, p.env, p.bin, append(append([]string{}, p.global...), args...)...)
}

// runArgs are the options of every container: no network, the rlimits this machine allows
// (CAP_SYS_RESOURCE is missing, podman's default nofile would be above the hard limit), and a
// cidfile to learn the id of a --rm container for the leftover checks.
func (p *podman) runArgs(cidfile string) []string {
	return []string{"--network", "none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
		"--cidfile", cidfile}
}

// cid reads a cidfile written by podman run.
func (p *podman) cid(cidfile string) string {
	p.t.Helper()
	b, err := os.ReadFile(cidfile)
	if err != nil {
		p.t.Fatalf("podman did not write the container id: %v", err)
	}
	id := strings.TrimSpace(string(b))
	p.track(id)
	return id
}

// cleanup fails the test for containers podman still lists, and removes them.
func (p *podman) cleanup() {
	r := p.podman("ps", "-a", "-q", "--no-trunc")
	if r.code != 0 {
		p.t.Errorf("podman ps: %s", r)
		return
	}
	if ids := strings.Fields(r.stdout); len(ids) > 0 {
		p.t.Errorf("leftover: podman containers %v", ids)
		p.podman("rm", "-f", "-t", "0", "-a")
	}
}

// TestPodmanImportRun: an image imported from a rootfs tarball runs with `run --rm`; what ran
// is that image, in the cgroup podman asked for (an absolute path under libpod_parent) and with
// the hostname it was given; the container is gone afterwards.
func TestPodmanImportRun(t *testing.T) {
	p := newPodman(t)
	imgs := p.must(p.podman("images", "--format", "{{.Repository}}:{{.Tag}}"))
	p.wantLines(imgs, p.image)

	cidfile := p.path("run.cid")
	args := append([]string{"run", "--rm", "--hostname", "unha-podman", "--cgroupns", "host"}, p.runArgs(cidfile)...)
	r := p.must(p.podman(append(args, p.image, "sh", "-c",
		"cat /etc/unha-image; hostname; id -u; echo to-stderr >&2; grep -E ':(pids|memory):' /proc/self/cgroup")...))
	id := p.cid(cidfile)
	p.wantLines(r, imageMarker, "unha-podman", "0")
	if !strings.Contains(r.stderr, "to-stderr") {
		t.Errorf("stderr lacks to-stderr: %s", r)
	}
	for _, c := range []string{"pids", "memory"} {
		want := fmt.Sprintf(":%s:/libpod_parent/libpod-%s", c, id)
		if !strings.Contains(r.stdout, want) {
			t.Errorf("/proc/self/cgroup lacks %q: %s", want, r)
		}
	}
	if left := strings.TrimSpace(p.must(p.podman("ps", "-a", "-q")).stdout); left != "" {
		t.Errorf("run --rm left %q", left)
	}
}

// TestPodmanExitStatus: the container's exit status is podman's, and a missing command is 127
// (podman reads that from the runtime's error message).
func TestPodmanExitStatus(t *testing.T) {
	p := newPodman(t)
	for _, c := range []struct {
		cmd  []string
		code int
	}{
		{[]string{"sh", "-c", "exit 42"}, 42},
		{[]string{"false"}, 1},
		{[]string{"/no/such/command"}, 127},
	} {
		cidfile := p.path(fmt.Sprintf("exit-%d.cid", c.code))
		args := append(append([]string{"run", "--rm"}, p.runArgs(cidfile)...), p.image)
		p.wantCode(p.podman(append(args, c.cmd...)...), c.code)
		if _, err := os.Stat(cidfile); err == nil {
			p.cid(cidfile)
		}
	}
}

// TestPodmanDetached: run -d, then ps, exec (output and exit status), logs, stop (SIGTERM
// reaches the container's trap, so it exits 0 before the timeout) and rm.
func TestPodmanDetached(t *testing.T) {
	p := newPodman(t)
	name := "unha-detached"
	cidfile := p.path("detached.cid")
	args := append([]string{"run", "-d", "--name", name}, p.runArgs(cidfile)...)
	r := p.must(p.podman(append(args, p.image, "sh", "-c",
		"trap 'echo got TERM; exit 0' TERM; echo started; sleep 600 & wait")...))
	id := p.cid(cidfile)
	if strings.TrimSpace(r.stdout) != id {
		t.Errorf("run -d printed %q, want the id %s", r.stdout, id)
	}
	// The trap is set once "started" is logged: only then is stopping meaningful.
	p.eventually(20*time.Second, "the container logs started", func() string {
		r := p.podman("logs", name)
		if !strings.Contains(r.stdout, "started") {
			return r.String()
		}
		return ""
	})

	ps := p.must(p.podman("ps", "--format", "{{.ID}} {{.Names}} {{.Status}}"))
	if !strings.Contains(ps.stdout, id[:12]+" "+name+" Up") {
		t.Errorf("ps does not show %s running: %s", name, ps)
	}
	// podman passes no --root: the container is in the runtime's default state directory.
	pid := strings.TrimSpace(p.must(p.podman("inspect", "--format", "{{.State.Pid}}", name)).stdout)
	if status, rpid := p.runtimeState("", id); status != "running" || fmt.Sprint(rpid) != pid {
		t.Errorf("runtime state: %s pid %d, want running pid %s", status, rpid, pid)
	}

	ex := p.wantCode(p.podman("exec", name, "sh", "-c", "echo in-exec; cat /etc/unha-image; exit 3"), 3)
	p.wantLines(ex, "in-exec", imageMarker)
	ex = p.must(p.podman("exec", "-e", "UNHA_X=from-exec", "--workdir", "/etc", name, "sh", "-c", "echo $UNHA_X; pwd"))
	p.wantLines(ex, "from-exec", "/etc")

	p.must(p.podman("stop", "-t", "30", name))
	code := p.must(p.podman("inspect", "--format", "{{.State.ExitCode}} {{.State.Status}}", name))
	if got := strings.TrimSpace(code.stdout); got != "0 exited" {
		t.Errorf("after stop: %q, want \"0 exited\" (the TERM trap ran)", got)
	}
	logs := p.must(p.podman("logs", name))
	p.wantLines(logs, "started", "got TERM")

	p.must(p.podman("rm", name))
	if left := strings.TrimSpace(p.must(p.podman("ps", "-a", "-q")).stdout); left != "" {
		t.Errorf("rm left %q", left)
	}
}

// TestPodmanLogsPs: a foreground container's stdout and stderr are in `logs` afterwards, and
// `ps -a` shows it exited with its status until `rm`.
func TestPodmanLogsPs(t *testing.T) {
	p := newPodman(t)
	name := "unha-logs"
	cidfile := p.path("logs.cid")
	args := append([]string{"run", "--name", name}, p.runArgs(cidfile)...)
	r := p.wantCode(p.podman(append(args, p.image, "sh", "-c", "echo one; echo two >&2; exit 3")...), 3)
	id := p.cid(cidfile)
	p.wantLines(r, "one")

	ps := p.must(p.podman("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Status}}"))
	if !strings.Contains(ps.stdout, id+" Exited (3)") {
		t.Errorf("ps -a does not show %s exited with 3: %s", id, ps)
	}
	logs := p.must(p.podman("logs", name))
	if !strings.Contains(logs.stdout+logs.stderr, "one") || !strings.Contains(logs.stdout+logs.stderr, "two") {
		t.Errorf("logs lack the container's output: %s", logs)
	}
	p.must(p.podman("rm", name))
	if left := strings.TrimSpace(p.must(p.podman("ps", "-a", "-q")).stdout); left != "" {
		t.Errorf("rm left %q", left)
	}
}

// TestPodmanInteractive: `run -it` under a pty gives the shell a terminal of the caller's size,
// passes typed input through, and returns the shell's exit status.
func TestPodmanInteractive(t *testing.T) {
	p := newPodman(t)
	cidfile := p.path("it.cid")
	args := append(append([]string{}, p.global...), append(append([]string{"run", "-it", "--rm"}, p.runArgs(cidfile)...), p.image, "sh")...)
	s := p.startPty(60*time.Second, p.env, p.bin, args...)
	t.Cleanup(s.closeOnFailure)
	s.expect("# ", 30*time.Second)
	s.send("echo $((6*7)); tty; stty size; exit 5\n")
	code, out := s.wait()
	if _, err := os.Stat(cidfile); err == nil {
		p.cid(cidfile)
	}
	if code != 5 {
		t.Errorf("exit %d, want 5; output %q", code, out)
	}
	for _, want := range []string{"\r\n42\r\n", "/dev/pts/0", "24 80"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q: %q", want, out)
		}
	}
}
