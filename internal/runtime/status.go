package runtime

import (
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/cgroups"
)

// refresh computes the live status: the stored one says only how far
// create got; the process and the exec fifo say the rest.
func (r *Runtime) refresh(st *State) {
	if st.Status == specs.StateCreating {
		// create is still running (it holds the lock we would need), or
		// died half way: either way, there is nothing to start.
		return
	}
	if !alive(st.Pid, st.InitStart) {
		st.Status = specs.StateStopped
		st.Pid = 0
		return
	}
	if _, err := os.Lstat(filepath.Join(r.Store.dir(st.ID), fifoName)); err == nil {
		st.Status = specs.StateCreated
		return
	}
	st.Status = specs.StateRunning
	if cg, err := r.loadCgroup(st); err == nil {
		if p, err := cg.Paused(); err == nil && p {
			st.Status = "paused"
		}
	}
}

func (r *Runtime) loadCgroup(st *State) (cgroups.Manager, error) {
	if len(st.CgroupPaths) == 0 {
		return nil, errNoCgroup
	}
	o := r.cgroupOpts()
	o.Created = st.CgroupCreated
	return cgroups.Load(st.CgroupPaths, o)
}

// Get returns a container's current state.
func (r *Runtime) Get(id string) (*State, error) {
	st, l, err := r.Store.Open(id, false)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	r.refresh(st)
	return st, nil
}

// List returns the state of every container under the root.
func (r *Runtime) List() ([]*State, error) {
	ids, err := r.Store.List()
	if err != nil {
		return nil, err
	}
	var out []*State
	for _, id := range ids {
		st, err := r.Get(id)
		if err != nil {
			continue
		}
		out = append(out, st)
	}
	return out, nil
}
