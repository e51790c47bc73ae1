package rootfs

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The kernel tests re-exec the test binary as a child in new namespaces;
// the child does what init would do and reports what it sees as JSON.
const childEnv = "UNHA_ROOTFS_TEST_CHILD"

func TestMain(m *testing.M) {
	if cfg := os.Getenv(childEnv); cfg != "" {
		os.Exit(runChild(cfg))
	}
	os.Exit(m.Run())
}

type childConfig struct {
	Spec      *specs.Spec
	Opts      Options
	Console   bool
	PreMounts []string // tmpfs mounted on these host dirs before Prepare
	Stat      []string
	Write     []string // opened O_WRONLY (O_CREAT if missing), never written
	Exec      []string
}

type statResult struct {
	Err    string `json:",omitempty"`
	Type   string `json:",omitempty"`
	Mode   uint32 `json:",omitempty"`
	Major  uint32 `json:",omitempty"`
	Minor  uint32 `json:",omitempty"`
	UID    uint32 `json:",omitempty"`
	GID    uint32 `json:",omitempty"`
	Link   string `json:",omitempty"`
	FSType int64  `json:",omitempty"`
}

type childResult struct {
	Stage      string `json:",omitempty"`
	Err        string `json:",omitempty"`
	Cwd        string
	Host       []mountInfo // mountinfo after Prepare, before Enter
	Mounts     []mountInfo // mountinfo inside, after Finish
	Stat       map[string]statResult
	Write      map[string]string // errno name, "" on success
	Exec       string
	ExecErr    string `json:",omitempty"`
	ConsoleErr string `json:",omitempty"`
}

func runChild(cfgPath string) int {
	runtime.LockOSThread()
	res := childResult{Stat: map[string]statResult{}, Write: map[string]string{}}
	defer func() { _ = json.NewEncoder(os.Stdout).Encode(res) }()
	fail := func(stage string, err error) int {
		res.Stage, res.Err = stage, err.Error()
		return 0
	}
	b, err := os.ReadFile(cfgPath)
	if err != nil {
		return fail("config", err)
	}
	var cfg childConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fail("config", err)
	}
	for _, p := range cfg.PreMounts {
		if err := unix.Mount("tmpfs", p, "tmpfs", 0, ""); err != nil {
			return fail("premount", err)
		}
	}
	rootfs := cfg.Spec.Root.Path
	if err := Prepare(cfg.Spec, cfg.Opts); err != nil {
		return fail("prepare", err)
	}
	if cfg.Console {
		if err := childConsole(rootfs); err != nil {
			res.ConsoleErr = err.Error()
		}
	}
	res.Host, _ = readMountinfo()
	if err := Enter(rootfs, cfg.Opts); err != nil {
		return fail("enter", err)
	}
	res.Cwd, _ = os.Getwd()
	if err := Finish(cfg.Spec, cfg.Opts); err != nil {
		return fail("finish", err)
	}
	res.Mounts, _ = readMountinfo()
	for _, p := range cfg.Stat {
		res.Stat[p] = statPath(p)
	}
	for _, p := range cfg.Write {
		res.Write[p] = tryWrite(p)
	}
	if len(cfg.Exec) > 0 {
		out, err := exec.Command(cfg.Exec[0], cfg.Exec[1:]...).CombinedOutput()
		res.Exec = string(out)
		if err != nil {
			res.ExecErr = err.Error()
		}
	}
	return 0
}

// childConsole allocates a pty on the container's devpts and binds it.
func childConsole(rootfs string) error {
	h, err := pathrs.OpenInRoot(rootfs, "/dev/pts/ptmx")
	if err != nil {
		return err
	}
	ptmx, err := pathrs.Reopen(h, os.O_RDWR|unix.O_NOCTTY)
	h.Close()
	if err != nil {
		return err
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		return err
	}
	fd, _, errno := unix.Syscall(unix.SYS_IOCTL, ptmx.Fd(), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno != 0 {
		return errno
	}
	slave := os.NewFile(fd, "pty-slave")
	defer slave.Close()
	return BindConsole(rootfs, slave)
}

func statPath(p string) statResult {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return statResult{Err: errName(err)}
	}
	r := statResult{Mode: st.Mode & 0o7777, UID: st.Uid, GID: st.Gid,
		Major: unix.Major(st.Rdev), Minor: unix.Minor(st.Rdev)}
	r.Type = map[uint32]string{unix.S_IFDIR: "dir", unix.S_IFREG: "file", unix.S_IFLNK: "link",
		unix.S_IFCHR: "char", unix.S_IFBLK: "block", unix.S_IFIFO: "fifo", unix.S_IFSOCK: "socket"}[st.Mode&unix.S_IFMT]
	if r.Type == "link" {
		r.Link, _ = os.Readlink(p)
	} else {
		var fs unix.Statfs_t
		if unix.Statfs(p, &fs) == nil {
			r.FSType = fs.Type
		}
	}
	return r
}

func tryWrite(p string) string {
	fd, err := unix.Open(p, unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return errName(err)
	}
	unix.Close(fd)
	return ""
}

func errName(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

// kernelEnv holds what a root test needs and checks it leaves nothing.
type kernelEnv struct {
	t      *testing.T
	dir    string
	rootfs string
}

func newKernelEnv(t *testing.T) *kernelEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Fatalf("the kernel tests build their rootfs from /bin/busybox (apt-get install -y busybox-static): %v", err)
	}
	e := &kernelEnv{t: t, dir: t.TempDir()}
	e.rootfs = filepath.Join(e.dir, "rootfs")
	for _, d := range []string{"bin", "etc", "proc", "sys", "tmp", "copyup/sub"} {
		mustNoErr(t, os.MkdirAll(filepath.Join(e.rootfs, d), 0o755))
	}
	mustNoErr(t, unix.Chmod(filepath.Join(e.rootfs, "tmp"), 0o1777)) // os.Chmod drops the sticky bit
	bb, err := os.ReadFile("/bin/busybox")
	mustNoErr(t, err)
	mustNoErr(t, os.WriteFile(filepath.Join(e.rootfs, "bin/busybox"), bb, 0o755))
	mustNoErr(t, os.Symlink("busybox", filepath.Join(e.rootfs, "bin/sh")))
	mustNoErr(t, os.WriteFile(filepath.Join(e.rootfs, "copyup/hello"), []byte("hello"), 0o640))
	mustNoErr(t, os.Symlink("hello", filepath.Join(e.rootfs, "copyup/link")))
	before := hostMounts(t)
	t.Cleanup(func() {
		if after := hostMounts(t); after != before {
			t.Errorf("host mount table changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		if strings.Contains(hostMounts(t), e.dir) {
			t.Errorf("a mount under %s is left on the host", e.dir)
		}
	})
	return e
}

func hostMounts(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	mustNoErr(t, err)
	return string(b)
}

func mustNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// run starts the child in new mount and pid namespaces (plus extra).
func (e *kernelEnv) run(cfg childConfig, extra uintptr, userns bool) childResult {
	t := e.t
	t.Helper()
	b, err := json.Marshal(cfg)
	mustNoErr(t, err)
	cfgPath := filepath.Join(e.dir, "child.json")
	mustNoErr(t, os.WriteFile(cfgPath, b, 0o600))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+cfgPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | extra,
		Pdeathsig:  syscall.SIGKILL,
	}
	if userns {
		cmd.SysProcAttr.Cloneflags |= syscall.CLONE_NEWUSER
		// Identity-mapped, so the rootfs stays writable for "root" while the
		// kernel applies every user-namespace restriction (no mknod, locked
		// mount flags).
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\nstdout: %s\nstderr: %s", err, out, stderr.String())
	}
	if os.Getenv("UNHA_ROOTFS_TEST_DUMP") != "" {
		t.Logf("child: %s", out)
	}
	var res childResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("child output: %v\n%s\nstderr: %s", err, out, stderr.String())
	}
	return res
}

func findMount(ms []mountInfo, mountpoint string) (mountInfo, bool) {
	var found mountInfo
	ok := false
	for _, m := range ms {
		if m.Mountpoint == mountpoint {
			found, ok = m, true // the last one is on top
		}
	}
	return found, ok
}

func hasOpt(opts, o string) bool {
	for _, v := range strings.Split(opts, ",") {
		if v == o {
			return true
		}
	}
	return false
}
