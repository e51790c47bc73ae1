package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/unha/unha/internal/runtime"
)

func addCreateFlags(cmd *cobra.Command, o *runtime.CreateOpts) {
	f := cmd.Flags()
	f.StringVarP(&o.Bundle, "bundle", "b", ".", "path to the root of the bundle directory")
	f.StringVar(&o.ConsoleSocket, "console-socket", "", "path to an AF_UNIX socket which will receive the pty master")
	f.StringVar(&o.PidFile, "pid-file", "", "file to write the process id to")
	f.BoolVar(&o.NoPivot, "no-pivot", false, "do not use pivot_root to jail the process inside the rootfs")
	f.BoolVar(&o.NoNewKeyring, "no-new-keyring", false, "do not create a new session keyring for the container")
	f.IntVar(&o.PreserveFds, "preserve-fds", 0, "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)")
}

func createCmd(g *globals) *cobra.Command {
	var o runtime.CreateOpts
	cmd := &cobra.Command{
		Use:   "create [flags] <container-id>",
		Short: "create a container",
		Args:  exactArgs(1, "container id"),
		RunE: func(_ *cobra.Command, args []string) error {
			o.ID = args[0]
			_, err := g.runtime().Create(o)
			return err
		},
	}
	addCreateFlags(cmd, &o)
	return cmd
}

func runCmd(g *globals) *cobra.Command {
	var o runtime.CreateOpts
	var detach, keep bool
	cmd := &cobra.Command{
		Use:   "run [flags] <container-id>",
		Short: "create and run a container",
		Args:  exactArgs(1, "container id"),
		RunE: func(_ *cobra.Command, args []string) error {
			o.ID = args[0]
			if keep && detach {
				return fmt.Errorf("--keep and --detach cannot be used together: %w", runtime.ErrInvalid)
			}
			status, err := g.runtime().Run(o, detach, keep)
			if err != nil {
				return err
			}
			if status != 0 {
				return exitError{status}
			}
			return nil
		},
	}
	addCreateFlags(cmd, &o)
	cmd.Flags().BoolVarP(&detach, "detach", "d", false, "detach from the container's process")
	cmd.Flags().BoolVar(&keep, "keep", false, "do not delete the container after it exits")
	return cmd
}

func startCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "start <container-id>",
		Short: "start the user process of a created container",
		Args:  exactArgs(1, "container id"),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.runtime().Start(args[0])
		},
	}
}

// stateJSON is what `state` prints: the OCI state plus runc's extras.
type stateJSON struct {
	Version     string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

func toJSON(st *runtime.State) stateJSON {
	return stateJSON{
		Version: st.Version, ID: st.ID, Pid: st.Pid, Status: string(st.Status), Bundle: st.Bundle,
		Rootfs: st.Rootfs, Created: st.Created, Annotations: st.Annotations, Owner: st.Owner,
	}
}

func stateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "state <container-id>",
		Short: "output the state of a container",
		Args:  exactArgs(1, "container id"),
		RunE: func(_ *cobra.Command, args []string) error {
			st, err := g.runtime().Status(args[0])
			if err != nil {
				return err
			}
			b, err := json.MarshalIndent(toJSON(st), "", "  ")
			if err != nil {
				return err
			}
			fmt.Println(string(b))
			return nil
		},
	}
}

func killCmd(g *globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "kill [flags] <container-id> [signal]",
		Short: "send a signal to the container's init process (default SIGTERM)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return fmt.Errorf("kill: requires 1 or 2 arguments: container id and optional signal: %w", runtime.ErrInvalid)
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			sigName := "SIGTERM"
			if len(args) == 2 {
				sigName = args[1]
			}
			sig, err := runtime.ParseSignal(sigName)
			if err != nil {
				return err
			}
			return g.runtime().Kill(args[0], sig, all)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "send the signal to all processes in the container")
	return cmd
}

func deleteCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "delete [flags] <container-id>",
		Short: "delete a container and everything it holds",
		Args:  exactArgs(1, "container id"),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.runtime().Delete(args[0], force)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "kill the container first if it is still running")
	return cmd
}

func listCmd(g *globals) *cobra.Command {
	var format string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "list [flags]",
		Short: "list containers",
		Args:  exactArgs(0, "none"),
		RunE: func(_ *cobra.Command, _ []string) error {
			sts, err := g.runtime().List()
			if err != nil {
				return err
			}
			if quiet {
				for _, st := range sts {
					fmt.Println(st.ID)
				}
				return nil
			}
			switch format {
			case "json":
				out := make([]stateJSON, 0, len(sts))
				for _, st := range sts {
					out = append(out, toJSON(st))
				}
				return json.NewEncoder(os.Stdout).Encode(out)
			case "table":
				w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
				fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
				for _, st := range sts {
					fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", st.ID, st.Pid, st.Status, st.Bundle,
						st.Created.Format(time.RFC3339Nano), st.Owner)
				}
				return w.Flush()
			}
			return fmt.Errorf("invalid format %q: %w", format, runtime.ErrInvalid)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "display only container IDs")
	return cmd
}
