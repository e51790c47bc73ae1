package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/unha/unha/internal/runtime"
)

func addCreateFlags(f *flagSet, o *runtime.CreateOpts) {
	f.String(&o.Bundle, "bundle", "b", ".", "path to the root of the bundle directory")
	f.String(&o.ConsoleSocket, "console-socket", "", "", "path to an AF_UNIX socket which will receive the pty master")
	f.String(&o.PidFile, "pid-file", "", "", "file to write the process id to")
	f.Bool(&o.NoPivot, "no-pivot", "", false, "do not use pivot_root to jail the process inside the rootfs")
	f.Bool(&o.NoNewKeyring, "no-new-keyring", "", false, "do not create a new session keyring for the container")
	f.Int(&o.PreserveFds, "preserve-fds", "", 0, "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)")
}

func createCmd(g *globals) *command {
	var o runtime.CreateOpts
	c := newCommand("create", "[flags] <container-id>", "create a container")
	c.args = exactArgs(1, "container id")
	c.run = func(args []string) error {
		o.ID = args[0]
		_, err := g.runtime().Create(o)
		return err
	}
	addCreateFlags(c.flags, &o)
	return c
}

func runCmd(g *globals) *command {
	var o runtime.CreateOpts
	var detach, keep bool
	c := newCommand("run", "[flags] <container-id>", "create and run a container")
	c.args = exactArgs(1, "container id")
	c.run = func(args []string) error {
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
	}
	addCreateFlags(c.flags, &o)
	c.flags.Bool(&detach, "detach", "d", false, "detach from the container's process")
	c.flags.Bool(&keep, "keep", "", false, "do not delete the container after it exits")
	return c
}

func startCmd(g *globals) *command {
	c := newCommand("start", "<container-id>", "start the user process of a created container")
	c.args = exactArgs(1, "container id")
	c.run = func(args []string) error { return g.runtime().Start(args[0]) }
	return c
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

func stateCmd(g *globals) *command {
	c := newCommand("state", "<container-id>", "output the state of a container")
	c.args = exactArgs(1, "container id")
	c.run = func(args []string) error {
		st, err := g.runtime().Get(args[0])
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(toJSON(st), "", "  ")
		if err != nil {
			return err
		}
		fmt.Println(string(b))
		return nil
	}
	return c
}

func killCmd(g *globals) *command {
	var all bool
	c := newCommand("kill", "[flags] <container-id> [signal]", "send a signal to the container's init process (default SIGTERM)")
	c.args = func(_ string, args []string) error {
		if len(args) < 1 || len(args) > 2 {
			return fmt.Errorf("kill: requires 1 or 2 arguments: container id and optional signal: %w", runtime.ErrInvalid)
		}
		return nil
	}
	c.run = func(args []string) error {
		sigName := "SIGTERM"
		if len(args) == 2 {
			sigName = args[1]
		}
		sig, err := runtime.ParseSignal(sigName)
		if err != nil {
			return err
		}
		return g.runtime().Kill(args[0], sig, all)
	}
	c.flags.Bool(&all, "all", "a", false, "send the signal to all processes in the container")
	return c
}

func deleteCmd(g *globals) *command {
	var force bool
	c := newCommand("delete", "[flags] <container-id>", "delete a container and everything it holds")
	c.args = exactArgs(1, "container id")
	c.run = func(args []string) error { return g.runtime().Delete(args[0], force) }
	c.flags.Bool(&force, "force", "f", false, "kill the container first if it is still running")
	return c
}

func listCmd(g *globals) *command {
	var format string
	var quiet bool
	c := newCommand("list", "[flags]", "list containers")
	c.args = exactArgs(0, "none")
	c.run = func([]string) error {
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
	}
	c.flags.String(&format, "format", "f", "table", "table or json")
	c.flags.Bool(&quiet, "quiet", "q", false, "display only container IDs")
	return c
}
