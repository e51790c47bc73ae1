package app

import (
	"golang.org/x/sys/unix"

	"github.com/unha/unha/internal/caps"
)

// availableCaps are the capabilities unha can give a container: those of
// the running kernel that are still in unha's own bounding set (the
// runtime, its child, cannot raise a capability beyond it). This is what
// --privileged and --cap-add ALL grant; Docker filters by the daemon's
// bounding set the same way. nil (every capability unha knows) when the
// kernel cannot say.
func availableCaps() []string {
	last, err := caps.LastCap()
	if err != nil {
		return nil
	}
	var out []string
	for i, name := range caps.Names() {
		if caps.Cap(i) > last {
			break
		}
		// PR_CAPBSET_READ returns 1 when the capability is in the
		// calling thread's bounding set; all threads share it here.
		if v, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(i), 0, 0, 0); err == nil && v == 1 {
			out = append(out, name)
		}
	}
	return out
}
