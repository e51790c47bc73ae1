package specgen

import (
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

type fakeInfo struct {
	name string
	mode fs.FileMode
}

func (f fakeInfo) Name() string       { return f.name }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return nil }

// A merged-/usr host (Debian 12): /bin /lib /lib64 /sbin are links, no
// lib32/libx32.
func debianHost() (func(string) (fs.FileInfo, error), func(string) (string, error)) {
	tree := map[string]fs.FileMode{
		"/usr": fs.ModeDir, "/bin": fs.ModeSymlink, "/sbin": fs.ModeSymlink, "/lib": fs.ModeSymlink,
		"/lib64": fs.ModeSymlink, "/etc/ld.so.cache": 0, "/etc/alternatives": fs.ModeDir,
	}
	links := map[string]string{"/bin": "usr/bin", "/sbin": "usr/sbin", "/lib": "usr/lib", "/lib64": "usr/lib64"}
	lstat := func(p string) (fs.FileInfo, error) {
		m, ok := tree[p]
		if !ok {
			return nil, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
		}
		return fakeInfo{name: p, mode: m}, nil
	}
	readlink := func(p string) (string, error) { return links[p], nil }
	return lstat, readlink
}

func TestHostMergedUsr(t *testing.T) {
	l, err := Host(debianHost())
	if err != nil {
		t.Fatal(err)
	}
	wantLinks := []Symlink{{"bin", "usr/bin"}, {"sbin", "usr/sbin"}, {"lib", "usr/lib"}, {"lib64", "usr/lib64"}}
	if !reflect.DeepEqual(l.Symlinks, wantLinks) {
		t.Errorf("symlinks %+v", l.Symlinks)
	}
	var binds []string
	for _, m := range l.Mounts {
		if m.Type == "bind" {
			binds = append(binds, m.Destination)
			if m.Source != m.Destination || !slices.Contains(m.Options, "ro") || !slices.Contains(m.Options, "rbind") ||
				!slices.Contains(m.Options, "nosuid") {
				t.Errorf("bind %+v", m)
			}
		}
	}
	if want := []string{"/usr", "/etc/ld.so.cache", "/etc/alternatives"}; !reflect.DeepEqual(binds, want) {
		t.Errorf("binds %v, want %v", binds, want)
	}
	if last := l.Mounts[len(l.Mounts)-1]; last.Destination != "/tmp" || last.Type != "tmpfs" {
		t.Errorf("no /tmp tmpfs: %+v", last)
	}
	if !reflect.DeepEqual(l.MountFiles, []string{"etc/ld.so.cache"}) {
		t.Errorf("mount files %v", l.MountFiles)
	}
	dirs := map[string]fs.FileMode{}
	for _, d := range l.Dirs {
		dirs[d.Path] = d.Mode
	}
	for _, d := range []string{"usr", "etc", "etc/alternatives", "proc", "dev", "sys", "tmp"} {
		if _, ok := dirs[d]; !ok {
			t.Errorf("no directory %s in %v", d, l.Dirs)
		}
	}
	if dirs["tmp"] != fs.ModeSticky|0o777 {
		t.Errorf("tmp mode %v", dirs["tmp"])
	}
	if dirs["root"] != 0o700 {
		t.Errorf("root's home mode %v", dirs["root"])
	}
	if _, ok := dirs["bin"]; ok {
		t.Error("bin made a directory although the host has a link")
	}
}

// A classic layout: real /bin, /lib and /lib32 are bound, nothing linked.
func TestHostSplitUsr(t *testing.T) {
	lstat := func(p string) (fs.FileInfo, error) {
		switch p {
		case "/usr", "/bin", "/lib", "/lib32":
			return fakeInfo{name: p, mode: fs.ModeDir}, nil
		}
		return nil, fs.ErrNotExist
	}
	l, err := Host(lstat, func(string) (string, error) { t.Fatal("readlink called"); return "", nil })
	if err != nil {
		t.Fatal(err)
	}
	var binds []string
	for _, m := range l.Mounts {
		if m.Type == "bind" {
			binds = append(binds, m.Destination)
		}
	}
	if want := []string{"/usr", "/bin", "/lib", "/lib32"}; !reflect.DeepEqual(binds, want) || len(l.Symlinks) != 0 {
		t.Errorf("binds %v links %v", binds, l.Symlinks)
	}
}

func TestHostLstatError(t *testing.T) {
	_, err := Host(func(p string) (fs.FileInfo, error) { return nil, os.ErrPermission }, os.Readlink)
	if err == nil {
		t.Fatal("lstat failure ignored")
	}
}

func TestEtcFiles(t *testing.T) {
	f := EtcFiles("abc", false, []byte("1.2.3.4 host\n"), []byte("nameserver 9.9.9.9\n"))
	if string(f["hostname"]) != "abc\n" {
		t.Errorf("hostname %q", f["hostname"])
	}
	if !strings.HasPrefix(string(f["hosts"]), "127.0.0.1\tlocalhost\n") || strings.Contains(string(f["hosts"]), "1.2.3.4") {
		t.Errorf("hosts %q", f["hosts"])
	}
	if string(f["resolv.conf"]) != "nameserver 9.9.9.9\n" {
		t.Errorf("resolv.conf %q", f["resolv.conf"])
	}
	if !strings.HasPrefix(string(f["passwd"]), "root:x:0:0:root:/root:") || !strings.Contains(string(f["group"]), "tty:x:5:") {
		t.Errorf("passwd %q group %q", f["passwd"], f["group"])
	}
	if !strings.Contains(string(f["nsswitch.conf"]), "hosts: files dns") {
		t.Errorf("nsswitch %q", f["nsswitch.conf"])
	}
	f = EtcFiles("abc", true, []byte("1.2.3.4 host\n"), nil)
	if string(f["hosts"]) != "1.2.3.4 host\n" {
		t.Errorf("host network hosts %q", f["hosts"])
	}
	// The generated passwd must resolve through ResolveUser.
	u, home, err := ResolveUser("nobody", f["passwd"], f["group"])
	if err != nil || u.UID != 65534 || u.GID != 65534 || home != "/nonexistent" {
		t.Errorf("nobody: %+v %q %v", u, home, err)
	}
}

func TestEtcBinds(t *testing.T) {
	m := EtcBinds("/b", false)
	if len(m) != 3 || m[0].Destination != "/etc/hostname" || m[0].Source != "/b/hostname" || slices.Contains(m[0].Options, "ro") {
		t.Errorf("binds %+v", m)
	}
	for _, b := range EtcBinds("/b", true) {
		if !slices.Contains(b.Options, "ro") {
			t.Errorf("read-only bind %+v", b)
		}
	}
}
