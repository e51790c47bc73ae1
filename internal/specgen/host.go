package specgen

import (
	"errors"
	"fmt"
	"io/fs"
	"path"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// HostImage is the name of the built-in image that runs the host's own
// programs: `unha run host sh` needs no download and no set-up.
const HostImage = "host"

// HostDirs are the host directories the host image shows, read-only. On
// merged-/usr systems (Debian 12) most are symlinks into usr/; those are
// recreated as symlinks, because bind-mounting a symlink would mount its
// target, not the link.
var HostDirs = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}

// hostEtc are host files the host image's /etc needs for host programs to
// work: the linker cache (so ld.so finds every library the host's does)
// and Debian's alternatives (/usr/bin/awk -> /etc/alternatives/awk -> mawk).
var hostEtc = []string{"/etc/ld.so.cache", "/etc/alternatives"}

// hostBindOptions: read-only, and nosuid because these are the host's own
// setuid binaries (su, passwd, mount): a container user must not gain
// container root through them. rbind rather than bind so that whatever is
// mounted beneath the host's /usr appears too.
var hostBindOptions = []string{"rbind", "ro", "nosuid", "nodev"}

// Dir is a directory to create in the host image's rootfs.
type Dir struct {
	Path string // relative to the rootfs
	Mode fs.FileMode
}

// Symlink is a link to create in the host image's rootfs.
type Symlink struct {
	Path   string // relative to the rootfs
	Target string // verbatim from the host
}

// Layout is how to build the host image's rootfs from an empty directory:
// directories and symlinks to create, empty files to create as
// mountpoints, and the mounts to add to the spec. The generated /etc files
// (EtcFiles) are written into etc/ next to these.
type Layout struct {
	Dirs       []Dir
	Symlinks   []Symlink
	MountFiles []string // relative paths of empty files that are mount targets
	Mounts     []specs.Mount
}

// Host plans the host image from what lstat and readlink report about the
// host (os.Lstat and os.Readlink in production).
func Host(lstat func(string) (fs.FileInfo, error), readlink func(string) (string, error)) (*Layout, error) {
	l := &Layout{}
	for _, d := range []string{"dev", "proc", "sys", "run", "home", "etc", "var"} {
		l.Dirs = append(l.Dirs, Dir{Path: d, Mode: 0o755})
	}
	// Sticky and world-writable; runc also gives a tmpfs mounted on /tmp
	// the mode of the directory beneath it.
	l.Dirs = append(l.Dirs, Dir{Path: "tmp", Mode: fs.ModeSticky | 0o777}, Dir{Path: "var/tmp", Mode: fs.ModeSticky | 0o777},
		Dir{Path: "root", Mode: 0o700})
	for _, p := range append(append([]string(nil), HostDirs...), hostEtc...) {
		fi, err := lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("host image: %w", err)
		}
		rel := p[1:]
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := readlink(p)
			if err != nil {
				return nil, fmt.Errorf("host image: %w", err)
			}
			l.Symlinks = append(l.Symlinks, Symlink{Path: rel, Target: target})
			continue
		case fi.IsDir():
			l.Dirs = append(l.Dirs, Dir{Path: rel, Mode: 0o755})
		case fi.Mode().IsRegular():
			l.MountFiles = append(l.MountFiles, rel)
		default:
			continue
		}
		l.Mounts = append(l.Mounts, specs.Mount{Destination: p, Type: "bind", Source: p, Options: clone(hostBindOptions)})
	}
	l.Mounts = append(l.Mounts, specs.Mount{
		Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777"},
	})
	return l, nil
}

// etcBound are the files Docker bind-mounts over an image's own /etc.
var etcBound = []string{"hostname", "hosts", "resolv.conf"}

// EtcBinds are the mounts that put a container's generated hostname, hosts
// and resolv.conf (files in dir) over a rootfs's /etc, as Docker does;
// read-only with --read-only, else writable (the files are the container's
// own copies).
func EtcBinds(dir string, readOnly bool) []specs.Mount {
	opts := []string{"bind", "nosuid", "nodev", "noexec"}
	if readOnly {
		opts = append(opts, "ro")
	}
	var m []specs.Mount
	for _, f := range etcBound {
		m = append(m, specs.Mount{Destination: "/etc/" + f, Type: "bind", Source: path.Join(dir, f), Options: clone(opts)})
	}
	return m
}

// EtcFiles are the host image's /etc: a passwd and group with root, the tty
// group devpts uses (gid 5) and nobody; files-only name service; the
// hostname; and hosts and resolv.conf. With the host's network the host's
// hosts file is used as Docker does; resolv.conf is always the host's.
func EtcFiles(hostname string, hostNet bool, hostHosts, hostResolv []byte) map[string][]byte {
	hosts := []byte("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")
	if hostNet && hostHosts != nil {
		hosts = append([]byte(nil), hostHosts...)
	}
	return map[string][]byte{
		"passwd": []byte("root:x:0:0:root:/root:/bin/sh\n" +
			"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"),
		"group":         []byte("root:x:0:\ntty:x:5:\nnogroup:x:65534:\n"),
		"nsswitch.conf": []byte("passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\nethers: files\nrpc: files\n"),
		"hostname":      []byte(hostname + "\n"),
		"hosts":         hosts,
		"resolv.conf":   append([]byte(nil), hostResolv...),
	}
}
