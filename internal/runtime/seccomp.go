package runtime

import (
	"errors"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/seccomp"
)

// sendSeccompFd hands the notify fd that init passed back to the agent at
// the profile's listenerPath, with the container state the spec asks for.
func (r *Runtime) sendSeccompFd(st *State, f *os.File) error {
	if f == nil {
		return errors.New("init sent no seccomp fd")
	}
	sc := st.Config.Linux.Seccomp
	if sc == nil || sc.ListenerPath == "" {
		// No agent: the notifying syscalls get ENOSYS once the fd closes.
		return nil
	}
	state := specs.ContainerProcessState{
		Pid:      st.Pid,
		Metadata: sc.ListenerMetadata,
		State:    st.State,
	}
	state.State.Status = specs.StateCreating
	return seccomp.SendNotifyFd(sc.ListenerPath, int(f.Fd()), &state)
}
