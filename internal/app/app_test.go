package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/ociexec"
)

func TestClassifyStart(t *testing.T) {
	tests := []struct {
		msg  string
		want error
	}{
		{`runc create failed: unable to start container process: exec: "nosuch": executable file not found in $PATH`, ErrCommandNotFound},
		{`runc create failed: unable to start container process: exec: "/x": stat /x: no such file or directory`, ErrCommandNotFound},
		{"executable file `nosuch` not found in $PATH: No such file or directory", ErrCommandNotFound},
		{`runc create failed: unable to start container process: exec: "/etc/passwd": permission denied`, ErrCommandNotExecutable},
		{`error mounting "/src" to rootfs at "/dst": stat /src: no such file or directory`, nil},
		{`open /sys/fs/cgroup/x: permission denied`, nil},
		{`something else`, nil},
	}
	for _, tt := range tests {
		base := &ociexec.Error{Verb: "create", ID: "c", Status: 1, Msg: tt.msg}
		err := classifyStart(wrapRuntime("create container c", base))
		for _, s := range []error{ErrCommandNotFound, ErrCommandNotExecutable} {
			if got := errors.Is(err, s); got != (s == tt.want) {
				t.Errorf("%q: errors.Is(%v) = %v", tt.msg, s, got)
			}
		}
		var oe *ociexec.Error
		if !errors.As(err, &oe) {
			t.Errorf("%q: runtime error lost", tt.msg)
		}
		if want := "create container c: " + tt.msg; err.Error() != want {
			t.Errorf("message %q, want %q", err, want)
		}
	}
	if classifyStart(nil) != nil {
		t.Error("nil classified")
	}
}

func TestWrapRuntimeWithoutMessage(t *testing.T) {
	err := wrapRuntime("start container c", &ociexec.Error{Verb: "start", ID: "c", Status: 2})
	if err.Error() != "start container c: runtime start c: exit status 2" {
		t.Errorf("message %q", err)
	}
	if wrapRuntime("x", nil) != nil {
		t.Error("nil wrapped")
	}
}

func TestExitStatus(t *testing.T) {
	// The wait(2) encoding: exit code in bits 8-15, signal in 0-6.
	tests := []struct {
		ws   unix.WaitStatus
		want int
	}{
		{0, 0},
		{3 << 8, 3},
		{255 << 8, 255},
		{unix.WaitStatus(unix.SIGKILL), 137},
		{unix.WaitStatus(unix.SIGTERM), 143},
		{unix.WaitStatus(unix.SIGSEGV) | 0x80, 139}, // with core dump
	}
	for _, tt := range tests {
		if got := ExitStatus(tt.ws); got != tt.want {
			t.Errorf("ExitStatus(%#x) = %d, want %d", uint32(tt.ws), got, tt.want)
		}
	}
}

func TestCheckRunOptions(t *testing.T) {
	o := RunOptions{Image: "host"}
	if err := checkRunOptions(&o); err != nil || o.Network != "none" || len(o.Args) != 1 || o.Args[0] != "sh" {
		t.Errorf("defaults: %v %+v", err, o)
	}
	for _, tt := range []struct {
		o    RunOptions
		want string
	}{
		{RunOptions{Image: "alpine"}, `unable to find image "alpine"`},
		{RunOptions{}, "no image"},
		{RunOptions{Image: "host", Rootfs: "/r"}, "--rootfs replaces the image"},
		{RunOptions{Image: "host", Network: "bridge"}, `network "bridge" is not supported`},
		{RunOptions{Image: "host", Workdir: "tmp"}, "needs to be an absolute path"},
	} {
		err := checkRunOptions(&tt.o)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.o, err, tt.want)
		}
	}
	o = RunOptions{Rootfs: "/r", Args: []string{"true"}, Network: "host"}
	if err := checkRunOptions(&o); err != nil {
		t.Error(err)
	}
}

func TestStore(t *testing.T) {
	s := &store{root: t.TempDir()}
	a := &Container{Name: "web", Image: "host", Command: []string{"sh"}, Created: time.Now()}
	if err := s.create(a); err != nil {
		t.Fatal(err)
	}
	if len(a.ID) != 64 || a.ShortID() != a.ID[:12] {
		t.Errorf("id %q", a.ID)
	}
	b := &Container{Name: "web", Image: "host", Created: time.Now().Add(time.Second)}
	if err := s.create(b); err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("duplicate name: %v", err)
	}
	if ents, _ := os.ReadDir(s.containersDir()); len(ents) != 1 {
		t.Errorf("failed create left %d bundles", len(ents))
	}
	if err := s.create(&Container{Name: "-bad"}); err == nil || !strings.Contains(err.Error(), "invalid container name") {
		t.Errorf("bad name: %v", err)
	}
	c := &Container{Image: "host", Created: time.Now().Add(time.Second)}
	if err := s.create(c); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[string]*Container{"web": a, a.ID: a, a.ID[:12]: a, c.ID[:5]: c} {
		got, err := s.lookup(ref)
		if err != nil || got.ID != want.ID {
			t.Errorf("lookup %q: %v, %v", ref, got, err)
		}
	}
	if _, err := s.lookup("nosuch"); err == nil || !strings.Contains(err.Error(), "no such container") {
		t.Errorf("lookup nosuch: %v", err)
	}
	list, err := s.list()
	if err != nil || len(list) != 2 || list[0].ID != c.ID {
		t.Errorf("list newest first: %v %v", list, err)
	}
	code := 3
	a.ExitCode = &code
	if err := s.save(a); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.load(a.ID); got.ExitCode == nil || *got.ExitCode != 3 {
		t.Errorf("saved record %+v", got)
	}
	if err := s.remove(a); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(s.namesDir(), "web")); !os.IsNotExist(err) {
		t.Errorf("name kept after remove: %v", err)
	}
	// The name is free again.
	if err := s.create(&Container{Name: "web"}); err != nil {
		t.Errorf("reuse name: %v", err)
	}
}

func TestStaleNameReclaimed(t *testing.T) {
	s := &store{root: t.TempDir()}
	a := &Container{Name: "db"}
	if err := s.create(a); err != nil {
		t.Fatal(err)
	}
	// unha died and someone removed the bundle by hand.
	if err := os.RemoveAll(s.bundle(a.ID)); err != nil {
		t.Fatal(err)
	}
	if err := s.create(&Container{Name: "db"}); err != nil {
		t.Errorf("stale name not reclaimed: %v", err)
	}
}

func TestRemoveTree(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bundle")
	for _, d := range []string{"rootfs/usr/bin", "rootfs/locked"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	outside := filepath.Join(t.TempDir(), "keep")
	if err := os.WriteFile(outside, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(dir, "rootfs", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rootfs/locked/f"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "rootfs/locked"), 0); err != nil {
		t.Fatal(err)
	}
	if err := removeBundle(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("bundle still there: %v", err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("followed a symlink out: %v", err)
	}
	if err := removeBundle(dir); err != nil {
		t.Errorf("removing a missing bundle: %v", err)
	}
	// Another device is refused, not emptied.
	if err := removeTree("/proc/self", 1); err == nil {
		t.Error("crossed into another file system")
	}
}

// A mount left in a bundle is detached, never emptied.
func TestRemoveBundleDetachesMounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount")
	}
	dir := filepath.Join(t.TempDir(), "bundle")
	usr := filepath.Join(dir, "rootfs", "usr")
	if err := os.MkdirAll(usr, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", usr, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(usr, unix.MNT_DETACH) })
	if err := os.WriteFile(filepath.Join(usr, "precious"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Keep a handle on the mounted tmpfs to look at it after the detach.
	h, err := os.Open(usr)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := removeBundle(dir); err != nil {
		t.Fatal(err)
	}
	if m, _ := mountsUnder(dir); len(m) != 0 {
		t.Errorf("mounts left: %v", m)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("bundle still there: %v", err)
	}
	names, err := h.Readdirnames(-1)
	if err != nil || len(names) != 1 || names[0] != "precious" {
		t.Errorf("the mounted file system was emptied: %v %v", names, err)
	}
}

func TestUnescapeMountinfo(t *testing.T) {
	for in, want := range map[string]string{
		`/a\040b`: "/a b", `/tab\011x`: "/tab\tx", `/back\134slash`: `/back\slash`, `/plain`: "/plain", `/end\04`: `/end\04`,
	} {
		if got := unescapeMountinfo(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestQuoteCommandAndDuration(t *testing.T) {
	if got := quoteCommand([]string{"sh", "-c", "hostname; ps; sleep 1000"}); got != `"sh -c hostname; ps;…"` {
		t.Errorf("quoteCommand %q", got)
	}
	if got := quoteCommand([]string{"sh"}); got != `"sh"` {
		t.Errorf("quoteCommand %q", got)
	}
	for d, want := range map[time.Duration]string{
		0: "Less than a second", time.Second: "1 second", 30 * time.Second: "30 seconds",
		time.Minute: "About a minute", 5 * time.Minute: "5 minutes", time.Hour: "About an hour",
		3 * time.Hour: "3 hours", 72 * time.Hour: "3 days",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestResolveRuntime(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "rt")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	a := &App{cfg: Config{Runtime: exe}}
	if got, err := a.resolveRuntime(); err != nil || got != exe {
		t.Errorf("resolve %s: %q %v", exe, got, err)
	}
	a.cfg.Runtime = noexec
	if _, err := a.resolveRuntime(); err == nil {
		t.Error("non-executable runtime accepted")
	}
	t.Setenv("PATH", dir)
	a.cfg.Runtime = "rt"
	if got, err := a.resolveRuntime(); err != nil || got != exe {
		t.Errorf("resolve from PATH: %q %v", got, err)
	}
	// The default: unha-runtime from PATH when none sits next to the
	// test binary.
	if err := os.Rename(exe, filepath.Join(dir, RuntimeName)); err != nil {
		t.Fatal(err)
	}
	a.cfg.Runtime = ""
	if got, err := a.resolveRuntime(); err != nil || got != filepath.Join(dir, RuntimeName) {
		t.Errorf("default runtime: %q %v", got, err)
	}
	t.Setenv("PATH", t.TempDir())
	if _, err := a.resolveRuntime(); err == nil || !strings.Contains(err.Error(), "--runtime") {
		t.Errorf("no runtime anywhere: %v", err)
	}
}
