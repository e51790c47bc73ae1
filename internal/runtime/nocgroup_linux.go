package runtime

import (
	"errors"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A rootless container may have no cgroup (none delegated). kill --all and
// ps then go by the pid namespace instead: every process in a pid namespace
// the container made for itself is the container's. Without one, init is
// the only process the runtime can name.

// ownPidNS reports whether the container created its own pid namespace.
func ownPidNS(st *State) bool {
	if st.Config == nil || st.Config.Linux == nil {
		return false
	}
	for _, ns := range st.Config.Linux.Namespaces {
		if ns.Type == specs.PIDNamespace {
			return ns.Path == ""
		}
	}
	return false
}

// nsPids lists the host pids of the container's processes: those in
// init's pid namespace when it is the container's own, else init alone.
func nsPids(st *State) ([]int, error) {
	if !alive(st.Pid, st.InitStart) {
		return nil, ErrNotRunning
	}
	if !ownPidNS(st) {
		return []int{st.Pid}, nil
	}
	want, err := os.Readlink("/proc/" + strconv.Itoa(st.Pid) + "/ns/pid")
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && l == want {
			out = append(out, pid)
		}
	}
	return out, nil
}

// signalNoCgroup is kill --all for a container without a cgroup. Each
// process is signalled through a pidfd opened before its namespace is
// checked once more, so a recycled pid is never signalled.
func signalNoCgroup(st *State, sig unix.Signal) error {
	if !ownPidNS(st) {
		return signalProcess(st.Pid, st.InitStart, sig)
	}
	pids, err := nsPids(st)
	if err != nil {
		return err
	}
	want, err := os.Readlink("/proc/" + strconv.Itoa(st.Pid) + "/ns/pid")
	if err != nil {
		return err
	}
	var errs []error
	for _, pid := range pids {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue // gone already
		}
		l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/pid")
		if err == nil && l == want {
			if err := unix.PidfdSendSignal(fd, sig, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
				errs = append(errs, os.NewSyscallError("pidfd_send_signal", err))
			}
		}
		unix.Close(fd)
	}
	return errors.Join(errs...)
}
