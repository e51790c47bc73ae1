package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// RuntimeEnv names the environment variable that selects the runtime binary under test.
const RuntimeEnv = "UNHA_TEST_RUNTIME"

// UnhaEnv names the environment variable that selects the unha binary for its tests.
const UnhaEnv = "UNHA_TEST_UNHA"

// Suite holds what is built once per test binary.
type Suite struct {
	// Runtime is the absolute path of the OCI runtime under test.
	Runtime string
	// Probe is the static probe binary copied into every rootfs.
	Probe string
	// Busybox is the static busybox copied into every rootfs.
	Busybox string
	// Base is a 0755 directory under which every test directory lives. It is world-searchable
	// because a container with a user namespace runs as an unprivileged host uid and must still
	// reach its rootfs.
	Base string
	// ModuleRoot is the directory holding go.mod.
	ModuleRoot string

	unhaOnce sync.Once
	unha     string
	unhaErr  error
}

// NewSuite builds the probe (and the runtime when UNHA_TEST_RUNTIME is unset) into a fresh
// temporary directory.
func NewSuite() (*Suite, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	base, err := os.MkdirTemp("", "unha-tests-")
	if err != nil {
		return nil, err
	}
	s := &Suite{Base: base, ModuleRoot: root}
	if err := os.Chmod(base, 0o755); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.build(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Suite) build() error {
	bin := filepath.Join(s.Base, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		return err
	}
	s.Probe = filepath.Join(bin, "probe")
	if err := goBuild(s.ModuleRoot, s.Probe, "./tests/cmd/probe", "CGO_ENABLED=0"); err != nil {
		return err
	}
	if rt := os.Getenv(RuntimeEnv); rt != "" {
		abs, err := exec.LookPath(rt)
		if err != nil {
			return fmt.Errorf("%s=%s: %w", RuntimeEnv, rt, err)
		}
		// A copy under the suite's 0755 dir, keeping the base name (runc
		// is told apart by it): the rootless tests run it as a user who
		// may not reach the original (a checkout under /root).
		s.Runtime = filepath.Join(bin, filepath.Base(abs))
		if err := copyExecutable(abs, s.Runtime); err != nil {
			return fmt.Errorf("%s=%s: %w", RuntimeEnv, rt, err)
		}
	} else {
		s.Runtime = filepath.Join(bin, "unha-runtime")
		if err := goBuild(s.ModuleRoot, s.Runtime, "./cmd/unha-runtime"); err != nil {
			return err
		}
	}
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if _, err := os.Stat(p); err == nil {
			s.Busybox = p
			break
		}
	}
	if s.Busybox == "" {
		return errors.New("busybox not found: install the busybox-static package")
	}
	return nil
}

// Unha returns the unha CLI for its black-box tests: UNHA_TEST_UNHA if set, else ./cmd/unha
// built on first use (only the tests that need it pay for the build).
func (s *Suite) Unha() (string, error) {
	s.unhaOnce.Do(func() {
		if p := os.Getenv(UnhaEnv); p != "" {
			s.unha, s.unhaErr = exec.LookPath(p)
			return
		}
		s.unha = filepath.Join(s.Base, "bin", "unha")
		s.unhaErr = goBuild(s.ModuleRoot, s.unha, "./cmd/unha")
	})
	return s.unha, s.unhaErr
}

// RuntimeName is the base name of the runtime binary ("runc", "unha-runtime", "crun").
func (s *Suite) RuntimeName() string { return filepath.Base(s.Runtime) }

// IsRunc reports whether the runtime under test is runc, for the few tests that document a
// difference between runc and the contract.
func (s *Suite) IsRunc() bool { return s.RuntimeName() == "runc" }

// Close removes everything NewSuite built.
func (s *Suite) Close() {
	if s.Base != "" {
		os.RemoveAll(s.Base)
	}
}

func copyExecutable(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
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
