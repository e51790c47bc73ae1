package main

// Black-box tests of the resource flags of `unha run`: the limits are read
// from the host's cgroup files while the container runs (the host image
// mounts no cgroup file system inside), the devices are used from inside.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// held is a running `unha run -i` whose command printed "ready" and waits
// for a line on stdin before it goes on.
type held struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *strings.Builder
	cancel context.CancelFunc
}

func (e *env) hold(args ...string) *held {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	h := &held{cmd: e.command(ctx, args...), stderr: &strings.Builder{}, cancel: cancel}
	h.cmd.Stderr = h.stderr
	var err error
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		e.t.Fatal(err)
	}
	out, err := h.cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { h.stdin.Close(); h.cmd.Wait(); cancel() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		h.cmd.Wait()
		e.t.Fatalf("container did not get ready: %q %v, stderr %q", line, err, h.stderr.String())
	}
	go io.Copy(io.Discard, out)
	return h
}

// finish lets the command end and returns unha's exit status.
func (h *held) finish(t *testing.T) int {
	t.Helper()
	if _, err := io.WriteString(h.stdin, "go\n"); err != nil {
		t.Error(err)
	}
	h.stdin.Close()
	return exitOf(t, h.cmd)
}

// initPid asks the runtime for the container's init.
func (e *env) initPid(id string) int {
	e.t.Helper()
	out, err := exec.Command(e.runtime, "--root", filepath.Join(e.dir, "rt"), "state", id).Output()
	if err != nil {
		e.t.Fatalf("state %s: %v", id, err)
	}
	var st struct{ Pid int }
	if err := json.Unmarshal(out, &st); err != nil || st.Pid <= 0 {
		e.t.Fatalf("state %s: %q %v", id, out, err)
	}
	return st.Pid
}

// cgPath is a file of pid's cgroup in the v1 hierarchy of ctrl, from
// /proc/PID/cgroup and the host's mounts.
func cgPath(t *testing.T, pid int, ctrl, file string) string {
	t.Helper()
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	mnt := ""
	for _, l := range strings.Split(string(mounts), "\n") {
		pre, post, ok := strings.Cut(l, " - ")
		a, b := strings.Fields(pre), strings.Fields(post)
		if ok && len(a) >= 5 && len(b) >= 3 && b[0] == "cgroup" && a[3] == "/" {
			for _, o := range strings.Split(b[2], ",") {
				if o == ctrl {
					mnt = a[4]
				}
			}
		}
	}
	if mnt == "" {
		t.Skipf("no cgroup v1 %s hierarchy: these tests read v1 files", ctrl)
	}
	cg, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(cg), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) == 3 && strings.Contains(","+parts[1]+",", ","+ctrl+",") {
			return filepath.Join(mnt, parts[2], file)
		}
	}
	t.Fatalf("process %d has no %s cgroup", pid, ctrl)
	return ""
}

// cgFile reads a file of pid's cgroup in the v1 hierarchy of ctrl.
func cgFile(t *testing.T, pid int, ctrl, file string) string {
	t.Helper()
	b, err := os.ReadFile(cgPath(t, pid, ctrl, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// rootDisk is the /dev path and major:minor of the whole disk under /.
func rootDisk(t *testing.T) (string, string) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	sys := fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	if _, err := os.Stat(filepath.Join(sys, "partition")); err == nil {
		sys = filepath.Join(sys, "..")
	}
	ue, err := os.ReadFile(filepath.Join(sys, "uevent"))
	if err != nil {
		t.Skipf("/ is on no block device: %v", err)
	}
	dev, _ := os.ReadFile(filepath.Join(sys, "dev"))
	for _, l := range strings.Split(string(ue), "\n") {
		if name, ok := strings.CutPrefix(l, "DEVNAME="); ok {
			return "/dev/" + name, strings.TrimSpace(string(dev))
		}
	}
	t.Skip("no DEVNAME for the root disk")
	return "", ""
}

func TestBlackboxResourceLimits(t *testing.T) {
	e := newEnv(t)
	disk, majmin := rootDisk(t)
	h := e.hold("run", "--rm", "-i", "--memory", "64m", "--memory-reservation", "32m", "--cpus", "1.5", "--cpu-shares", "512",
		"--cpuset-cpus", "0", "--pids-limit", "50", "--device-read-bps", disk+":1mb", "--device-write-bps", disk+":2m",
		"host", "sh", "-c", "echo ready; read x")
	pid := e.initPid(e.lastID())
	for _, c := range []struct{ ctrl, file, want string }{
		{"memory", "memory.limit_in_bytes", "67108864"},
		// Docker's default: as much swap as memory.
		{"memory", "memory.memsw.limit_in_bytes", "134217728"},
		{"memory", "memory.soft_limit_in_bytes", "33554432"},
		{"cpu", "cpu.cfs_quota_us", "150000"},
		{"cpu", "cpu.cfs_period_us", "100000"},
		{"cpu", "cpu.shares", "512"},
		{"cpuset", "cpuset.cpus", "0"},
		{"pids", "pids.max", "50"},
		{"blkio", "blkio.throttle.read_bps_device", majmin + " 1048576"},
		{"blkio", "blkio.throttle.write_bps_device", majmin + " 2097152"},
	} {
		if got := cgFile(t, pid, c.ctrl, c.file); got != c.want {
			t.Errorf("%s is %q, want %q", c.file, got, c.want)
		}
	}
	if code := h.finish(t); code != 0 {
		t.Errorf("exit %d, stderr %q", code, h.stderr)
	}
}

func TestBlackboxMemorySwapUnlimitedOOMKillDisable(t *testing.T) {
	e := newEnv(t)
	h := e.hold("run", "--rm", "-i", "-m", "64m", "--memory-swap", "-1", "--oom-kill-disable", "host", "sh", "-c", "echo ready; read x")
	pid := e.initPid(e.lastID())
	if got := cgFile(t, pid, "memory", "memory.memsw.limit_in_bytes"); got != "9223372036854771712" {
		t.Errorf("memsw limit %s, want unlimited", got)
	}
	if got := cgFile(t, pid, "memory", "memory.oom_control"); !strings.Contains(got, "oom_kill_disable 1") {
		t.Errorf("memory.oom_control %q", got)
	}
	if code := h.finish(t); code != 0 {
		t.Errorf("exit %d, stderr %q", code, h.stderr)
	}
}

// TestBlackboxDevice: --device creates the node and lets the container use
// it with the permissions given, as Docker's --device does.
func TestBlackboxDevice(t *testing.T) {
	e := newEnv(t)
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skip("no /dev/loop-control")
	}
	// loop-control only takes ioctls: opening it is the test; dd count=0
	// opens and reads nothing.
	script := `stat -c '%F %t:%T %a' /dev/lc; dd if=/dev/lc of=/dev/null count=0 2>/dev/null && echo read-ok; ` +
		`(: > /dev/lc) 2>/dev/null || echo write-refused`
	r := e.mustRun("run", "--rm", "--device", "/dev/loop-control:/dev/lc:r", "host", "sh", "-c", script)
	if r.stdout != "character special file a:ed 600\nread-ok\nwrite-refused\n" {
		t.Errorf(":r output %q", r.stdout)
	}
	r = e.mustRun("run", "--rm", "--device", "/dev/loop-control", "host", "sh", "-c",
		`dd if=/dev/loop-control of=/dev/null count=0 2>/dev/null && echo read-ok; (: > /dev/loop-control) && echo write-ok`)
	if r.stdout != "read-ok\nwrite-ok\n" {
		t.Errorf("default rwm output %q", r.stdout)
	}
	// Without --device the same node, made in the container, is refused.
	r = e.run("", "run", "--rm", "host", "sh", "-c", `mknod /dev/lc c 10 237 && dd if=/dev/lc of=/dev/null count=0`)
	if r.code == 0 || !strings.Contains(r.stderr, "Operation not permitted") {
		t.Errorf("a node not passed with --device: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestBlackboxOOMKilled: unha says plainly that the kernel killed the
// container for memory and exits 137; a killed child is reported too.
func TestBlackboxOOMKilled(t *testing.T) {
	e := newEnv(t)
	hog := "dd if=/dev/zero of=/dev/null bs=64M count=1"
	r := e.run("", "run", "--rm", "--memory", "32m", "--memory-swap", "32m", "host", "sh", "-c", "exec "+hog)
	if r.code != 137 || r.stderr != "unha: container was killed: out of memory (limit 32MiB)\n" {
		t.Errorf("init OOM-killed: exit %d, stderr %q", r.code, r.stderr)
	}
	r = e.run("", "run", "--rm", "--memory", "32m", "--memory-swap", "32m", "host", "sh", "-c", hog+" 2>/dev/null; echo $?")
	if r.code != 0 || r.stdout != "137\n" || r.stderr != "unha: 1 process(es) in the container were killed: out of memory (limit 32MiB)\n" {
		t.Errorf("child OOM-killed: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// Killed by anything else, nothing is said about memory.
	r = e.run("", "run", "--rm", "--memory", "32m", "host", "sh", "-c", `sh -c 'kill -9 $$'; echo $?`)
	if r.code != 0 || r.stdout != "137\n" || strings.Contains(r.stderr, "memory") {
		t.Errorf("SIGKILL without OOM: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestBlackboxResourceErrors(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--memory", "1m"}, "unha: --memory 1m: minimum memory limit allowed is 6MB\n"},
		{[]string{"--memory-swap", "1g"}, "you should always set the memory limit"},
		{[]string{"--cpus", "4096"}, "range of CPUs is from 0.01 to"},
		{[]string{"--cpuset-cpus", "4095"}, "requested CPUs are not available"},
		{[]string{"--device", "/dev/unha-no-such-device"}, "--device /dev/unha-no-such-device: stat /dev/unha-no-such-device: no such file or directory"},
		{[]string{"--device-read-bps", "/dev/null:1m"}, "/dev/null is not a block device"},
	} {
		args := append(append([]string{"run", "--rm"}, tt.args...), "host", "true")
		r := e.run("", args...)
		if r.code != 125 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 125 and %q", tt.args, r.code, r.stderr, tt.want)
		}
	}
}

// TestBlackboxBlkioWeight: the weight lands in the container's weight file
// (blkio.bfq.weight since CFQ went away; the file exists in every cgroup but
// the root).
func TestBlackboxBlkioWeight(t *testing.T) {
	e := newEnv(t)
	h := e.hold("run", "--rm", "-i", "--blkio-weight", "300", "host", "sh", "-c", "echo ready; read x")
	pid := e.initPid(e.lastID())
	dir := filepath.Dir(cgPath(t, pid, "blkio", "blkio.weight"))
	var got []string
	for _, f := range []string{"blkio.weight", "blkio.bfq.weight"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil {
			got = append(got, f+": "+strings.TrimSpace(string(b)))
		}
	}
	if len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), "300") {
		t.Errorf("weight files of %s: %q", dir, got)
	}
	if code := h.finish(t); code != 0 {
		t.Errorf("exit %d, stderr %q", code, h.stderr)
	}
}
