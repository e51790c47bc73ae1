package rootfs

import "sort"

// MountOptions lists the generic mount option words Plan understands (for
// `features`): flag words, propagation words, the recursive variants and
// runc's "tmpcopyup" extension, and the idmapped-mount words.
// Filesystem-specific words pass through as mount data and are not listed,
// as the runtime-spec's features document says.
func MountOptions() []string {
	out := []string{"tmpcopyup", "idmap", "ridmap"}
	for w := range flagWords {
		out = append(out, w)
	}
	for w := range propagationWords {
		out = append(out, w)
	}
	for w := range recWords {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}
