package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/unixsock"
)

// SendNotifyFd gives the seccomp agent listening on listenerPath the notify
// fd, as the runtime-spec's "container process state" prescribes: one fresh
// SOCK_STREAM connection, the state as JSON with the fd in SCM_RIGHTS of the
// first sendmsg(2), then close. state carries pid, metadata (the profile's
// listenerMetadata) and the container state; ociVersion defaults to the
// specs version and fds is set to ["seccompFd"]. state is not modified. The
// caller closes fd.
func SendNotifyFd(listenerPath string, fd int, state *specs.ContainerProcessState) error {
	if listenerPath == "" {
		return errors.New("seccomp: send notify fd: listenerPath is empty")
	}
	if fd < 0 {
		return fmt.Errorf("seccomp: send notify fd to %s: invalid fd %d", listenerPath, fd)
	}
	if state == nil {
		return fmt.Errorf("seccomp: send notify fd to %s: no container process state", listenerPath)
	}
	st := *state
	st.Fds = []string{specs.SeccompFdName}
	if st.Version == "" {
		st.Version = specs.Version
	}
	msg, err := json.Marshal(&st)
	if err != nil {
		return fmt.Errorf("seccomp: send notify fd to %s: %w", listenerPath, err)
	}
	// A path longer than sun_path (108 bytes) is reached through its
	// directory's /proc/self/fd entry.
	conn, err := unixsock.Dial(listenerPath)
	if err != nil {
		return fmt.Errorf("seccomp: send notify fd: %w", err)
	}
	defer conn.Close()
	n, err := unixsock.SendRights(conn, msg, fd)
	if err != nil {
		return fmt.Errorf("seccomp: send notify fd to %s: %w", listenerPath, err)
	}
	// A stream socket may take less than all; the rest goes without fds,
	// which the spec allows ("fds MUST be sent only in the first call").
	if n < len(msg) {
		if _, err := conn.Write(msg[n:]); err != nil {
			return fmt.Errorf("seccomp: send notify fd to %s: %w", listenerPath, err)
		}
	}
	if err := conn.Close(); err != nil {
		return fmt.Errorf("seccomp: send notify fd to %s: %w", listenerPath, err)
	}
	return nil
}
