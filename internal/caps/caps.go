package caps

import (
	"fmt"
	"math/bits"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Cap is a capability number, as in <linux/capability.h>.
type Cap uint

// names are the capabilities this package knows, indexed by number.
var names = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// Last is the highest capability this package knows.
const Last = Cap(len(names) - 1)

// String returns the capability's name, CAP_CHOWN for 0.
func (c Cap) String() string {
	if c <= Last {
		return names[c]
	}
	return fmt.Sprintf("CAP_%d", uint(c))
}

// FromName returns the capability called name ("CAP_NET_ADMIN"; exact
// spelling, as runc requires).
func FromName(name string) (Cap, bool) {
	for i, n := range names {
		if n == name {
			return Cap(i), true
		}
	}
	return 0, false
}

// Set is a capability set as a bit mask, bit n for capability n: the
// layout of the Cap* lines of /proc/<pid>/status.
type Set uint64

// Has reports whether c is in s.
func (s Set) Has(c Cap) bool { return c < 64 && s&(1<<c) != 0 }

// Add returns s with c added.
func (s Set) Add(c Cap) Set { return s | 1<<c }

// Caps lists the capabilities in s in ascending order.
func (s Set) Caps() []Cap {
	out := make([]Cap, 0, bits.OnesCount64(uint64(s)))
	for v := uint64(s); v != 0; v &= v - 1 {
		out = append(out, Cap(bits.TrailingZeros64(v)))
	}
	return out
}

// String lists the names in s, comma-separated.
func (s Set) String() string {
	var b strings.Builder
	for i, c := range s.Caps() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c.String())
	}
	return b.String()
}

// Hex formats s as /proc/<pid>/status does (16 hex digits).
func (s Set) Hex() string { return fmt.Sprintf("%016x", uint64(s)) }

// upTo is every capability from 0 to last.
func upTo(last Cap) Set {
	if last >= 63 {
		return ^Set(0)
	}
	return Set(1)<<(last+1) - 1
}

// Parse converts capability names into a set. A name this package does not
// know is an error; a name it knows but the running kernel does not (above
// /proc/sys/kernel/cap_last_cap) is skipped with a warning, as runc does, so
// that a config written for a newer kernel still runs.
func Parse(names []string) (Set, []string, error) {
	last, err := LastCap()
	if err != nil {
		return 0, nil, err
	}
	return ParseFor(names, last)
}

// ParseFor is Parse for a kernel whose highest capability is last.
func ParseFor(names []string, last Cap) (Set, []string, error) {
	var s Set
	var warnings []string
	for _, n := range names {
		c, ok := FromName(n)
		if !ok {
			// runtime-spec: a capability that cannot be mapped to the
			// kernel is logged as a warning, and runtimes should not
			// fail (a newer engine may name capabilities we lack).
			warnings = append(warnings, fmt.Sprintf("unknown capability %q: ignored", n))
			continue
		}
		if c > last {
			warnings = append(warnings, fmt.Sprintf("capability %s is not supported by the running kernel (cap_last_cap %d): ignored", n, last))
			continue
		}
		s = s.Add(c)
	}
	return s, warnings, nil
}

// Plan is the five capability sets of a process, ready to apply.
type Plan struct {
	Bounding    Set `json:"bounding"`
	Effective   Set `json:"effective"`
	Permitted   Set `json:"permitted"`
	Inheritable Set `json:"inheritable"`
	Ambient     Set `json:"ambient"`
	// Last is the running kernel's highest capability: DropBounding drops
	// everything up to it that is not in Bounding.
	Last Cap `json:"last"`
	// Warnings are capabilities skipped because the kernel lacks them or
	// because the kernel would refuse them in the ambient set.
	Warnings []string `json:"warnings,omitempty"`
}

// NewPlan builds the plan for c on the running kernel. A nil c means no
// capabilities at all (every set empty), the safe reading of an absent field.
func NewPlan(c *specs.LinuxCapabilities) (Plan, error) {
	last, err := LastCap()
	if err != nil {
		return Plan{}, err
	}
	return PlanFor(c, last)
}

// PlanFor is NewPlan for a kernel whose highest capability is last.
func PlanFor(c *specs.LinuxCapabilities, last Cap) (Plan, error) {
	p := Plan{Last: last}
	if c == nil {
		return p, nil
	}
	for _, f := range []struct {
		field string
		names []string
		dst   *Set
	}{
		{"bounding", c.Bounding, &p.Bounding},
		{"effective", c.Effective, &p.Effective},
		{"permitted", c.Permitted, &p.Permitted},
		{"inheritable", c.Inheritable, &p.Inheritable},
		{"ambient", c.Ambient, &p.Ambient},
	} {
		s, w, err := ParseFor(f.names, last)
		if err != nil {
			return Plan{}, fmt.Errorf("process.capabilities.%s: %w", f.field, err)
		}
		*f.dst = s
		for _, msg := range w {
			p.Warnings = append(p.Warnings, "process.capabilities."+f.field+": "+msg)
		}
	}
	// capset(2) refuses an effective set that is not a subset of permitted.
	if extra := p.Effective &^ p.Permitted; extra != 0 {
		return Plan{}, fmt.Errorf("process.capabilities.effective: %s not in the permitted set", extra)
	}
	// PR_CAP_AMBIENT_RAISE refuses a capability that is not both permitted
	// and inheritable; runc warns and goes on, and so do we.
	if extra := p.Ambient &^ (p.Permitted & p.Inheritable); extra != 0 {
		p.Warnings = append(p.Warnings, fmt.Sprintf(
			"process.capabilities.ambient: %s not in both the permitted and inheritable sets: ignored", extra))
		p.Ambient &^= extra
	}
	return p, nil
}
