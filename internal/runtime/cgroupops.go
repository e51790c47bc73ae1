package runtime

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/cgroups"
)

// liveCgroup opens a container that has not stopped, locked, with its
// cgroup; errNoCgroup (with st and the lock) when it has none (rootless).
func (r *Runtime) liveCgroup(id string, exclusive bool) (*State, cgroups.Manager, *Lock, error) {
	st, l, err := r.Store.Open(id, exclusive)
	if err != nil {
		return nil, nil, nil, err
	}
	r.refresh(st)
	if st.Status == specs.StateStopped || st.Status == specs.StateCreating {
		l.Unlock()
		return nil, nil, nil, ErrNotRunning
	}
	cg, err := r.loadCgroup(st)
	if err != nil && !errors.Is(err, errNoCgroup) {
		l.Unlock()
		return nil, nil, nil, err
	}
	return st, cg, l, err
}

// Pause freezes every process of a running container.
func (r *Runtime) Pause(id string) error {
	st, cg, l, err := r.liveCgroup(id, true)
	if err != nil {
		if l != nil {
			l.Unlock()
		}
		return err
	}
	defer l.Unlock()
	if st.Status == "paused" {
		return errors.New("container already paused")
	}
	return cg.Freeze()
}

// Resume thaws a paused container.
func (r *Runtime) Resume(id string) error {
	st, cg, l, err := r.liveCgroup(id, true)
	if err != nil {
		if l != nil {
			l.Unlock()
		}
		if errors.Is(err, ErrNotRunning) {
			return errors.New("container not paused")
		}
		return err
	}
	defer l.Unlock()
	if st.Status != "paused" {
		return errors.New("container not paused")
	}
	return cg.Thaw()
}

// Pids lists the host pids of every process in the container's cgroup.
func (r *Runtime) Pids(id string) ([]int, error) {
	st, cg, l, err := r.liveCgroup(id, false)
	if l != nil {
		defer l.Unlock()
	}
	if errors.Is(err, errNoCgroup) {
		return nsPids(st)
	}
	if err != nil {
		return nil, err
	}
	return cg.Pids()
}

// Update changes a live container's resources and records them, so that
// a later update's defaults and `state` see the new values.
func (r *Runtime) Update(id string, res *specs.LinuxResources) error {
	st, cg, l, err := r.liveCgroup(id, true)
	if l != nil {
		defer l.Unlock()
	}
	if err != nil {
		return err
	}
	if err := cg.Set(res); err != nil {
		return err
	}
	if st.Config.Linux.Resources == nil {
		st.Config.Linux.Resources = &specs.LinuxResources{}
	}
	mergeResources(st.Config.Linux.Resources, res)
	// Status is derived on every read; the stored one stays "created".
	st.Status = specs.StateCreated
	return r.Store.Save(st)
}

// Event is one line of `events`, in runc's shape (containerd decodes it).
type Event struct {
	Type string         `json:"type"`
	ID   string         `json:"id"`
	Data *cgroups.Stats `json:"data,omitempty"`
}

// Stats returns one stats event.
func (r *Runtime) Stats(id string) (*Event, error) {
	_, cg, l, err := r.liveCgroup(id, false)
	if l != nil {
		defer l.Unlock()
	}
	if err != nil {
		return nil, err
	}
	s, err := cg.Stats()
	if err != nil {
		return nil, err
	}
	return &Event{Type: "stats", ID: id, Data: s}, nil
}

// Events streams stats every interval and an "oom" event whenever the
// kernel OOM-kills in the container, until the container stops or ctx ends.
func (r *Runtime) Events(ctx context.Context, id string, interval time.Duration, emit func(*Event) error) error {
	st, err := r.Get(id)
	if err != nil {
		return err
	}
	if st.Status == specs.StateStopped {
		return ErrNotRunning
	}
	cg, err := r.loadCgroup(st)
	if err != nil {
		return err
	}
	debug.SetGCPercent(100) // a stream runs for as long as the container
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ooms, err := cg.OOMEvents(ctx)
	if err != nil {
		return fmt.Errorf("watch oom events: %w", err)
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-ooms:
			if !ok {
				ooms = nil
				continue
			}
			if err := emit(&Event{Type: "oom", ID: id}); err != nil {
				return err
			}
		case <-tick.C:
			if !alive(st.Pid, st.InitStart) {
				return nil
			}
			s, err := cg.Stats()
			if err != nil {
				continue
			}
			if err := emit(&Event{Type: "stats", ID: id, Data: s}); err != nil {
				return err
			}
		}
	}
}

// mergeResources copies the fields update set into the recorded config.
func mergeResources(dst, src *specs.LinuxResources) {
	if src.Memory != nil {
		if dst.Memory == nil {
			dst.Memory = &specs.LinuxMemory{}
		}
		m, s := dst.Memory, src.Memory
		setIf(&m.Limit, s.Limit)
		setIf(&m.Reservation, s.Reservation)
		setIf(&m.Swap, s.Swap)
		//lint:ignore SA1019 runc's update still takes --kernel-memory: recorded as given
		setIf(&m.Kernel, s.Kernel)
		setIf(&m.KernelTCP, s.KernelTCP)
		setIf(&m.Swappiness, s.Swappiness)
		setIf(&m.DisableOOMKiller, s.DisableOOMKiller)
		setIf(&m.UseHierarchy, s.UseHierarchy)
		setIf(&m.CheckBeforeUpdate, s.CheckBeforeUpdate)
	}
	if src.CPU != nil {
		if dst.CPU == nil {
			dst.CPU = &specs.LinuxCPU{}
		}
		c, s := dst.CPU, src.CPU
		setIf(&c.Shares, s.Shares)
		setIf(&c.Quota, s.Quota)
		setIf(&c.Burst, s.Burst)
		setIf(&c.Period, s.Period)
		setIf(&c.RealtimeRuntime, s.RealtimeRuntime)
		setIf(&c.RealtimePeriod, s.RealtimePeriod)
		setIf(&c.Idle, s.Idle)
		if s.Cpus != "" {
			c.Cpus = s.Cpus
		}
		if s.Mems != "" {
			c.Mems = s.Mems
		}
	}
	if src.Pids != nil {
		dst.Pids = src.Pids
	}
	if src.BlockIO != nil {
		dst.BlockIO = src.BlockIO
	}
	if len(src.HugepageLimits) > 0 {
		dst.HugepageLimits = src.HugepageLimits
	}
	if len(src.Unified) > 0 {
		if dst.Unified == nil {
			dst.Unified = map[string]string{}
		}
		for k, v := range src.Unified {
			dst.Unified[k] = v
		}
	}
}

func setIf[T any](dst **T, src *T) {
	if src != nil {
		v := *src
		*dst = &v
	}
}
