package runtime

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/cgroups"
	"github.com/unha/unha/internal/hooks"
)

// Delete removes a stopped (or, with force, any) container: every process
// in its cgroup, the cgroup, the state dir; then the poststop hooks. A
// created container is deleted without force, as runc does: its user
// process never ran.
func (r *Runtime) Delete(id string, force bool) error {
	st, l, err := r.Store.Open(id, true)
	if err != nil {
		if errors.Is(err, ErrNotExist) && force {
			return nil
		}
		return err
	}
	defer l.Unlock()
	r.refresh(st)
	switch st.Status {
	case specs.StateStopped:
	case specs.StateCreated, specs.StateCreating:
		// creating: a create that died half way (the lock is ours, so no
		// create is running): kill what it left.
		if err := r.killAll(st); err != nil {
			return err
		}
	default:
		if !force {
			return fmt.Errorf("cannot delete container %s that is not stopped: %s", id, st.Status)
		}
		if err := r.killAll(st); err != nil {
			return err
		}
	}
	return r.destroy(st, nil)
}

// deleteAfterRun is Delete(id, true) for the container Run created and has
// reaped: the state and the cgroup it has need not be read back.
func (r *Runtime) deleteAfterRun(c *Created) error {
	st := c.State
	l, err := lockDir(r.Store.dir(st.ID), unix.LOCK_EX)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted meanwhile
		}
		return err
	}
	defer l.Unlock()
	r.refresh(st)
	if st.Status != specs.StateStopped {
		if err := r.killAll(st); err != nil {
			return err
		}
	}
	return r.destroy(st, c.cg)
}

// killAll SIGKILLs init and everything else in the cgroup and waits for
// init to be gone. A paused container is thawed after the signal so its
// processes can die.
func (r *Runtime) killAll(st *State) error {
	if cg, err := r.loadCgroup(st); err == nil {
		if err := cg.Signal(unix.SIGKILL); err != nil {
			r.Log.Warn("kill cgroup", "err", err)
		}
		_ = cg.Thaw()
	}
	if st.Pid > 0 {
		if err := signalProcess(st.Pid, st.InitStart, unix.SIGKILL); err != nil && !errors.Is(err, ErrNotRunning) {
			return err
		}
		if err := waitGone(st.Pid, st.InitStart, waitKillTimeout); err != nil {
			return err
		}
	}
	return nil
}

// destroy removes the cgroup (cg, or the one st records) and the state.
func (r *Runtime) destroy(st *State, cg cgroups.Manager) error {
	if len(st.CgroupPaths) > 0 {
		if cg == nil {
			var err error
			if cg, err = r.loadCgroup(st); err != nil {
				return err
			}
		}
		// Most often nothing is left: init is reaped, and with it, in a
		// pid namespace of its own, every other process.
		if !cg.RemoveIfEmpty() {
			// Without a pid namespace of its own, the container's other
			// processes outlive its init: they are still in the cgroup.
			if pids, _ := cg.Pids(); len(pids) > 0 {
				_ = cg.Signal(unix.SIGKILL)
			}
			if err := cg.Destroy(); err != nil {
				return fmt.Errorf("remove cgroup: %w", err)
			}
		}
	}
	if err := r.Store.Remove(st.ID); err != nil {
		return fmt.Errorf("remove state: %w", err)
	}
	if hs := st.hooks(); hs != nil && len(hs.Poststop) > 0 {
		state := st.State
		state.Status = specs.StateStopped
		// runtime-spec: a failing poststop hook is a warning, and the
		// remaining hooks still run.
		for _, h := range hs.Poststop {
			if err := hooks.Run(context.Background(), []specs.Hook{h}, &state); err != nil {
				r.Log.Warn("poststop hook failed", "err", err)
			}
		}
	}
	return nil
}
