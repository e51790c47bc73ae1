package app

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/unha/unha/internal/ociexec"
)

// RuntimeName is the default low-level runtime, looked up next to the
// running unha binary first and then in PATH.
const RuntimeName = "unha-runtime"

// Config is what every unha command shares.
type Config struct {
	DataRoot     string // containers live in DataRoot/containers; default DefaultDataRoot()
	RuntimeRoot  string // the runtime's --root; default DefaultRuntimeRoot()
	Runtime      string // runtime binary: a path, or a name looked up in PATH; default DefaultRuntime()
	RuntimeDebug bool   // pass --debug to the runtime
	Logger       *slog.Logger
	Stdin        *os.File
	Stdout       *os.File
	Stderr       *os.File
}

// App runs unha commands against one data root and one runtime.
type App struct {
	cfg   Config
	log   *slog.Logger
	store *store
}

// New fills in the defaults of cfg. The runtime is resolved only when a
// command needs it, so `unha ps` works without one.
func New(cfg Config) (*App, error) {
	if cfg.DataRoot == "" {
		d, err := DefaultDataRoot()
		if err != nil {
			return nil, err
		}
		cfg.DataRoot = d
	}
	if cfg.RuntimeRoot == "" {
		d, err := DefaultRuntimeRoot()
		if err != nil {
			return nil, err
		}
		cfg.RuntimeRoot = d
	}
	for _, p := range []*string{&cfg.DataRoot, &cfg.RuntimeRoot} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return nil, err
		}
		*p = abs
	}
	if cfg.Stdin == nil {
		cfg.Stdin = os.Stdin
	}
	if cfg.Stdout == nil {
		cfg.Stdout = os.Stdout
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &App{cfg: cfg, log: log, store: &store{root: cfg.DataRoot}}, nil
}

// DefaultDataRoot is /var/lib/unha for root (Docker's /var/lib/docker) and
// $XDG_DATA_HOME/unha (~/.local/share/unha) for anyone else.
func DefaultDataRoot() (string, error) {
	if os.Geteuid() == 0 {
		return "/var/lib/unha", nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "unha"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("data root: %w", err)
	}
	return filepath.Join(home, ".local", "share", "unha"), nil
}

// DefaultRuntimeRoot is the runtime state directory unha passes as --root:
// /run/unha/runtime for root, so unha's containers never mix with those of
// the runtime's own default root (/run/unha-runtime, /run/runc).
func DefaultRuntimeRoot() (string, error) {
	if os.Geteuid() == 0 {
		return "/run/unha/runtime", nil
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "unha", "runtime"), nil
	}
	return "", errors.New("runtime root: XDG_RUNTIME_DIR is not set; use --runtime-root")
}

// DefaultRuntime finds unha-runtime in the directory of the running
// executable (an installed pair, or a build directory), then in PATH.
func DefaultRuntime() (string, error) {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), RuntimeName)
		if isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath(RuntimeName); err == nil {
		return filepath.Abs(p)
	}
	return "", fmt.Errorf("no OCI runtime: %s is neither next to unha nor in PATH; use --runtime PATH", RuntimeName)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// resolveRuntime checks the configured runtime once per command.
func (a *App) resolveRuntime() (string, error) {
	p := a.cfg.Runtime
	if p == "" {
		return DefaultRuntime()
	}
	if !strings.Contains(p, "/") {
		found, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("runtime %s: %w", p, err)
		}
		p = found
	}
	if !isExecutable(p) {
		return "", fmt.Errorf("runtime %s: not an executable file", p)
	}
	return filepath.Abs(p)
}

// runtime is the ociexec client for one container; its log lives in the
// container's bundle, so error messages survive for `unha ps -a` debugging
// until the container is removed.
func (a *App) runtime(path, bundle string) *ociexec.Runtime {
	r := &ociexec.Runtime{Path: path, Root: a.cfg.RuntimeRoot, Debug: a.cfg.RuntimeDebug, Logger: a.log}
	if bundle != "" {
		r.Log = filepath.Join(bundle, "runtime.log")
		r.LogFormat = "json"
	}
	return r
}
