package clients

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The stages of TestMain, told apart by stageEnv (see doc.go).
const (
	stageEnv   = "UNHA_CLIENTS_STAGE"
	planEnv    = "UNHA_CLIENTS_PLAN"
	runtimeEnv = "UNHA_TEST_RUNTIME"

	stageMover = "mover"
	stageInner = "inner"
)

// plan is what the outer stage hands to the mover and the inner stage.
type plan struct {
	// Base is the suite's directory; every test directory lives below it.
	Base string
	// Runtime is the absolute path of the OCI runtime under test.
	Runtime string
	// Pause is the static pause program for the CRI sandbox image.
	Pause string
	// Busybox is the static busybox put into every image.
	Busybox string
	// Hierarchies are the cgroup hierarchies, each with the suite's cgroup in it.
	Hierarchies []hierarchy
	// Links are the symlinks in /sys/fs/cgroup (e.g. cpu -> cpu,cpuacct), name -> target.
	Links map[string]string
	// CgroupTop is the fstype mounted on /sys/fs/cgroup itself: tmpfs, or cgroup2 on a host
	// with only the unified hierarchy.
	CgroupTop string
}

// suite is the plan in the inner stage; nil elsewhere (tests then skip, being non-root).
var suite *plan

func TestMain(m *testing.M) {
	switch os.Getenv(stageEnv) {
	case "":
		if os.Geteuid() != 0 {
			// Every test skips without root; building the runtime would only cost time.
			os.Exit(m.Run())
		}
		os.Exit(outer())
	case stageMover:
		mover() // execs unshare or exits
	case stageInner:
		os.Exit(inner(m))
	default:
		fmt.Fprintf(os.Stderr, "clients: unknown %s=%q\n", stageEnv, os.Getenv(stageEnv))
		os.Exit(2)
	}
}

// outer builds the binaries, creates the suite's cgroups, runs the mover and cleans up after
// it. It returns the exit code of the test binary.
func outer() int {
	p, err := preparePlan()
	if err != nil {
		fmt.Fprintf(os.Stderr, "clients: %v\n", err)
		if p != nil && p.Base != "" {
			os.RemoveAll(p.Base)
		}
		return 1
	}
	fmt.Fprintf(os.Stderr, "clients: runtime under test: %s\n", p.Runtime)
	code := 0
	if err := createCgroups(p); err != nil {
		fmt.Fprintf(os.Stderr, "clients: %v\n", err)
		code = 1
	} else {
		code = runMover(p)
	}
	if err := removeCgroups(p); err != nil {
		fmt.Fprintf(os.Stderr, "clients: leftover after the suite: %v\n", err)
		code = 1
	}
	if err := removeBase(p.Base); err != nil {
		fmt.Fprintf(os.Stderr, "clients: leftover after the suite: %v\n", err)
		code = 1
	}
	return code
}

func preparePlan() (*plan, error) {
	base, err := os.MkdirTemp("", "unha-clients-")
	if err != nil {
		return nil, err
	}
	p := &plan{Base: base}
	// World-searchable, so that a container process running as another user still reaches
	// what lies below.
	if err := os.Chmod(base, 0o755); err != nil {
		return p, err
	}
	root, err := moduleRoot()
	if err != nil {
		return p, err
	}
	bin := filepath.Join(base, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		return p, err
	}
	if rt := os.Getenv(runtimeEnv); rt != "" {
		abs, err := exec.LookPath(rt)
		if err != nil {
			return p, fmt.Errorf("%s=%s: %w", runtimeEnv, rt, err)
		}
		if p.Runtime, err = filepath.Abs(abs); err != nil {
			return p, err
		}
	} else {
		p.Runtime = filepath.Join(bin, "unha-runtime")
		// cgo: the runtime's nsenter constructor is C.
		if err := goBuild(root, p.Runtime, "./cmd/unha-runtime", "CGO_ENABLED=1"); err != nil {
			return p, err
		}
	}
	p.Pause = filepath.Join(bin, "pause")
	if err := goBuild(root, p.Pause, "./tests/clients/pause", "CGO_ENABLED=0"); err != nil {
		return p, err
	}
	for _, c := range []string{"/usr/bin/busybox", "/bin/busybox"} {
		if isStatic(c) {
			p.Busybox = c
			break
		}
	}
	if p.Busybox == "" {
		return p, errors.New("no static busybox at /usr/bin/busybox: install busybox-static (tests/clients/install-deps.sh)")
	}
	if err := discoverCgroups(p); err != nil {
		return p, err
	}
	return p, nil
}

// runMover re-executes the test binary as the mover with the same arguments, so that -test.run,
// -test.v and -test.timeout reach the inner stage, and returns its exit code.
func runMover(p *plan) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "clients: %v\n", err)
		return 1
	}
	b, err := json.Marshal(p)
	if err != nil {
		fmt.Fprintf(os.Stderr, "clients: %v\n", err)
		return 1
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Env = setEnv(os.Environ(), stageEnv+"="+stageMover, planEnv+"="+string(b))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "clients: %v\n", err)
		return 1
	}
	// Pass an interrupt on to the inner stage (which is this child: the mover and unshare
	// exec), so that the cleanup below still runs.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	defer close(done)
	// The inner stage has go test's -test.timeout; this bounds the wait even if it hangs past it.
	bound := time.NewTimer(innerBound(os.Args[1:]))
	defer bound.Stop()
	go func() {
		select {
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		case <-bound.C:
			fmt.Fprintln(os.Stderr, "clients: the inner stage outlived its -test.timeout; killing it")
			_ = cmd.Process.Kill()
		case <-done:
		}
	}()
	err = cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		return ee.ExitCode()
	default:
		fmt.Fprintf(os.Stderr, "clients: inner stage: %v\n", err)
		return 1
	}
}

// innerBound is the test binary's -test.timeout plus a grace for its cleanup, or 20 minutes
// when there is none.
func innerBound(args []string) time.Duration {
	d := time.Duration(0)
	for i, a := range args {
		v, ok := strings.CutPrefix(a, "-test.timeout=")
		if !ok && a == "-test.timeout" && i+1 < len(args) {
			v, ok = args[i+1], true
		}
		if ok {
			if p, err := time.ParseDuration(v); err == nil {
				d = p
			}
		}
	}
	if d <= 0 {
		return 20 * time.Minute
	}
	return d + 2*time.Minute
}

// mover joins the suite's cgroups and execs unshare into the inner stage. The cgroup
// namespace must be created after the move: its root is the cgroup its creator is in.
func mover() {
	p, err := readPlan()
	if err == nil {
		err = joinCgroups(p)
	}
	if err == nil {
		var unshare string
		if unshare, err = exec.LookPath("unshare"); err == nil {
			var self string
			if self, err = os.Executable(); err == nil {
				args := append([]string{"unshare", "--cgroup", "--mount", "--propagation", "private", "--", self}, os.Args[1:]...)
				env := setEnv(os.Environ(), stageEnv+"="+stageInner)
				err = execve(unshare, args, env)
			}
		}
	}
	fmt.Fprintf(os.Stderr, "clients: mover: %v\n", err)
	os.Exit(1)
}

// inner sets up the private mounts and runs the tests.
func inner(m *testing.M) int {
	p, err := readPlan()
	if err == nil {
		err = enterPrivateView(p)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "clients: inner stage: %v\n", err)
		return 1
	}
	suite = p
	code := m.Run()
	if err := suiteLeftovers(p); err != nil {
		fmt.Fprintf(os.Stderr, "clients: leftover after the suite: %v\n", err)
		code = 1
	}
	return code
}

func readPlan() (*plan, error) {
	p := &plan{}
	if err := json.Unmarshal([]byte(os.Getenv(planEnv)), p); err != nil {
		return nil, fmt.Errorf("%s: %w", planEnv, err)
	}
	return p, nil
}

// setEnv replaces or adds variables. execve(2) passes duplicates through and Go's getenv takes
// the first, so appending is not enough.
func setEnv(env []string, kvs ...string) []string {
	out := make([]string, 0, len(env)+len(kvs))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		replaced := false
		for _, n := range kvs {
			nk, _, _ := strings.Cut(n, "=")
			replaced = replaced || nk == k
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return append(out, kvs...)
}

func goBuild(dir, out, pkg string, env ...string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// moduleRoot walks up from the working directory (go test runs in the package directory) to
// the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			strings.Contains(string(b), "module github.com/unha/unha") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod of github.com/unha/unha not found above the working directory")
		}
		dir = parent
	}
}
