package rootfs

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOpenDest covers the ways openDest finds a destination: plain (no
// symlink: the path is the one asked for), through symlinks inside the
// root (the kernel says where it led, never outside), and missing (made in
// place, or where a dangling symlink points).
func TestOpenDest(t *testing.T) {
	rootfs := fakeRootfs(t)
	mk := func(p string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(rootfs, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(rootfs, p)); err != nil {
			t.Fatal(err)
		}
	}
	mk("real/sub")
	mk("run")
	link("/real", "abs")       // absolute: resolves inside the root
	link("../../..", "up")     // climbs: stays at the root
	link("../run/x", "etc/rc") // dangling
	if err := os.WriteFile(filepath.Join(rootfs, "etc/file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	a, _, _ := newFakeApplier(t, rootfs, Options{})
	if err := a.setRoot(rootfs); err != nil {
		t.Fatal(err)
	}
	defer a.root.Close()
	for _, tc := range []struct {
		dest        string
		dir         bool
		wantPath    string
		wantCreated bool
		made        string // where it must exist on the host afterwards
	}{
		{dest: "/real/sub", dir: true, wantPath: "/real/sub"},
		{dest: "/abs/sub", dir: true, wantPath: "/real/sub"},
		{dest: "/up/real", dir: true, wantPath: "/real"},
		{dest: "/etc/file", dir: false, wantPath: "/etc/file"},
		{dest: "/real/new", dir: true, wantPath: "/real/new", wantCreated: true, made: "real/new"},
		{dest: "/abs/new2", dir: true, wantPath: "/real/new2", wantCreated: true, made: "real/new2"},
		{dest: "/etc/newfile", dir: false, wantPath: "/etc/newfile", wantCreated: true, made: "etc/newfile"},
		{dest: "/etc/rc", dir: false, wantPath: "/run/x", wantCreated: true, made: "run/x"},
		{dest: "/deep/a/b", dir: true, wantPath: "/deep/a/b", wantCreated: true, made: "deep/a/b"},
	} {
		f, p, created, err := a.openDest(tc.dest, tc.dir)
		if err != nil {
			t.Errorf("openDest(%s): %v", tc.dest, err)
			continue
		}
		f.Close()
		if p != tc.wantPath || created != tc.wantCreated {
			t.Errorf("openDest(%s) = %s, created %v; want %s, %v", tc.dest, p, created, tc.wantPath, tc.wantCreated)
		}
		if tc.made != "" {
			if _, err := os.Lstat(filepath.Join(rootfs, tc.made)); err != nil {
				t.Errorf("openDest(%s) made nothing at %s: %v", tc.dest, tc.made, err)
			}
		}
	}
	// The dangling symlink is followed, not replaced.
	if fi, err := os.Lstat(filepath.Join(rootfs, "etc/rc")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("etc/rc is no longer the symlink: %v %v", fi, err)
	}
	// A file where a directory is wanted, and the reverse.
	if _, _, _, err := a.openDest("/etc/file", true); err == nil {
		t.Error("openDest accepted a file as a directory")
	}
	if _, _, _, err := a.openDest("/real", false); err == nil {
		t.Error("openDest accepted a directory as a file")
	}
}
