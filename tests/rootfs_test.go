package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/tests/harness"
)

// probeLines runs the bundle in the foreground and returns the probe's result lines and report.
func probeLines(t *testing.T, e *harness.Env, b *harness.Bundle) ([]string, *harness.Result) {
	t.Helper()
	_, r := e.RunContainer(b)
	if !r.OK() {
		t.Fatalf("run: %s", r)
	}
	return harness.Lines(r.Stdout), &r
}

func wantLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("probe results:\n got %q\nwant %q", got, want)
	}
}

func TestRootReadonly(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "write", "/x", "write", "/tmp/x", "write", "/dev/shm/x", "json")
	b.Spec.Root.Readonly = true
	lines, r := probeLines(t, e, b)
	wantLines(t, lines, "EROFS", "EROFS", "ok")
	rep, err := harness.ParseReport(r.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := harness.Mount(rep, "/"); !harness.HasOption(m.Options, "ro") {
		t.Errorf("root mount %+v is not ro", m)
	}
	if _, err := os.Stat(filepath.Join(b.Rootfs, "x")); err == nil {
		t.Error("/x appeared in the host rootfs")
	}
}

func TestRootWritable(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "write", "/x")
	lines, _ := probeLines(t, e, b)
	wantLines(t, lines, "ok")
	if data, err := os.ReadFile(filepath.Join(b.Rootfs, "x")); err != nil || string(data) != "probe\n" {
		t.Errorf("host rootfs/x: %q %v", data, err)
	}
}

func TestBindMounts(t *testing.T) {
	e := newEnv(t)
	rw, ro := filepath.Join(e.Dir, "host-rw"), filepath.Join(e.Dir, "host-ro")
	for _, d := range []string{rw, ro} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "hello"), []byte("hello"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := e.NewBundle("/probe", "read", "/mnt/ro/hello", "write", "/mnt/ro/new",
		"read", "/mnt/rw/hello", "write", "/mnt/rw/new", "json")
	b.AddMount(specs.Mount{Destination: "/mnt/rw", Type: "bind", Source: rw, Options: []string{"rbind", "rw"}})
	b.AddMount(specs.Mount{Destination: "/mnt/ro", Type: "bind", Source: ro, Options: []string{"bind", "ro"}})
	lines, r := probeLines(t, e, b)
	wantLines(t, lines, `ok "hello"`, "EROFS", `ok "hello"`, "ok")
	if data, err := os.ReadFile(filepath.Join(rw, "new")); err != nil || string(data) != "probe\n" {
		t.Errorf("write through the rw bind did not reach the host: %q %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(ro, "new")); err == nil {
		t.Error("write through the ro bind reached the host")
	}
	rep, err := harness.ParseReport(r.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := harness.Mount(rep, "/mnt/ro"); !ok || !harness.HasOption(m.Options, "ro") {
		t.Errorf("/mnt/ro mount %+v, want ro", m)
	}
	if m, ok := harness.Mount(rep, "/mnt/rw"); !ok || !harness.HasOption(m.Options, "rw") {
		t.Errorf("/mnt/rw mount %+v, want rw", m)
	}
}

func TestTmpfsOptions(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "write", "/scratch/f", "json")
	b.AddMount(specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs",
		Options: []string{"nosuid", "nodev", "noexec", "size=1m", "mode=1770"}})
	lines, r := probeLines(t, e, b)
	wantLines(t, lines, "ok")
	rep, err := harness.ParseReport(r.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := harness.Mount(rep, "/scratch")
	if !ok || m.FSType != "tmpfs" {
		t.Fatalf("/scratch mount %+v, want tmpfs", m)
	}
	for _, o := range []string{"nosuid", "nodev", "noexec"} {
		if !harness.HasOption(m.Options, o) {
			t.Errorf("/scratch options %q lack %s", m.Options, o)
		}
	}
	for _, o := range []string{"size=1024k", "mode=1770"} {
		if !harness.HasOption(m.Super, o) {
			t.Errorf("/scratch super options %q lack %s", m.Super, o)
		}
	}
	if _, err := os.Stat(filepath.Join(b.Rootfs, "scratch", "f")); err == nil {
		t.Error("the tmpfs write landed in the host rootfs")
	}
}

func TestMaskedPaths(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	if err := os.WriteFile(filepath.Join(b.Rootfs, "home/user/secret"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Rootfs, "etc/secret"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	masked := append(append([]string{}, b.Spec.Linux.MaskedPaths...), "/home/user", "/etc/secret", "/no/such/path")
	b.Spec.Linux.MaskedPaths = masked
	args := []string{"/probe"}
	for _, p := range masked {
		args = append(args, "read", p, "ls", p)
	}
	b.Spec.Process.Args = args
	lines, _ := probeLines(t, e, b)
	if len(lines) != 2*len(masked) {
		t.Fatalf("probe results %q", lines)
	}
	for i, p := range masked {
		read, ls := lines[2*i], lines[2*i+1]
		// A masked file reads empty (/dev/null over it), a masked directory lists empty (an
		// empty read-only tmpfs over it), and a path that does not exist stays missing.
		if read != `ok ""` && read != "EISDIR" && read != "ENOENT" {
			t.Errorf("masked %s: read gave %s", p, read)
		}
		if ls != "ok []" && ls != "ENOTDIR" && ls != "ENOENT" {
			t.Errorf("masked %s: ls gave %s", p, ls)
		}
		exists := p == "/home/user" || p == "/etc/secret"
		if strings.HasPrefix(p, "/proc/") || strings.HasPrefix(p, "/sys/") {
			_, err := os.Stat(p) // same kernel, so the same entries exist
			exists = err == nil
		}
		if exists && read == "ENOENT" && ls == "ENOENT" {
			t.Errorf("masked %s exists but is gone inside", p)
		}
	}
}

func TestReadonlyPaths(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "write", "/proc/sys/kernel/hostname", "write", "/home/user/x",
		"write", "/tmp/x", "read", "/proc/sys/kernel/ostype")
	b.Spec.Linux.ReadonlyPaths = append(b.Spec.Linux.ReadonlyPaths, "/home/user")
	lines, _ := probeLines(t, e, b)
	wantLines(t, lines, "EROFS", "EROFS", "ok", `ok "Linux\n"`)
}

func TestDevContents(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "json", "write", "/dev/null", "write", "/dev/full")
	_, r := e.RunContainer(b)
	if !r.OK() {
		t.Fatal(r)
	}
	rep, err := harness.ParseReport(r.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, harness.Lines(r.Stdout), "ok", "ENOSPC")
	for name, mm := range map[string][2]uint32{"null": {1, 3}, "zero": {1, 5}, "full": {1, 7},
		"random": {1, 8}, "urandom": {1, 9}, "tty": {5, 0}} {
		d, ok := harness.Dev(rep, "/dev/"+name)
		if !ok || d.Type != "c" || d.Major != mm[0] || d.Minor != mm[1] || d.Mode != 0o666 {
			t.Errorf("/dev/%s is %+v, want char %d:%d mode 0666", name, d, mm[0], mm[1])
		}
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx"} {
		if d, ok := harness.Dev(rep, "/dev/"+name); !ok || d.Type != "l" || d.Target != target {
			t.Errorf("/dev/%s is %+v, want a symlink to %s", name, d, target)
		}
	}
	for point, fstype := range map[string]string{"/dev": "tmpfs", "/dev/pts": "devpts", "/dev/shm": "tmpfs",
		"/dev/mqueue": "mqueue"} {
		if m, ok := harness.Mount(rep, point); !ok || m.FSType != fstype {
			t.Errorf("%s mount %+v, want %s", point, m, fstype)
		}
	}
	// Nothing of the host's /dev may leak in.
	for _, name := range []string{"/dev/mem", "/dev/kmsg", "/dev/vda", "/dev/sda", "/dev/loop0"} {
		if d, ok := harness.Dev(rep, name); ok {
			t.Errorf("host device visible: %+v", d)
		}
	}
}

func TestExtraDevice(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/probe", "write", "/dev/unha-null", "json")
	mode := os.FileMode(0o620)
	uid, gid := uint32(0), uint32(5)
	b.Spec.Linux.Devices = append(b.Spec.Linux.Devices, specs.LinuxDevice{Path: "/dev/unha-null",
		Type: "c", Major: 1, Minor: 3, FileMode: &mode, UID: &uid, GID: &gid})
	b.Spec.Linux.Resources.Devices = append(b.Spec.Linux.Resources.Devices,
		specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(int64(1)), Minor: ptr(int64(3)), Access: "rwm"})
	lines, r := probeLines(t, e, b)
	wantLines(t, lines, "ok")
	rep, err := harness.ParseReport(r.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	if d, ok := harness.Dev(rep, "/dev/unha-null"); !ok || d.Type != "c" || d.Major != 1 || d.Minor != 3 ||
		d.Mode != 0o620 || d.Gid != 5 {
		t.Errorf("/dev/unha-null is %+v, want char 1:3 mode 0620 gid 5", d)
	}
}

func ptr[T any](v T) *T { return &v }

// TestSymlinkMountTarget plants symlinks in the rootfs that point at a host directory, by
// absolute and by ../ path, and mounts through them. The runtime must resolve them inside the
// rootfs; the host directory must stay untouched.
func TestSymlinkMountTarget(t *testing.T) {
	e := newEnv(t)
	victim := filepath.Join(e.Dir, "victim")
	if err := os.Mkdir(victim, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(e.Dir, "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	b := e.NewBundle("/probe", "print", "ran")
	if err := os.Symlink(victim, filepath.Join(b.Rootfs, "abs")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(strings.Repeat("../", 20)+strings.TrimPrefix(victim, "/"), filepath.Join(b.Rootfs, "rel")); err != nil {
		t.Fatal(err)
	}
	b.AddMount(specs.Mount{Destination: "/abs/sub", Type: "bind", Source: src, Options: []string{"bind"}})
	b.AddMount(specs.Mount{Destination: "/rel/sub", Type: "tmpfs", Source: "tmpfs"})
	b.AddMount(specs.Mount{Destination: "/abs/file", Type: "bind", Source: filepath.Join(b.Rootfs, "etc/passwd"),
		Options: []string{"bind"}})
	_, r := e.RunContainer(b)
	// Either refusing the mounts or confining them to the rootfs is fine; escaping is not.
	if r.OK() && !strings.Contains(r.Stdout, "ran") {
		t.Errorf("run succeeded without running the process: %s", r)
	}
	entries, err := os.ReadDir(victim)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("the runtime followed a rootfs symlink to the host: %s now has %v", victim, entries)
	}
	e.AssertClean()
}
