package app

import (
	"fmt"
	"strconv"
)

// OOMError reports that the kernel's OOM killer killed processes of a
// container that ran: `unha run` prints it and exits with Status, the
// container's own exit status (137 when init itself was killed).
type OOMError struct {
	Status int    // the container's exit status
	Kills  uint64 // OOM kills counted in the container's memory cgroup
	Limit  int64  // the cgroup's memory limit in bytes; 0 for none
}

func (e *OOMError) Error() string {
	what := "container was killed: out of memory"
	if e.Status != 128+9 {
		// Init survived (or died otherwise): the victims were others.
		what = fmt.Sprintf("%d process(es) in the container were killed: out of memory", e.Kills)
	}
	if e.Limit > 0 {
		what += " (limit " + humanBytes(e.Limit) + ")"
	}
	return what
}

// humanBytes writes n in binary units, as Docker prints sizes: 64MiB,
// 1.5GiB, 4097B.
func humanBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return strconv.FormatFloat(float64(int64(v*100+0.5))/100, 'f', -1, 64) + units[i]
}
