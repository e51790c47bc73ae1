package runtime

import (
	"errors"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/seccomp"
)

// sendSeccompFd hands the notify fd that process pid (init, or an exec'd
// process) passed back to the agent at the profile's listenerPath, with the
// container process state the spec asks for. As runc does, the state's pid
// is the process the fd filters, so an agent can tell an exec's fd from
// init's, while state.pid stays the container's; the status is "creating"
// for init and the container's own (running) for an exec.
func (r *Runtime) sendSeccompFd(st *State, f *os.File, pid int) error {
	if f == nil {
		return errors.New("init sent no seccomp fd")
	}
	sc := st.Config.Linux.Seccomp
	if sc == nil || sc.ListenerPath == "" {
		// No agent: the notifying syscalls get ENOSYS once the fd closes.
		return nil
	}
	state := specs.ContainerProcessState{
		Pid:      pid,
		Metadata: sc.ListenerMetadata,
		State:    st.State,
	}
	if pid == st.Pid {
		state.State.Status = specs.StateCreating
	}
	return seccomp.SendNotifyFd(sc.ListenerPath, int(f.Fd()), &state)
}

type compileResult struct {
	prog *seccomp.Program
	err  error
}

// compileAsync compiles f in the background, while create goes on; a nil
// filter (no profile, or an empty one) gives a nil program. Our compiler
// takes ~1.2 ms for Docker's profile (libseccomp took ~28 ms), so compiled
// programs are no longer cached: with a cache (a hash of the filter, a file
// read, a decode) run with Docker's profile took as long, and the cache was
// one more thing trusted from disk.
func (r *Runtime) compileAsync(f *seccomp.Filter) <-chan compileResult {
	ch := make(chan compileResult, 1)
	if f == nil {
		ch <- compileResult{}
		return ch
	}
	go func() {
		p, err := f.Compile(r.Log)
		ch <- compileResult{p, err}
	}()
	return ch
}
