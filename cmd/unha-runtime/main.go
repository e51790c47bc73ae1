// Command unha-runtime is an OCI runtime with runc's command line: the
// low-level half of unha, driven by containerd, podman, Docker or `unha`.
//
// Its command line is parsed with the standard flag package and a small
// dispatcher (cli.go), not cobra: cobra imports text/template, whose
// reflect MethodByName call makes the linker keep every exported method of
// every reachable type: with that one call removed the binary went from
// 6.36 to 5.34 MB, and the runtime is exec'd twice per container with a
// peak RSS of about its binary size (the kernel maps large page-cache
// folios whole). runc's
// own CLI, urfave/cli v1, is built on the flag package too, so its syntax
// is runc's: one or two dashes, -flag value or -flag=value, "--" ends the
// flags.
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
	err := newApp(g, os.Stdout).run(os.Args[1:])
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
