// Command unha-runtime is an OCI runtime with runc's command line: the
// low-level half of unha, driven by containerd, podman, Docker or `unha`.
package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/unha/unha/internal/initproc"
	_ "github.com/unha/unha/internal/nsenter"
	"github.com/unha/unha/internal/runtime"
)

func init() {
	// Init's per-thread kernel state (capabilities, no_new_privs, cgroup
	// and time namespaces) must belong to the thread that calls execve:
	// lock the main goroutine to the main thread before main runs.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		goruntime.LockOSThread()
	}
	// Every verb but the waiting ones lives a few milliseconds and
	// allocates a few hundred KiB: a garbage collection would cost more
	// than it frees. Those that wait (run, exec in the foreground, events)
	// turn it back on once they start waiting.
	debug.SetGCPercent(-1)
}

type globals struct {
	root          string
	logPath       string
	logFormat     string
	debug         bool
	systemdCgroup bool
	rootless      string
	logFile       *os.File
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		initproc.Main()
		return
	}
	g := &globals{}
	root := newRoot(g)
	err := root.Execute()
	if g.logFile != nil {
		defer g.logFile.Close()
	}
	if err != nil {
		var ex exitError
		if errors.As(err, &ex) {
			os.Exit(ex.code)
		}
		report(g, err)
		os.Exit(1)
	}
}

// exitError carries a container's exit status out of `run`.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// report prints the error on stderr, one line, and into --log if given
// (containerd's shim reads the last "error" record from there).
func report(g *globals, err error) {
	msg := strings.TrimSpace(err.Error())
	fmt.Fprintln(os.Stderr, "unha-runtime: "+msg)
	if g.logFile != nil {
		newLogger(g.logFile, g.logFormat, slog.LevelError).Error(msg)
	}
}

func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{
		Level: level,
		// The shim compares level == "error": slog's default is "ERROR".
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.LevelKey {
				a.Value = slog.StringValue(strings.ToLower(a.Value.String()))
			}
			return a
		},
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "unha-runtime",
		Short:         "an OCI container runtime built by hand",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return g.setup()
		},
	}
	root.SetVersionTemplate(versionText())
	pf := root.PersistentFlags()
	pf.StringVar(&g.root, "root", runtime.DefaultRoot(), "root directory for storage of container state")
	pf.StringVar(&g.logPath, "log", "", "log file path (default: stderr)")
	pf.StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	pf.BoolVar(&g.debug, "debug", false, "enable debug logging")
	pf.BoolVar(&g.systemdCgroup, "systemd-cgroup", false, "use the systemd cgroup driver")
	pf.StringVar(&g.rootless, "rootless", "auto", "rootless mode: true, false or auto")
	root.AddCommand(
		createCmd(g), startCmd(g), stateCmd(g), killCmd(g), deleteCmd(g), runCmd(g),
		listCmd(g), specCmd(), featuresCmd(), execCmd(g),
		pauseCmd(g), resumeCmd(g), psCmd(g), eventsCmd(g), updateCmd(g),
	)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%w: %w", err, runtime.ErrInvalid)
	})
	return root
}

func (g *globals) setup() error {
	switch g.logFormat {
	case "text", "json":
	default:
		return fmt.Errorf("invalid log format %q: %w", g.logFormat, runtime.ErrInvalid)
	}
	if _, err := runtime.RootlessMode(g.rootless); err != nil {
		return err
	}
	if g.logPath != "" {
		f, err := os.OpenFile(g.logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("open log file: %w", err)
		}
		g.logFile = f
	}
	return nil
}

// runtime builds the lifecycle object. Warnings go to stderr; into a --log
// file only errors go at the default level (podman parses the whole file
// as one JSON object), everything with --debug.
func (g *globals) runtime() *runtime.Runtime {
	level := slog.LevelWarn
	var w io.Writer = os.Stderr
	if g.logFile != nil {
		w = g.logFile
		level = slog.LevelError
	}
	if g.debug {
		level = slog.LevelDebug
	}
	// setup has validated the flag.
	rootless, _ := runtime.RootlessMode(g.rootless)
	return &runtime.Runtime{
		Store:         runtime.Store{Root: g.root},
		Log:           newLogger(w, g.logFormat, level),
		SystemdCgroup: g.systemdCgroup,
		LogLevel:      strings.ToLower(level.String()),
		Rootless:      rootless,
	}
}

// exactArgs is cobra.ExactArgs with runc's wording.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s: %q requires exactly %d argument(s): %s: %w", cmd.Name(), cmd.Name(), n, what, runtime.ErrInvalid)
		}
		return nil
	}
}
