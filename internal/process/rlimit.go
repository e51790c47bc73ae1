//go:build linux

package process

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// rlimitTypes are the resource names of process.rlimits, getrlimit(2).
var rlimitTypes = map[string]int{
	"RLIMIT_AS":         unix.RLIMIT_AS,
	"RLIMIT_CORE":       unix.RLIMIT_CORE,
	"RLIMIT_CPU":        unix.RLIMIT_CPU,
	"RLIMIT_DATA":       unix.RLIMIT_DATA,
	"RLIMIT_FSIZE":      unix.RLIMIT_FSIZE,
	"RLIMIT_LOCKS":      unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK":    unix.RLIMIT_MEMLOCK,
	"RLIMIT_MSGQUEUE":   unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE":       unix.RLIMIT_NICE,
	"RLIMIT_NOFILE":     unix.RLIMIT_NOFILE,
	"RLIMIT_NPROC":      unix.RLIMIT_NPROC,
	"RLIMIT_RSS":        unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO":     unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME":     unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK":      unix.RLIMIT_STACK,
}

// Rlimit is one resource limit to set.
type Rlimit struct {
	Type     string `json:"type"`
	Resource int    `json:"resource"`
	Soft     uint64 `json:"soft"`
	Hard     uint64 `json:"hard"`
}

// ParseRlimits checks process.rlimits: known names, each at most once (the
// spec requires unique types), soft not above hard.
func ParseRlimits(in []specs.POSIXRlimit) ([]Rlimit, error) {
	out := make([]Rlimit, 0, len(in))
	seen := map[string]bool{}
	for _, r := range in {
		res, ok := rlimitTypes[r.Type]
		if !ok {
			return nil, fmt.Errorf("process.rlimits: unknown rlimit type %q", r.Type)
		}
		if seen[r.Type] {
			return nil, fmt.Errorf("process.rlimits: %s given more than once", r.Type)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return nil, fmt.Errorf("process.rlimits: %s soft limit %s exceeds hard limit %s",
				r.Type, limitString(r.Soft), limitString(r.Hard))
		}
		out = append(out, Rlimit{Type: r.Type, Resource: res, Soft: r.Soft, Hard: r.Hard})
	}
	return out, nil
}

func limitString(v uint64) string {
	if v == unix.RLIM_INFINITY {
		return "unlimited"
	}
	return strconv.FormatUint(v, 10)
}
