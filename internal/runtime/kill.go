package runtime

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ParseSignal accepts what runc accepts: a number, a name, or SIG-name,
// in any case ("9", "KILL", "sigterm", "SIGRTMIN+3").
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q: %w", s, ErrInvalid)
		}
		return unix.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	for _, base := range []struct {
		prefix string
		num    int
		sign   int
	}{{"SIGRTMIN+", 34, 1}, {"SIGRTMAX-", 64, -1}} {
		if rest, ok := strings.CutPrefix(name, base.prefix); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 && n <= 30 {
				return unix.Signal(base.num + base.sign*n), nil
			}
		}
	}
	switch name {
	case "SIGRTMIN":
		return unix.Signal(34), nil
	case "SIGRTMAX":
		return unix.Signal(64), nil
	}
	return 0, fmt.Errorf("unknown signal %q: %w", s, ErrInvalid)
}

// Kill sends sig to the container's init, or with all to every process in
// its cgroup. --all on a stopped container is not an error: containerd's
// shim sends it while cleaning up.
func (r *Runtime) Kill(id string, sig unix.Signal, all bool) error {
	st, l, err := r.Store.Open(id, false)
	if err != nil {
		return err
	}
	defer l.Unlock()
	r.refresh(st)
	if all {
		cg, err := r.loadCgroup(st)
		if errors.Is(err, errNoCgroup) {
			if st.Status == specs.StateStopped {
				return nil
			}
			return signalNoCgroup(st, sig)
		}
		if err != nil {
			return err
		}
		if st.Status == specs.StateStopped {
			return nil
		}
		if err := cg.Signal(sig); err != nil {
			return err
		}
		return nil
	}
	switch st.Status {
	case specs.StateCreated, specs.StateRunning, "paused":
	default:
		return ErrNotRunning
	}
	return signalProcess(st.Pid, st.InitStart, sig)
}
