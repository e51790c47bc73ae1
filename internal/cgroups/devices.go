package cgroups

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Access bits, the values of the kernel's BPF_DEVCG_ACC_* (include/uapi/
// linux/bpf.h), shared by the Go evaluator and the BPF program.
const (
	accMknod = 1
	accRead  = 2
	accWrite = 4
	accAll   = accMknod | accRead | accWrite
)

// Device types as BPF_DEVCG_DEV_BLOCK / BPF_DEVCG_DEV_CHAR.
const (
	devBlock = 1
	devChar  = 2
)

// devRule is one normalised spec device rule.
type devRule struct {
	allow bool
	typ   byte  // 'a', 'b' or 'c'
	major int64 // -1: any
	minor int64 // -1: any
	acc   uint32
}

// reset reports whether the rule covers every device and access: the
// kernel's v1 "a" entry, which sets the default and drops all exceptions.
func (r devRule) reset() bool {
	return r.typ == 'a' && r.major < 0 && r.minor < 0 && r.acc == accAll
}

func (r devRule) matches(typ uint32, major, minor uint32, acc uint32) bool {
	switch r.typ {
	case 'b':
		if typ != devBlock {
			return false
		}
	case 'c':
		if typ != devChar {
			return false
		}
	}
	if r.major >= 0 && uint32(r.major) != major {
		return false
	}
	if r.minor >= 0 && uint32(r.minor) != minor {
		return false
	}
	if r.allow {
		// An allow rule grants only what it lists: O_RDWR needs both r
		// and w in one rule, as a v1 exception does.
		return acc&^r.acc == 0
	}
	// A deny rule refuses a request that asks for any denied access.
	return acc&r.acc != 0
}

// DefaultDeviceRules are the rules runc appends to every container's list
// (libcontainer/specconv AllowedDevices): mknod of any node, the standard
// character devices, ptys and /dev/net/tun. Set appends them whenever a
// spec lists device rules, so that the usual "deny all" first rule leaves
// the devices the runtime creates usable.
func DefaultDeviceRules() []specs.LinuxDeviceCgroup {
	i := func(v int64) *int64 { return &v }
	r := func(t string, maj, min *int64, acc string) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: true, Type: t, Major: maj, Minor: min, Access: acc}
	}
	return []specs.LinuxDeviceCgroup{
		r("c", nil, nil, "m"),
		r("b", nil, nil, "m"),
		r("c", i(1), i(3), "rwm"),    // /dev/null
		r("c", i(1), i(8), "rwm"),    // /dev/random
		r("c", i(1), i(7), "rwm"),    // /dev/full
		r("c", i(5), i(0), "rwm"),    // /dev/tty
		r("c", i(1), i(5), "rwm"),    // /dev/zero
		r("c", i(1), i(9), "rwm"),    // /dev/urandom
		r("c", i(136), nil, "rwm"),   // /dev/pts/*
		r("c", i(5), i(2), "rwm"),    // /dev/ptmx
		r("c", i(10), i(200), "rwm"), // /dev/net/tun
	}
}

// normaliseDevices validates spec rules (runc's checks: a known type, a
// non-empty access string of r, w, m).
func normaliseDevices(in []specs.LinuxDeviceCgroup) ([]devRule, error) {
	out := make([]devRule, 0, len(in))
	for i, d := range in {
		r := devRule{allow: d.Allow, major: -1, minor: -1}
		switch d.Type {
		case "", "a":
			r.typ = 'a'
		case "b", "c":
			r.typ = d.Type[0]
		default:
			return nil, fmt.Errorf("devices[%d]: invalid cgroup device type %q", i, d.Type)
		}
		if d.Major != nil {
			if *d.Major < 0 || *d.Major > 0xfff {
				if *d.Major != -1 {
					return nil, fmt.Errorf("devices[%d]: major %d out of range", i, *d.Major)
				}
			} else {
				r.major = *d.Major
			}
		}
		if d.Minor != nil {
			if *d.Minor < 0 || *d.Minor > 0xfffff {
				if *d.Minor != -1 {
					return nil, fmt.Errorf("devices[%d]: minor %d out of range", i, *d.Minor)
				}
			} else {
				r.minor = *d.Minor
			}
		}
		if d.Access == "" {
			return nil, fmt.Errorf("devices[%d]: device access field cannot be empty", i)
		}
		for _, c := range d.Access {
			switch c {
			case 'r':
				r.acc |= accRead
			case 'w':
				r.acc |= accWrite
			case 'm':
				r.acc |= accMknod
			default:
				return nil, fmt.Errorf("devices[%d]: invalid access %q", i, d.Access)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// effective drops the rules a later reset rule overrides.
func effective(rules []devRule) []devRule {
	for i := len(rules) - 1; i >= 0; i-- {
		if rules[i].reset() {
			return rules[i:]
		}
	}
	return rules
}

// DeviceAllowed evaluates rules the way the cgroup v2 BPF program built by
// Set does (and the v1 kernel list approximately): the last rule that
// matches decides; with no match the access is allowed, as in a new cgroup.
// typ is 'b' or 'c'; access is a subset of "rwm".
func DeviceAllowed(rules []specs.LinuxDeviceCgroup, typ byte, major, minor uint32, access string) (bool, error) {
	rs, err := normaliseDevices(rules)
	if err != nil {
		return false, err
	}
	var t uint32
	switch typ {
	case 'b':
		t = devBlock
	case 'c':
		t = devChar
	default:
		return false, fmt.Errorf("invalid device type %q", typ)
	}
	var acc uint32
	for _, c := range access {
		switch c {
		case 'r':
			acc |= accRead
		case 'w':
			acc |= accWrite
		case 'm':
			acc |= accMknod
		default:
			return false, fmt.Errorf("invalid access %q", access)
		}
	}
	return evalRules(rs, t, major, minor, acc), nil
}

func evalRules(rs []devRule, typ, major, minor, acc uint32) bool {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].reset() || rs[i].matches(typ, major, minor, acc) {
			return rs[i].allow
		}
	}
	return true
}

// v1DeviceWrites turns rules into writes to devices.allow / devices.deny.
// The first write always resets the cgroup ("a" to devices.deny, or to
// devices.allow when the rules never reset), so the result does not
// depend on what was there before; in the usual deny-all-then-allow
// list this means deny everything first, then the allows, as runc did.
// A type "a" rule that is not a reset is written once per type ("c" and
// "b"): the v1 "a" entry always means everything.
func v1DeviceWrites(rules []devRule) []string {
	eff := effective(rules)
	var out []string
	if len(eff) == 0 || !eff[0].reset() {
		out = append(out, "allow:a")
	}
	for _, r := range eff {
		file := "deny"
		if r.allow {
			file = "allow"
		}
		if r.reset() {
			out = append(out, file+":a")
			continue
		}
		types := []byte{r.typ}
		if r.typ == 'a' {
			types = []byte{'c', 'b'}
		}
		for _, t := range types {
			out = append(out, fmt.Sprintf("%s:%c %s:%s %s", file, t, num(r.major), num(r.minor), accString(r.acc)))
		}
	}
	return out
}

func num(v int64) string {
	if v < 0 {
		return "*"
	}
	return fmt.Sprint(v)
}

func accString(a uint32) string {
	var b strings.Builder
	if a&accRead != 0 {
		b.WriteByte('r')
	}
	if a&accWrite != 0 {
		b.WriteByte('w')
	}
	if a&accMknod != 0 {
		b.WriteByte('m')
	}
	return b.String()
}
