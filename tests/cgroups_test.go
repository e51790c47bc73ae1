package tests

// Black-box tests of linux.resources: each limit is checked from inside the container (what
// the process can do, what it reads in its own /sys/fs/cgroup) and from outside (the files of
// the host's cgroup hierarchies, found through /proc/PID/cgroup). The helpers shared by
// cgroups_*_test.go live here.

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/tests/harness"
)

// cgroupMounts maps each v1 controller or named hierarchy ("memory", "name=systemd") to its
// mount point, and "" to the cgroup2 mount.
func cgroupMounts(t *testing.T) map[string]string {
	t.Helper()
	mounts, err := harness.ReadMountinfo("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range mounts {
		if m.Root != "/" {
			continue
		}
		switch m.FSType {
		case "cgroup2":
			out[""] = m.Point
		case "cgroup":
			for _, o := range strings.Split(m.Super, ",") {
				if o != "rw" && o != "ro" {
					out[o] = m.Point
				}
			}
		}
	}
	return out
}

// procCgroups parses /proc/PID/cgroup ("self" for the caller) into hierarchy -> path, with
// each controller of a comounted hierarchy listed on its own and "" for cgroup2's 0:: line.
func procCgroups(t *testing.T, pid string) map[string]string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[1] == "" {
			out[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out
}

// cgDir is the host directory of pid's cgroup in the hierarchy of ctrl.
func cgDir(t *testing.T, pid int, ctrl string) string {
	t.Helper()
	mnt, ok := cgroupMounts(t)[ctrl]
	if !ok {
		t.Fatalf("no %q cgroup hierarchy mounted", ctrl)
	}
	p, ok := procCgroups(t, strconv.Itoa(pid))[ctrl]
	if !ok {
		t.Fatalf("process %d has no %q line in /proc/%d/cgroup", pid, ctrl, pid)
	}
	return filepath.Join(mnt, p)
}

// cgRead reads one file of pid's cgroup, trimmed.
func cgRead(t *testing.T, pid int, ctrl, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cgDir(t, pid, ctrl), file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// cgField returns the value of "key value" line key in a flat-keyed cgroup file.
func cgField(t *testing.T, content, key string) uint64 {
	t.Helper()
	for _, l := range strings.Split(content, "\n") {
		if v, ok := strings.CutPrefix(l, key+" "); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatalf("%s in %q: %v", key, content, err)
			}
			return n
		}
	}
	t.Fatalf("no %q in %q", key, content)
	return 0
}

func atou(t *testing.T, s string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// defaultCgroupDirs are the host directories a container id gets without a cgroupsPath: the
// id beneath the caller's own cgroup in every hierarchy.
func defaultCgroupDirs(t *testing.T, id string) []string {
	t.Helper()
	mounts := cgroupMounts(t)
	var out []string
	for ctrl, p := range procCgroups(t, "self") {
		if mnt, ok := mounts[ctrl]; ok {
			out = append(out, filepath.Join(mnt, p, id))
		}
	}
	return out
}

// wantGone fails for every path in dirs that still exists.
func wantGone(t *testing.T, what string, dirs []string) {
	t.Helper()
	for _, d := range dirs {
		if _, err := os.Lstat(d); err == nil {
			t.Errorf("%s: cgroup %s still exists", what, d)
		}
	}
}

// addApplets links more busybox applets into the bundle's rootfs.
func addApplets(t *testing.T, b *harness.Bundle, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.Symlink("busybox", filepath.Join(b.Rootfs, "bin", n)); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
}

func resources(b *harness.Bundle) *specs.LinuxResources {
	if b.Spec.Linux.Resources == nil {
		b.Spec.Linux.Resources = &specs.LinuxResources{}
	}
	return b.Spec.Linux.Resources
}

// pipeIn is a pipe whose read end becomes a container's stdin, so the test can tell the
// container's script when to go on (`read x`) instead of relying on sleeps.
type pipeIn struct {
	r, w *os.File
}

func newPipeIn(t *testing.T) *pipeIn {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeIn{r, w}
	t.Cleanup(func() { r.Close(); w.Close() })
	return p
}

func (p *pipeIn) send(t *testing.T, line string) {
	t.Helper()
	if _, err := p.w.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
}

// startedContainer creates and starts b with stdin from in (nil: /dev/null) and waits for
// the line "ready" on its stdout.
func startedContainer(t *testing.T, e *harness.Env, b *harness.Bundle, in *pipeIn) (*harness.Container, int) {
	t.Helper()
	var o harness.CreateOpts
	if in != nil {
		o.Run.Stdin = in.r
	}
	c, r := e.TryCreate(b, o)
	if !r.OK() {
		t.Fatalf("create: %s", r)
	}
	c.Start()
	c.WaitOutput("ready")
	return c, c.State().Pid
}

// waitFor polls cond; the deadline only guards against a hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(harness.DefaultTimeout); time.Now().Before(deadline); {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// events is a running `events` command whose stdout goes to a file.
type events struct {
	out  string
	cmd  *exec.Cmd
	done chan struct{}
}

// startEvents runs `events ARGS ID` in the background; the test's cleanup kills it by pid
// (runc's never ends on its own) before the harness looks for leftover processes.
func startEvents(t *testing.T, e *harness.Env, id string, args ...string) *events {
	t.Helper()
	ev := &events{out: filepath.Join(e.Dir, "events-"+id), done: make(chan struct{})}
	f, err := os.Create(ev.out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ev.cmd = exec.Command(e.S.Runtime, append(append([]string{"--root", e.Root, "events"}, args...), id)...)
	ev.cmd.Stdout, ev.cmd.Stderr = f, f
	if err := ev.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { ev.cmd.Wait(); close(ev.done) }()
	t.Cleanup(ev.stop)
	return ev
}

func (ev *events) stop() {
	select {
	case <-ev.done:
	default:
		ev.cmd.Process.Kill()
		<-ev.done
	}
}

// lines returns the decoded JSON lines printed so far.
func (ev *events) lines() []map[string]any {
	b, _ := os.ReadFile(ev.out)
	var out []map[string]any
	for _, l := range strings.Split(string(b), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func (ev *events) count(typ string) int {
	n := 0
	for _, l := range ev.lines() {
		if l["type"] == typ {
			n++
		}
	}
	return n
}

func (ev *events) raw() string {
	b, _ := os.ReadFile(ev.out)
	return string(b)
}

// TestCgroupMemoryOOM: a hog beyond memory.limit is OOM-killed. First a child of the shell
// (the shell sees 137), then init itself (run exits 137); events reports the kills and the
// host's memory.oom_control counts them.
func TestCgroupMemoryOOM(t *testing.T) {
	e := newEnv(t)
	const limit = 32 << 20
	hog := "dd if=/dev/zero of=/dev/null bs=64M count=1"
	b := e.NewBundle("/bin/sh", "-c", `echo "limit $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"; echo ready; read x; `+
		hog+` 2>/dev/null; echo "child $?"; read x; exec `+hog)
	addApplets(t, b, "dd")
	resources(b).Memory = &specs.LinuxMemory{Limit: ptr[int64](limit), Swap: ptr[int64](limit)}
	b.Save()
	in := newPipeIn(t)
	id := e.NewID()
	out := filepath.Join(e.Dir, "run.out")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	done := make(chan harness.Result, 1)
	go func() { done <- e.RunWith(harness.RunOpts{Stdin: in.r, Stdout: f}, "run", "--bundle", b.Dir, id) }()
	waitFileLine(t, out, "ready", done)
	if got := fmt.Sprintf("limit %d", limit); !strings.Contains(readString(out), got) {
		t.Errorf("inside: want %q, got %q", got, readString(out))
	}
	st, err := harness.ParseState([]byte(e.Run("state", id).Stdout))
	if err != nil {
		t.Fatal(err)
	}
	ev := startEvents(t, e, id, "--interval", "100ms")
	// The OOM watch is registered before the first stats line.
	waitFor(t, "a first stats event", func() bool { return ev.count("stats") > 0 })

	in.send(t, "go")
	waitFileLine(t, out, "child 137", done)
	oom := cgRead(t, st.Pid, "memory", "memory.oom_control")
	if n := cgField(t, oom, "oom_kill"); n != 1 {
		t.Errorf("memory.oom_control oom_kill %d after one kill: %q", n, oom)
	}
	if n := atou(t, cgRead(t, st.Pid, "memory", "memory.max_usage_in_bytes")); n > limit {
		t.Errorf("max usage %d above the limit %d", n, limit)
	}
	waitFor(t, `an {"type":"oom"} event; events printed `+ev.raw(), func() bool { return ev.count("oom") > 0 })

	in.send(t, "go")
	r := <-done
	if r.Code != 128+9 {
		t.Errorf("run of an OOM-killed init: want exit 137: %s", r)
	}
	ev.stop()
	e.AssertClean()
}

func readString(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// TestCgroupPidsLimit: a fork bomb stops at pids.limit while the host can still fork; the
// test then kills it.
func TestCgroupPidsLimit(t *testing.T) {
	e := newEnv(t)
	const limit = 12
	// The subshell forks until fork fails (EAGAIN), which ends it; its sleeps stay.
	b := e.NewBundle("/bin/sh", "-c", `echo "max $(cat /sys/fs/cgroup/pids/pids.max)"; echo ready; read x; `+
		`( while :; do sleep 1000 & done ) 2>&1; echo bombed; read x`)
	resources(b).Pids = &specs.LinuxPids{Limit: ptr[int64](limit)}
	in := newPipeIn(t)
	c, pid := startedContainer(t, e, b, in)
	if want := fmt.Sprintf("max %d", limit); !strings.Contains(c.Stdout(), want) {
		t.Errorf("inside: want %q, got %q", want, c.Stdout())
	}
	in.send(t, "go")
	c.WaitOutput("bombed")
	if !strings.Contains(c.Stdout(), "can't fork") {
		t.Errorf("the shell never saw fork fail: %q", c.Stdout())
	}
	// The subshell that hit the limit has exited since.
	if n := atou(t, cgRead(t, pid, "pids", "pids.current")); n > limit || n < limit-1 {
		t.Errorf("pids.current %d, want the limit %d (or one less)", n, limit)
	}
	if n := cgField(t, cgRead(t, pid, "pids", "pids.events"), "max"); n == 0 {
		t.Error("pids.events shows no refused fork")
	}
	procs := strings.Fields(cgRead(t, pid, "pids", "cgroup.procs"))
	if len(procs) > limit {
		t.Errorf("%d processes in the cgroup, limit %d", len(procs), limit)
	}
	// The host is not affected: the caller forks as usual.
	if err := exec.Command("/bin/true").Run(); err != nil {
		t.Errorf("host fork after the container's bomb: %v", err)
	}
	c.Kill("KILL")
	c.WaitStatus("stopped")
	for _, p := range procs {
		n, _ := strconv.Atoi(p)
		if harness.ProcessAlive(n) {
			t.Errorf("bomb process %d alive after its init was killed", n)
		}
	}
	c.Delete(false)
	e.AssertClean()
}

// TestCgroupCPUQuota: two busy loops under a quota of half a core use about half a core,
// measured with cpuacct.usage over a couple of seconds.
func TestCgroupCPUQuota(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/bin/sh", "-c", `cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us; `+
		`while :; do :; done & while :; do :; done & echo ready; wait`)
	resources(b).CPU = &specs.LinuxCPU{Quota: ptr[int64](50000), Period: ptr[uint64](100000)}
	c, pid := startedContainer(t, e, b, nil)
	if got := harness.Lines(c.Stdout()); len(got) < 2 || got[0] != "50000" || got[1] != "100000" {
		t.Errorf("inside: quota and period %q, want 50000 and 100000", got)
	}
	usage := func() uint64 { return atou(t, cgRead(t, pid, "cpuacct", "cpuacct.usage")) }
	u0, t0 := usage(), time.Now()
	time.Sleep(2 * time.Second)
	u1, t1 := usage(), time.Now()
	cores := float64(u1-u0) / float64(t1.Sub(t0).Nanoseconds())
	t.Logf("two busy loops under a 0.5 core quota used %.3f cores over %v", cores, t1.Sub(t0).Round(time.Millisecond))
	// The upper bound is the point: unlimited, the loops would take up to 2 cores. The
	// lower bound only shows they ran; a loaded machine may give them less than their quota.
	if cores > 0.6 || cores < 0.15 {
		t.Errorf("used %.3f cores, want about 0.5", cores)
	}
	if n := cgField(t, cgRead(t, pid, "cpu", "cpu.stat"), "nr_throttled"); n == 0 {
		t.Error("cpu.stat nr_throttled is 0: the quota never applied")
	}
	c.Delete(true)
	e.AssertClean()
}

// wholeDisk returns major:minor of the disk that holds the root file system (throttling
// needs a whole disk, not a partition), or skips.
func wholeDisk(t *testing.T) (int64, int64) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/", &st); err != nil {
		t.Fatal(err)
	}
	sys := fmt.Sprintf("/sys/dev/block/%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))
	if _, err := os.Stat(filepath.Join(sys, "partition")); err == nil {
		sys = filepath.Join(sys, "..")
	}
	b, err := os.ReadFile(filepath.Join(sys, "dev"))
	if err != nil {
		t.Skipf("the root file system is on no block device: %v", err)
	}
	var maj, min int64
	if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d:%d", &maj, &min); err != nil {
		t.Fatal(err)
	}
	return maj, min
}

// TestCgroupBlkioAndDeviceFiles: throttle rules and device rules land in the blkio and
// devices cgroup files.
func TestCgroupBlkioAndDeviceFiles(t *testing.T) {
	e := newEnv(t)
	maj, min := wholeDisk(t)
	b := e.NewBundle("/bin/sh", "-c", `cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device; echo ready; read x`)
	dev := func(rate uint64) []specs.LinuxThrottleDevice {
		d := specs.LinuxThrottleDevice{Rate: rate}
		d.Major, d.Minor = maj, min
		return []specs.LinuxThrottleDevice{d}
	}
	res := resources(b)
	res.BlockIO = &specs.LinuxBlockIO{
		ThrottleReadBpsDevice: dev(1 << 20), ThrottleWriteBpsDevice: dev(2 << 20),
		ThrottleReadIOPSDevice: dev(100), ThrottleWriteIOPSDevice: dev(200),
	}
	res.Devices = append(res.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr[int64](10), Minor: ptr[int64](237), Access: "r"})
	in := newPipeIn(t)
	c, pid := startedContainer(t, e, b, in)
	want := map[string]string{
		"blkio.throttle.read_bps_device": "1048576", "blkio.throttle.write_bps_device": "2097152",
		"blkio.throttle.read_iops_device": "100", "blkio.throttle.write_iops_device": "200",
	}
	for file, v := range want {
		if got, w := cgRead(t, pid, "blkio", file), fmt.Sprintf("%d:%d %s", maj, min, v); got != w {
			t.Errorf("%s is %q, want %q", file, got, w)
		}
	}
	if w := fmt.Sprintf("%d:%d 1048576", maj, min); !strings.Contains(c.Stdout(), w) {
		t.Errorf("inside: read_bps_device %q, want %q", c.Stdout(), w)
	}
	list := strings.Split(cgRead(t, pid, "devices", "devices.list"), "\n")
	for _, w := range []string{"c 10:237 r", "c 1:3 rwm", "c 1:5 rwm", "c 1:9 rwm", "c 136:* rwm", "c 5:2 rwm"} {
		if !contains(list, w) {
			t.Errorf("devices.list lacks %q: %q", w, list)
		}
	}
	if contains(list, "a *:* rwm") {
		t.Errorf("devices.list allows everything: %q", list)
	}
	in.send(t, "done")
	c.WaitStatus("stopped")
	c.Delete(false)
	e.AssertClean()
}

// TestCgroupDeviceAccess: the device cgroup decides what a container can open, by device
// number and access type, whatever the node's name: nodes made with mknod inside the
// container are refused unless a rule (or a default) allows them.
func TestCgroupDeviceAccess(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/bin/sh", "-c", `mknod /dev/xloop c 10 237 && mknod /dev/xmem c 1 1 && mknod /dev/xnull c 1 3 && `+
		`exec /probe read /dev/xmem read /dev/xnull read /dev/null read /dev/xloop write /dev/xloop write /dev/xnull`)
	addApplets(t, b, "mknod")
	caps := b.Spec.Process.Capabilities
	caps.Bounding = append(caps.Bounding, "CAP_MKNOD")
	caps.Effective = append(caps.Effective, "CAP_MKNOD")
	caps.Permitted = append(caps.Permitted, "CAP_MKNOD")
	res := resources(b)
	res.Devices = append(res.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr[int64](10), Minor: ptr[int64](237), Access: "r"})
	_, r := e.RunContainer(b)
	if !r.OK() {
		t.Fatalf("run: %s", r)
	}
	// /dev/mem is denied by the spec's deny-all; 1:3 is a default device under any name;
	// loop-control may be opened for reading by the rule (read(2) itself then fails: the
	// device only takes ioctls) but not for writing.
	wantLines(t, harness.Lines(r.Stdout), "EPERM", `ok ""`, `ok ""`, "EINVAL", "EPERM", "ok")
	e.AssertClean()
}
