package rootfs

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	unhaspec "github.com/unha/unha/internal/spec"
)

// fullSpec is the default config plus one mount of every kind.
func (e *kernelEnv) fullSpec(userns bool) *specs.Spec {
	t := e.t
	hostDir := filepath.Join(e.dir, "hostdir")
	mustNoErr(t, os.MkdirAll(filepath.Join(hostDir, "sub"), 0o755))
	mustNoErr(t, os.WriteFile(filepath.Join(hostDir, "f"), []byte("x"), 0o644))
	hostFile := filepath.Join(e.dir, "hostfile")
	mustNoErr(t, os.WriteFile(hostFile, []byte("file"), 0o644))
	mounts := append(unhaspec.DefaultMounts(),
		specs.Mount{Destination: "/data", Type: "bind", Source: hostDir, Options: []string{"rbind", "ro"}},
		specs.Mount{Destination: "/rro", Type: "bind", Source: hostDir, Options: []string{"rbind", "rro"}},
		specs.Mount{Destination: "/etc/hostfile", Source: hostFile, Options: []string{"bind", "nosuid", "noexec"}},
		specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "size=1m"}},
		specs.Mount{Destination: "/copyup", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup"}},
		specs.Mount{Destination: "/rotmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"ro", "noatime"}},
		specs.Mount{Destination: "/rotmp/inner", Type: "tmpfs", Source: "tmpfs"},
	)
	s := &specs.Spec{
		Root:   &specs.Root{Path: e.rootfs, Readonly: true},
		Mounts: mounts,
		Linux: &specs.Linux{
			Namespaces:    []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.PIDNamespace}},
			MaskedPaths:   append(append([]string(nil), unhaspec.DefaultMaskedPaths...), "/proc/no-such-thing"),
			ReadonlyPaths: append([]string(nil), unhaspec.DefaultReadonlyPaths...),
		},
	}
	if userns {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace},
			specs.LinuxNamespace{Type: specs.NetworkNamespace}, specs.LinuxNamespace{Type: specs.IPCNamespace},
			specs.LinuxNamespace{Type: specs.CgroupNamespace})
	} else {
		s.Linux.Devices = []specs.LinuxDevice{
			{Path: "/dev/custom/zero2", Type: "c", Major: 1, Minor: 5, FileMode: ptr(os.FileMode(0o600)), UID: ptr(uint32(1000)), GID: ptr(uint32(1001))},
			{Path: "/dev/fifo", Type: "p"},
		}
	}
	return s
}

// preMounts puts a tmpfs on hostdir/sub in the child, so that "rbind"
// has a submount to carry.
func (e *kernelEnv) preMounts() []string { return []string{filepath.Join(e.dir, "hostdir", "sub")} }

var fullStats = []string{
	"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
	"/dev/ptmx", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/core",
	"/dev/console", "/dev/custom/zero2", "/dev/fifo", "/proc/keys", "/sys/firmware",
	"/copyup/hello", "/copyup/link", "/copyup/sub", "/tmp", "/etc/hostfile", "/proc/self",
	"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd",
}

var fullWrites = []string{
	"/newfile", "/proc/sys/kernel/hostname", "/data/x", "/data/sub/x", "/rro/sub/x",
	"/tmp/x", "/rotmp/x", "/rotmp/inner/x", "/sys/kernel/x", "/sys/fs/cgroup/x", "/dev/shm/x", "/dev/x",
}

func checkFull(t *testing.T, res childResult, userns bool) {
	t.Helper()
	if res.Err != "" {
		t.Fatalf("%s: %s", res.Stage, res.Err)
	}
	if res.Cwd != "/" {
		t.Errorf("cwd after Enter = %q, want /", res.Cwd)
	}
	if res.ConsoleErr != "" {
		t.Errorf("console: %s", res.ConsoleErr)
	}
	mountOpts := map[string][]string{
		"/":                     {"ro"},
		"/proc/sys":             {"ro"},
		"/sys":                  {"ro", "nosuid", "nodev", "noexec"},
		"/dev":                  {"rw", "nosuid"},
		"/dev/pts":              {"nosuid", "noexec"},
		"/dev/shm":              {"nosuid", "nodev", "noexec"},
		"/dev/mqueue":           {"nosuid", "nodev", "noexec"},
		"/data":                 {"ro"},
		"/rro":                  {"ro"},
		"/rro/sub":              {"ro"},
		"/etc/hostfile":         {"rw", "nosuid", "noexec"},
		"/tmp":                  {"rw", "nosuid", "nodev"},
		"/rotmp":                {"ro", "noatime"},
		"/rotmp/inner":          {"rw"},
		"/sys/fs/cgroup":        {"ro", "nosuid", "nodev", "noexec"},
		"/sys/fs/cgroup/memory": {"ro", "nosuid", "nodev", "noexec"},
		"/dev/console":          {},
		"/proc/keys":            {},
		"/sys/firmware":         {"ro"},
	}
	for mp, want := range mountOpts {
		m, ok := findMount(res.Mounts, mp)
		if !ok {
			t.Errorf("no mount on %s", mp)
			continue
		}
		for _, o := range want {
			if !hasOpt(m.Options, o) {
				t.Errorf("mount %s has options %s, want %s", mp, m.Options, o)
			}
		}
	}
	for mp, fstype := range map[string]string{"/proc": "proc", "/sys": "sysfs", "/dev": "tmpfs",
		"/dev/pts": "devpts", "/dev/mqueue": "mqueue", "/sys/fs/cgroup": "tmpfs", "/sys/firmware": "tmpfs"} {
		if m, _ := findMount(res.Mounts, mp); m.FSType != fstype {
			t.Errorf("%s is %q, want %s", mp, m.FSType, fstype)
		}
	}
	if m, _ := findMount(res.Mounts, "/sys/fs/cgroup/memory"); userns && m.FSType != "cgroup" || !userns && m.Root != ownCgroup(t, "memory") {
		t.Errorf("/sys/fs/cgroup/memory: %+v (want the container's own cgroup %s)", m, ownCgroup(t, "memory"))
	}
	if userns {
		if m, ok := findMount(res.Mounts, "/dev/null"); !ok || m.FSType != "devtmpfs" {
			t.Errorf("in a user namespace /dev/null should be bound from the host: %+v", m)
		}
	}
	st := res.Stat
	for _, d := range []struct {
		p            string
		major, minor uint32
	}{{"/dev/null", 1, 3}, {"/dev/zero", 1, 5}, {"/dev/full", 1, 7}, {"/dev/random", 1, 8},
		{"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}, {"/proc/keys", 1, 3}} {
		if r := st[d.p]; r.Type != "char" || r.Major != d.major || r.Minor != d.minor || (!userns && d.p != "/proc/keys" && r.Mode != 0o666) {
			t.Errorf("%s = %+v, want char %d:%d mode 0666", d.p, r, d.major, d.minor)
		}
	}
	links := map[string]string{"/dev/ptmx": "pts/ptmx", "/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0",
		"/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2", "/copyup/link": "hello"}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		links["/dev/core"] = "/proc/kcore"
	}
	for p, want := range links {
		if r := st[p]; r.Type != "link" || r.Link != want {
			t.Errorf("%s = %+v, want a symlink to %s", p, r, want)
		}
	}
	if r := st["/dev/console"]; r.Type != "char" || r.Major < 136 || r.Major > 143 {
		t.Errorf("/dev/console = %+v, want a pty slave", r)
	}
	if !userns {
		if r := st["/dev/custom/zero2"]; r.Type != "char" || r.Major != 1 || r.Minor != 5 || r.Mode != 0o600 || r.UID != 1000 || r.GID != 1001 {
			t.Errorf("/dev/custom/zero2 = %+v", r)
		}
		if r := st["/dev/fifo"]; r.Type != "fifo" || r.Mode != 0o666 {
			t.Errorf("/dev/fifo = %+v", r)
		}
	}
	if r := st["/sys/firmware"]; r.Type != "dir" || r.FSType != unix.TMPFS_MAGIC {
		t.Errorf("/sys/firmware = %+v, want a tmpfs", r)
	}
	if r := st["/copyup/hello"]; r.Type != "file" || r.Mode != 0o640 {
		t.Errorf("/copyup/hello = %+v", r)
	}
	if r := st["/copyup/sub"]; r.Type != "dir" || r.FSType != unix.TMPFS_MAGIC {
		t.Errorf("/copyup/sub = %+v", r)
	}
	if r := st["/tmp"]; r.Mode != 0o1777 {
		t.Errorf("/tmp has mode %o, want the image's 1777 kept", r.Mode)
	}
	if r := st["/proc/self"]; r.Link != "1" {
		t.Errorf("/proc/self -> %q, want 1: /proc is not the container's", r.Link)
	}
	for _, p := range []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd"} {
		if r := st[p]; r.Type != "dir" || r.FSType != unix.CGROUP_SUPER_MAGIC {
			t.Errorf("%s = %+v, want a cgroup hierarchy", p, r)
		}
	}
	wantWrite := map[string]string{
		"/newfile": "EROFS", "/proc/sys/kernel/hostname": "EROFS",
		"/data/x": "EROFS", "/data/sub/x": "", "/rro/sub/x": "EROFS", "/tmp/x": "", "/rotmp/x": "EROFS",
		"/rotmp/inner/x": "", "/sys/kernel/x": "EROFS", "/sys/fs/cgroup/x": "EROFS", "/dev/shm/x": "", "/dev/x": "",
	}
	for p, want := range wantWrite {
		if got := res.Write[p]; got != want {
			t.Errorf("open %s for writing: %q, want %q", p, got, want)
		}
	}
	if !strings.Contains(res.Exec, "hello from busybox") || res.ExecErr != "" {
		t.Errorf("busybox in the container: %q %s", res.Exec, res.ExecErr)
	}
}

// ownCgroup is the test process's cgroup in a v1 hierarchy.
func ownCgroup(t *testing.T, controller string) string {
	b, err := os.ReadFile("/proc/self/cgroup")
	mustNoErr(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) == 3 && parts[1] == controller {
			return parts[2]
		}
	}
	return ""
}

func TestKernelFull(t *testing.T) {
	e := newKernelEnv(t)
	cfg := childConfig{
		Spec: e.fullSpec(false), Console: true, PreMounts: e.preMounts(), Stat: fullStats, Write: fullWrites,
		Exec: []string{"/bin/sh", "-c", "echo hello from busybox"},
	}
	checkFull(t, e.run(cfg, 0, false), false)
}

func TestKernelUserNS(t *testing.T) {
	e := newKernelEnv(t)
	cfg := childConfig{
		Spec: e.fullSpec(true), Opts: Options{InUserNS: true}, Console: true, PreMounts: e.preMounts(), Stat: fullStats, Write: fullWrites,
		Exec: []string{"/bin/sh", "-c", "echo hello from busybox"},
	}
	res := e.run(cfg, syscall.CLONE_NEWNET|syscall.CLONE_NEWIPC|syscall.CLONE_NEWCGROUP, true)
	checkFull(t, res, true)
}

func TestKernelNoPivot(t *testing.T) {
	e := newKernelEnv(t)
	cfg := childConfig{
		Spec: e.fullSpec(false), Opts: Options{NoPivot: true}, Console: true, PreMounts: e.preMounts(), Stat: fullStats, Write: fullWrites,
		Exec: []string{"/bin/sh", "-c", "echo hello from busybox"},
	}
	checkFull(t, e.run(cfg, 0, false), false)
}

func TestKernelNoMountNS(t *testing.T) {
	e := newKernelEnv(t)
	s := &specs.Spec{
		Root: &specs.Root{Path: e.rootfs},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}},
		},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}}},
	}
	// The child has a mount namespace of its own (the test's safety net);
	// the spec does not, so Prepare treats the child's as the caller's.
	res := e.run(childConfig{Spec: s, Opts: Options{NoMountNS: true}, Stat: []string{"/dev/null", "/bin/busybox"},
		Exec: []string{"/bin/sh", "-c", "echo hello"}}, 0, false)
	if res.Err != "" {
		t.Fatalf("%s: %s", res.Stage, res.Err)
	}
	if r := res.Stat["/dev/null"]; r.Type != "char" {
		t.Errorf("/dev/null = %+v", r)
	}
	if r := res.Stat["/bin/busybox"]; r.Type != "file" {
		t.Errorf("not chrooted into the rootfs: /bin/busybox = %+v", r)
	}
	if m, ok := findMount(res.Host, e.rootfs); !ok || m.shared() {
		t.Errorf("rootfs bind in the caller's namespace should be private: %+v", m)
	}
	s.Linux.MaskedPaths = []string{"/proc/kcore"}
	if _, err := Plan(s, Options{NoMountNS: true}); err == nil || !strings.Contains(err.Error(), "without a private MNT namespace") {
		t.Errorf("masked paths without a mount namespace: %v", err)
	}
}

// TestKernelSymlinkEscape plants symlinks that point out of the rootfs at
// /dev, at mount destinations and at device nodes: nothing may land
// outside.
func TestKernelSymlinkEscape(t *testing.T) {
	e := newKernelEnv(t)
	out1 := filepath.Join(e.dir, "outside-dev")
	out2 := filepath.Join(e.dir, "outside-mnt")
	for _, d := range []string{out1, out2} {
		mustNoErr(t, os.MkdirAll(d, 0o755))
	}
	mustNoErr(t, os.Symlink(out1, filepath.Join(e.rootfs, "dev")))
	rel, err := filepath.Rel(filepath.Join(e.rootfs), out2)
	mustNoErr(t, err)
	mustNoErr(t, os.Symlink("../../../../../../../../"+rel, filepath.Join(e.rootfs, "mnt")))
	mustNoErr(t, os.Symlink(out2, filepath.Join(e.rootfs, "etc/resolv.conf")))
	hostFile := filepath.Join(e.dir, "hostfile")
	mustNoErr(t, os.WriteFile(hostFile, []byte("x"), 0o644))
	s := &specs.Spec{
		Root: &specs.Root{Path: e.rootfs},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"newinstance", "ptmxmode=0666"}},
			{Destination: "/mnt/sub", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "/mnt/file", Source: hostFile, Options: []string{"bind"}},
			{Destination: "/etc/resolv.conf", Source: hostFile, Options: []string{"bind"}},
		},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.PIDNamespace}}},
	}
	res := e.run(childConfig{Spec: s, Console: true, Stat: []string{"/dev", "/dev/null", "/mnt", "/dev/console"}}, 0, false)
	if res.Err != "" {
		t.Fatalf("%s: %s", res.Stage, res.Err)
	}
	if res.ConsoleErr != "" {
		t.Errorf("console: %s", res.ConsoleErr)
	}
	for _, m := range res.Host {
		if within(m.Mountpoint, out1) || within(m.Mountpoint, out2) {
			t.Errorf("mounted outside the rootfs: %s on %s", m.FSType, m.Mountpoint)
		}
	}
	for _, d := range []string{out1, out2} {
		if ents, err := os.ReadDir(d); err != nil || len(ents) != 0 {
			t.Errorf("%s was written to: %v %v", d, ents, err)
		}
	}
	if r := res.Stat["/dev/null"]; r.Type != "char" {
		t.Errorf("/dev/null inside = %+v", r)
	}
	// The symlinks stay; what they point to was created inside the rootfs.
	if r := res.Stat["/dev"]; r.Type != "link" {
		t.Errorf("/dev = %+v", r)
	}
	if fi, err := os.Stat(filepath.Join(e.rootfs, out1)); err != nil || !fi.IsDir() {
		t.Errorf("the /dev symlink's target was not created inside the rootfs: %v", err)
	}
}

// TestKernelProcOnSymlink: procfs is never mounted through a symlink, even
// one that stays inside the rootfs.
func TestKernelProcOnSymlink(t *testing.T) {
	e := newKernelEnv(t)
	out := filepath.Join(e.dir, "outside-proc")
	mustNoErr(t, os.MkdirAll(out, 0o755))
	mustNoErr(t, os.Remove(filepath.Join(e.rootfs, "proc")))
	mustNoErr(t, os.Symlink(out, filepath.Join(e.rootfs, "proc")))
	s := &specs.Spec{
		Root:   &specs.Root{Path: e.rootfs},
		Mounts: []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}},
		Linux:  &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.PIDNamespace}}},
	}
	res := e.run(childConfig{Spec: s}, 0, false)
	if res.Stage != "prepare" || !strings.Contains(res.Err, "ordinary directory") {
		t.Errorf("proc on a symlink: stage %q err %q, want a prepare error", res.Stage, res.Err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("%s was written to", out)
	}
}

// TestKernelDevNodeTraps: without a /dev mount the image's /dev is used;
// symlinks planted at device paths and /dev/console are replaced, and the
// files they pointed at are left alone.
func TestKernelDevNodeTraps(t *testing.T) {
	e := newKernelEnv(t)
	victim := filepath.Join(e.dir, "victim")
	mustNoErr(t, os.WriteFile(victim, []byte("precious"), 0o644))
	dev := filepath.Join(e.rootfs, "dev")
	mustNoErr(t, os.MkdirAll(filepath.Join(dev, "pts"), 0o755))
	for _, n := range []string{"null", "zero", "console", "ptmx"} {
		mustNoErr(t, os.Symlink(victim, filepath.Join(dev, n)))
	}
	mustNoErr(t, os.WriteFile(filepath.Join(dev, "full"), []byte("not a device"), 0o644))
	s := &specs.Spec{
		Root: &specs.Root{Path: e.rootfs},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"newinstance", "ptmxmode=0666"}},
		},
		Linux: &specs.Linux{
			Namespaces:  []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.PIDNamespace}},
			MaskedPaths: []string{"/proc/keys"},
		},
	}
	res := e.run(childConfig{Spec: s, Console: true, Stat: []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/console", "/dev/ptmx", "/proc/keys"}}, 0, false)
	if res.Err != "" {
		t.Fatalf("%s: %s", res.Stage, res.Err)
	}
	if res.ConsoleErr != "" {
		t.Errorf("console: %s", res.ConsoleErr)
	}
	for _, p := range []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/console", "/proc/keys"} {
		if r := res.Stat[p]; r.Type != "char" {
			t.Errorf("%s = %+v, want a device", p, r)
		}
	}
	if r := res.Stat["/dev/ptmx"]; r.Link != "pts/ptmx" {
		t.Errorf("/dev/ptmx = %+v", r)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "precious" {
		t.Errorf("victim file changed: %q %v", b, err)
	}
	var st unix.Stat_t
	if err := unix.Stat(victim, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("victim is no longer a regular file: %v", err)
	}
}

// TestKernelRemount: "remount" changes what is already mounted — the
// superblock through fspick for a filesystem, only the mount flags for a
// bind.
func TestKernelRemount(t *testing.T) {
	e := newKernelEnv(t)
	hostDir := filepath.Join(e.dir, "hostdir")
	mustNoErr(t, os.MkdirAll(hostDir, 0o755))
	s := &specs.Spec{
		Root: &specs.Root{Path: e.rootfs},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
			{Destination: "/t", Type: "tmpfs", Options: []string{"remount", "ro", "size=2m"}},
			{Destination: "/b", Source: hostDir, Options: []string{"rbind", "nodev"}},
			{Destination: "/b", Options: []string{"remount", "bind", "ro", "noexec"}},
		},
		Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.PIDNamespace}}},
	}
	res := e.run(childConfig{Spec: s, Write: []string{"/t/x", "/b/x"}}, 0, false)
	if res.Err != "" {
		t.Fatalf("%s: %s", res.Stage, res.Err)
	}
	if m, _ := findMount(res.Mounts, "/t"); !hasOpt(m.Options, "ro") || !hasOpt(m.SuperOpts, "ro") || !hasOpt(m.SuperOpts, "size=2048k") {
		t.Errorf("/t after remount: %+v", m)
	}
	// The bind keeps nodev from the first mount and gains ro and noexec.
	if m, _ := findMount(res.Mounts, "/b"); !hasOpt(m.Options, "ro") || !hasOpt(m.Options, "noexec") || !hasOpt(m.Options, "nodev") {
		t.Errorf("/b after remount: %+v", m)
	}
	for _, p := range []string{"/t/x", "/b/x"} {
		if res.Write[p] != "EROFS" {
			t.Errorf("%s writable after remount ro: %q", p, res.Write[p])
		}
	}
}

// TestKernelMountErrors: the kernel's reason reaches the caller, and a
// failing mount stops Prepare.
func TestKernelMountErrors(t *testing.T) {
	e := newKernelEnv(t)
	for _, tc := range []struct {
		m    specs.Mount
		want string
	}{
		{specs.Mount{Destination: "/t", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=lots"}}, "size"},
		{specs.Mount{Destination: "/t", Type: "nosuchfs", Source: "x"}, `unknown filesystem type "nosuchfs"`},
		{specs.Mount{Destination: "/t", Source: filepath.Join(e.dir, "missing"), Options: []string{"bind"}}, "no such file"},
	} {
		s := &specs.Spec{
			Root:   &specs.Root{Path: e.rootfs},
			Mounts: []specs.Mount{tc.m},
			Linux:  &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.PIDNamespace}}},
		}
		res := e.run(childConfig{Spec: s}, 0, false)
		if res.Stage != "prepare" || !strings.Contains(res.Err, tc.want) || !strings.Contains(res.Err, "on /t") {
			t.Errorf("%+v: stage %q error %q, want %q", tc.m, res.Stage, res.Err, tc.want)
		}
	}
}
