package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/unha/unha/internal/app"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// engine is what the commands need of internal/app; tests substitute a
// recorder to check the options a command line produces.
type engine interface {
	Run(ctx context.Context, o app.RunOptions) (int, error)
	List(ctx context.Context, w io.Writer, all bool) error
	Remove(ctx context.Context, w io.Writer, refs []string, force bool) error
}

type cli struct {
	cfg       app.Config
	debug     bool
	newEngine func(app.Config) (engine, error)
	code      int // the container's exit status, for `run`
}

func main() {
	c := &cli{newEngine: func(cfg app.Config) (engine, error) { return app.New(cfg) }}
	os.Exit(c.main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// main runs one command line and returns the process's exit status.
func (c *cli) main(args []string, stdin, stdout, stderr *os.File) int {
	c.cfg.Stdin, c.cfg.Stdout, c.cfg.Stderr = stdin, stdout, stderr
	root := c.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		fmt.Fprintf(stderr, "unha: %s\n", err)
		return exitCode(err)
	}
	return c.code
}

// exitCode maps unha's failures to Docker's codes.
func exitCode(err error) int {
	var oom *app.OOMError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &oom):
		// The container ran; the OOM kill is reported beside its status.
		return oom.Status
	case errors.Is(err, app.ErrCommandNotFound):
		return 127
	case errors.Is(err, app.ErrCommandNotExecutable):
		return 126
	}
	return 125
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "unha",
		Short:         "Run containers with an OCI runtime",
		Version:       versionString(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// Without this cobra adds a `completion` command nobody asked for.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			level := slog.LevelWarn
			if c.debug {
				level = slog.LevelDebug
			}
			c.cfg.Logger = slog.New(slog.NewTextHandler(c.cfg.Stderr, &slog.HandlerOptions{
				Level: level,
				ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey && len(groups) == 0 {
						return slog.Attr{}
					}
					return a
				},
			}))
			c.cfg.RuntimeDebug = c.debug
			return nil
		},
	}
	root.SetVersionTemplate("unha version {{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	pf := root.PersistentFlags()
	pf.StringVar(&c.cfg.DataRoot, "data-root", "", "directory of unha's containers (default /var/lib/unha, or $XDG_DATA_HOME/unha)")
	pf.StringVar(&c.cfg.RuntimeRoot, "runtime-root", "", "state directory passed to the runtime as --root (default /run/unha/runtime)")
	pf.StringVar(&c.cfg.Runtime, "runtime", "", "OCI runtime binary (default unha-runtime next to unha, else in PATH)")
	pf.BoolVar(&c.debug, "debug", false, "log debug messages, and run the runtime with --debug")
	root.AddCommand(c.runCommand(), c.psCommand(), c.rmCommand())
	return root
}

// usageError is a command line mistake, worded as Docker does: the
// problem, then a pointer at the help.
type usageError struct {
	err  error
	path string // "unha run"
}

func (e *usageError) Error() string { return fmt.Sprintf("%s\nSee '%s --help'.", e.err, e.path) }
func (e *usageError) Unwrap() error { return e.err }

func flagError(cmd *cobra.Command, err error) error {
	return &usageError{err: err, path: cmd.CommandPath()}
}

func versionString() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 7 {
				v += ", build " + s.Value[:7]
			}
		}
	}
	return v
}

func (c *cli) engine() (engine, error) { return c.newEngine(c.cfg) }

func (c *cli) psCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "ps [-a]",
		Short: "List containers",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := c.engine()
			if err != nil {
				return err
			}
			return e.List(cmd.Context(), c.cfg.Stdout, all)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "show all containers (default shows just running)")
	return cmd
}

func (c *cli) rmCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rm [-f] CONTAINER...",
		Short: "Remove containers",
		Args:  minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := c.engine()
			if err != nil {
				return err
			}
			return e.Remove(cmd.Context(), c.cfg.Stdout, args, force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "kill and remove a running container")
	return cmd
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{err: fmt.Errorf("%q accepts no arguments", cmd.CommandPath()), path: cmd.CommandPath()}
	}
	return nil
}

func minArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			err := fmt.Errorf("%q requires at least %d argument%s", cmd.CommandPath(), n, strings.Repeat("s", min(n-1, 1)))
			return &usageError{err: err, path: cmd.CommandPath()}
		}
		return nil
	}
}
