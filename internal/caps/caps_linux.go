package caps

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// lastCap caches the kernel's highest capability; it cannot change while
// the system runs.
var lastCap = sync.OnceValues(readLastCap)

// LastCap returns the running kernel's highest capability number.
func LastCap() (Cap, error) { return lastCap() }

func readLastCap() (Cap, error) {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err == nil {
		n, perr := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 8)
		if perr == nil && n < 64 {
			return Cap(n), nil
		}
	}
	// No /proc (or an odd one): probe the bounding set, which answers
	// EINVAL for a capability the kernel does not have.
	for c := Cap(0); c < 64; c++ {
		if _, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0); err != nil {
			if c == 0 {
				return 0, os.NewSyscallError("prctl PR_CAPBSET_READ", err)
			}
			return c - 1, nil
		}
	}
	return 63, nil
}

// DropBounding drops every capability up to p.Last that is not in
// p.Bounding from the calling thread's bounding set. It needs CAP_SETPCAP,
// so it must run before the thread changes to the container's user.
func DropBounding(p Plan) error {
	for _, c := range (upTo(p.Last) &^ p.Bounding).Caps() {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return DropError(c, err)
		}
	}
	return nil
}

// SetKeepCaps sets PR_SET_KEEPCAPS on the calling thread: with it, a change
// from uid 0 to another uid keeps the permitted set (effective is still
// cleared), which Apply then needs to set the final sets.
func SetKeepCaps(keep bool) error {
	v := uintptr(0)
	if keep {
		v = 1
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, v, 0, 0, 0); err != nil {
		return os.NewSyscallError("prctl PR_SET_KEEPCAPS", err)
	}
	return nil
}

// Apply sets the calling thread's effective, permitted and inheritable sets
// to p's, then its ambient set to exactly p.Ambient.
func Apply(p Plan) error {
	// capset(2) checks the new sets against the thread's current ones: the
	// permitted set can only shrink, and inheritable must stay within the
	// old inheritable and permitted sets. After setuid with keepcaps the
	// permitted set is still the runtime's, so any plan within it works.
	if err := set(sets{effective: p.Effective, permitted: p.Permitted, inheritable: p.Inheritable}); err != nil {
		return SetError(p, err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		// Kernels before 4.3 have no ambient set: fine if none is asked for.
		if err == unix.EINVAL && p.Ambient == 0 {
			return nil
		}
		return os.NewSyscallError("prctl PR_CAP_AMBIENT_CLEAR_ALL", err)
	}
	for _, c := range p.Ambient.Caps() {
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c), 0, 0); err != nil {
			return AmbientError(c, err)
		}
	}
	return nil
}

// DropError, SetError and AmbientError word the failures of DropBounding
// and Apply, for them and for the exec spawner, which makes the same calls
// in C.
func DropError(c Cap, err error) error {
	return fmt.Errorf("drop %s from the bounding set: %w", c, os.NewSyscallError("prctl PR_CAPBSET_DROP", err))
}

// SetError: see DropError. err is capset(2)'s (wrapped or not).
func SetError(p Plan, err error) error {
	if _, ok := err.(*os.SyscallError); !ok {
		err = os.NewSyscallError("capset", err)
	}
	return fmt.Errorf("set capabilities (effective %s, permitted %s, inheritable %s): %w",
		p.Effective.Hex(), p.Permitted.Hex(), p.Inheritable.Hex(), err)
}

// AmbientError: see DropError.
func AmbientError(c Cap, err error) error {
	return fmt.Errorf("raise ambient %s: %w", c, os.NewSyscallError("prctl PR_CAP_AMBIENT_RAISE", err))
}

type sets struct{ effective, permitted, inheritable Set }

// set uses the version 3 interface: two 32-bit words per set (version 1
// only had 32 capabilities).
func set(s sets) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	d := [2]unix.CapUserData{
		{Effective: uint32(s.effective), Permitted: uint32(s.permitted), Inheritable: uint32(s.inheritable)},
		{Effective: uint32(s.effective >> 32), Permitted: uint32(s.permitted >> 32), Inheritable: uint32(s.inheritable >> 32)},
	}
	if err := unix.Capset(&hdr, &d[0]); err != nil {
		return os.NewSyscallError("capset", err)
	}
	return nil
}
