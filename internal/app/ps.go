package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/ociexec"
)

// status is a container's state as `unha ps` shows it.
func (a *App) status(ctx context.Context, rt *ociexec.Runtime, c *Container, now time.Time) (running bool, text string) {
	if c.ExitCode != nil {
		return false, fmt.Sprintf("Exited (%d) %s ago", *c.ExitCode, humanDuration(now.Sub(*c.Finished)))
	}
	if rt != nil {
		st, err := rt.State(ctx, c.ID)
		switch {
		case err == nil && st.Status == specs.StateRunning && c.Started != nil:
			return true, "Up " + humanDuration(now.Sub(*c.Started))
		case err == nil && st.Status == specs.StateRunning:
			return true, "Up"
		case err == nil && st.Status == "paused":
			return true, "Up (Paused)"
		case err == nil && st.Status == specs.StateCreated:
			return false, "Created"
		case err == nil && st.Status == specs.StateStopped:
			return false, "Exited"
		case err != nil && !errors.Is(err, ociexec.ErrNotExist):
			return false, "Unknown"
		}
	}
	if c.Started != nil {
		// Started, never recorded an exit, unknown to the runtime: the
		// unha that ran it died.
		return false, "Exited (unknown)"
	}
	return false, "Created"
}

// List writes Docker's `ps` table: running containers, or all with all.
func (a *App) List(ctx context.Context, w io.Writer, all bool) error {
	cs, err := a.store.list()
	if err != nil {
		return err
	}
	var rt *ociexec.Runtime
	if p, err := a.resolveRuntime(); err == nil {
		rt = a.runtime(p, "")
	}
	now := time.Now()
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tNAMES")
	for _, c := range cs {
		sctx, cancel := context.WithTimeout(ctx, controlTimeout)
		running, st := a.status(sctx, rt, c, now)
		cancel()
		if !running && !all {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s ago\t%s\t%s\n", c.ShortID(), c.Image, quoteCommand(c.Command),
			humanDuration(now.Sub(c.Created)), st, c.Name)
	}
	return tw.Flush()
}

// quoteCommand is Docker's COMMAND column: quoted, cut at 20 characters.
func quoteCommand(args []string) string {
	s := []rune(strings.Join(args, " "))
	if len(s) > 20 {
		s = append(s[:19], '…')
	}
	return `"` + string(s) + `"`
}

// humanDuration is Docker's (go-units HumanDuration) wording.
func humanDuration(d time.Duration) string {
	switch s := int(d.Seconds()); {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	}
	switch m := int(d.Minutes()); {
	case m == 1:
		return "About a minute"
	case m < 60:
		return fmt.Sprintf("%d minutes", m)
	}
	switch h := int(d.Round(time.Hour).Hours()); {
	case h == 1:
		return "About an hour"
	case h < 48:
		return fmt.Sprintf("%d hours", h)
	case h < 24*7*2:
		return fmt.Sprintf("%d days", h/24)
	case h < 24*30*2:
		return fmt.Sprintf("%d weeks", h/24/7)
	case h < 24*365*2:
		return fmt.Sprintf("%d months", h/24/30)
	default:
		return fmt.Sprintf("%d years", h/24/365)
	}
}

// Remove removes containers by name or ID (prefix), writing each name
// given as it goes, like `docker rm`. A running container needs force,
// which kills it first.
func (a *App) Remove(ctx context.Context, w io.Writer, refs []string, force bool) error {
	var errs []error
	for _, ref := range refs {
		if err := a.removeOne(ctx, ref, force); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(w, ref)
	}
	return errors.Join(errs...)
}

func (a *App) removeOne(ctx context.Context, ref string, force bool) error {
	c, err := a.store.lookup(ref)
	if err != nil {
		return err
	}
	if p, err := a.resolveRuntime(); err == nil {
		rt := a.runtime(p, "")
		cctx, cancel := context.WithTimeout(ctx, controlTimeout)
		defer cancel()
		st, err := rt.State(cctx, c.ID)
		switch {
		case errors.Is(err, ociexec.ErrNotExist):
		case err != nil:
			return wrapRuntime("state of container "+c.ShortID(), err)
		case st.Status != specs.StateStopped && !force:
			return fmt.Errorf("cannot remove container %q: container is %s: stop the container before removing or force remove", ref, st.Status)
		default:
			if st.Status != specs.StateStopped {
				if err := rt.Kill(cctx, c.ID, 9, true); err != nil && !errors.Is(err, ociexec.ErrNotRunning) {
					return wrapRuntime("kill container "+c.ShortID(), err)
				}
			}
			if err := rt.Delete(cctx, c.ID, true); err != nil && !errors.Is(err, ociexec.ErrNotExist) {
				return wrapRuntime("delete container "+c.ShortID(), err)
			}
		}
	} else if c.ExitCode == nil && !force {
		// Without a runtime nobody can tell whether it still runs.
		return fmt.Errorf("cannot remove container %q: %w (use --force)", ref, err)
	}
	return a.store.remove(c)
}
