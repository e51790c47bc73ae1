package specgen

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	profiles "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/caps"
)

// Values of --security-opt seccomp= that name no file, as Docker spells them.
const (
	SeccompDefault    = "builtin"
	SeccompUnconfined = "unconfined"
)

// Security is what `unha run` asks of capabilities, seccomp and the other
// security knobs (--cap-add, --cap-drop, --privileged, --security-opt). The
// zero value is Docker's default: DefaultCaps, Docker's default seccomp
// profile, masked and read-only /proc paths, no no_new_privs.
type Security struct {
	// CapAdd and CapDrop are capability names with or without the CAP_
	// prefix, in any case, or ALL (Docker's rules: see capList).
	CapAdd, CapDrop []string
	// Privileged is --privileged: every capability, no seccomp, nothing
	// masked or read-only in /proc and /sys, every device allowed by the
	// device cgroup. Docker also creates every host device node in /dev;
	// unha does not (yet), so such a container sees only the standard nodes
	// but may mknod any other.
	Privileged bool
	// SeccompProfile is the JSON of --security-opt seccomp=FILE, in Docker's
	// format (rules conditional on capabilities, architecture and kernel) or
	// plain OCI. nil means Docker's default profile.
	SeccompProfile []byte
	// SeccompUnconfined is --security-opt seccomp=unconfined.
	SeccompUnconfined bool
	// NoNewPrivileges is --security-opt no-new-privileges.
	NoNewPrivileges bool
	// UnmaskSystemPaths is --security-opt systempaths=unconfined: no masked
	// and no read-only paths.
	UnmaskSystemPaths bool
	// AvailableCaps are the capabilities unha can grant (this kernel's,
	// within unha's own bounding set): what --privileged and --cap-add ALL
	// give, as Docker's GetAllCapabilities, and the only ones --cap-add may
	// name. nil means every capability unha knows.
	AvailableCaps []string
}

// SecurityOpts are the --security-opt values, parsed.
type SecurityOpts struct {
	// Seccomp is "", SeccompDefault, SeccompUnconfined or the path of a
	// profile file, which the caller reads into Security.SeccompProfile.
	Seccomp           string
	NoNewPrivileges   bool
	UnmaskSystemPaths bool
}

// ParseSecurityOpts parses --security-opt values as Docker does: KEY=VALUE
// (KEY:VALUE is Docker's deprecated spelling and still accepted), and the
// bare no-new-privileges. Options that would ask for a security module unha
// does not apply (AppArmor, SELinux) are refused unless they ask for none.
func ParseSecurityOpts(opts []string) (SecurityOpts, error) {
	var so SecurityOpts
	for _, opt := range opts {
		if opt == "no-new-privileges" {
			so.NoNewPrivileges = true
			continue
		}
		sep := "="
		if !strings.Contains(opt, "=") {
			sep = ":"
		}
		k, v, ok := strings.Cut(opt, sep)
		if !ok {
			return so, fmt.Errorf("invalid --security-opt %q: want KEY=VALUE or no-new-privileges", opt)
		}
		switch k {
		case "seccomp":
			if v == "" {
				return so, fmt.Errorf("invalid --security-opt %q: seccomp needs a profile file, %q or %q", opt, SeccompUnconfined, SeccompDefault)
			}
			so.Seccomp = v
		case "no-new-privileges":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return so, fmt.Errorf("invalid --security-opt %q: no-new-privileges takes true or false", opt)
			}
			so.NoNewPrivileges = b
		case "systempaths":
			if v != "unconfined" {
				return so, fmt.Errorf("invalid --security-opt %q: systempaths takes only unconfined", opt)
			}
			so.UnmaskSystemPaths = true
		case "apparmor":
			// unha loads no AppArmor profile, so "unconfined" is what
			// every container gets anyway; any other profile would be
			// silently ignored.
			if v != "unconfined" {
				return so, fmt.Errorf("invalid --security-opt %q: AppArmor profiles are not supported (only apparmor=unconfined)", opt)
			}
		case "label":
			if v != "disable" {
				return so, fmt.Errorf("invalid --security-opt %q: SELinux labels are not supported (only label=disable)", opt)
			}
		default:
			return so, fmt.Errorf("invalid --security-opt %q: unknown option %q", opt, k)
		}
	}
	return so, nil
}

// capList is the capability set of a container: Docker's TweakCapabilities.
// --privileged grants every capability the kernel has and ignores the
// lists; --cap-add ALL grants those minus --cap-drop; --cap-drop ALL keeps
// only --cap-add; otherwise DefaultCaps minus --cap-drop plus --cap-add (an
// add beats a drop of the same name).
func capList(sec Security) ([]string, error) {
	all := sec.AvailableCaps
	if all == nil {
		all = caps.Names()
	}
	if sec.Privileged {
		return clone(all), nil
	}
	add, err := normalizeCaps(sec.CapAdd, "--cap-add", all)
	if err != nil {
		return nil, err
	}
	// A drop may name any known capability: dropping one that is not
	// there is harmless.
	drop, err := normalizeCaps(sec.CapDrop, "--cap-drop", caps.Names())
	if err != nil {
		return nil, err
	}
	var out []string
	keep := func(c string) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	switch {
	case slices.Contains(add, "ALL"):
		for _, c := range all {
			if !slices.Contains(drop, c) {
				keep(c)
			}
		}
	case slices.Contains(drop, "ALL"):
		for _, c := range add {
			keep(c)
		}
	default:
		for _, c := range DefaultCaps {
			if !slices.Contains(drop, c) {
				keep(c)
			}
		}
		for _, c := range add {
			keep(c)
		}
	}
	return out, nil
}

// normalizeCaps upper-cases names and adds the CAP_ prefix, as Docker
// does, and refuses names unha does not know or cannot grant (available).
func normalizeCaps(names []string, flag string, available []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		c := strings.ToUpper(strings.TrimSpace(n))
		if c == "ALL" {
			out = append(out, c)
			continue
		}
		if !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if _, ok := caps.FromName(c); !ok {
			return nil, fmt.Errorf("invalid %s: unknown capability: %q", flag, c)
		}
		if !slices.Contains(available, c) {
			return nil, fmt.Errorf("invalid %s: capability %s is not available: this kernel lacks it or it is not in unha's own bounding set", flag, c)
		}
		out = append(out, c)
	}
	return out, nil
}

// applySecurity applies sec to a generated spec whose capabilities are
// already final.
func applySecurity(s *specs.Spec, sec Security) error {
	if sec.Privileged || sec.UnmaskSystemPaths {
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
	}
	if sec.Privileged {
		// Docker's privileged /sys is writable, and the device cgroup lets
		// the container use any device node it has or makes.
		for i := range s.Mounts {
			if s.Mounts[i].Destination == "/sys" {
				s.Mounts[i].Options = slices.DeleteFunc(s.Mounts[i].Options, func(o string) bool { return o == "ro" })
			}
		}
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	}
	s.Process.NoNewPrivileges = sec.NoNewPrivileges
	var err error
	switch {
	case sec.Privileged || sec.SeccompUnconfined:
		s.Linux.Seccomp = nil
	case sec.SeccompProfile != nil:
		if s.Linux.Seccomp, err = profiles.LoadProfile(string(sec.SeccompProfile), s); err != nil {
			return fmt.Errorf("seccomp profile: %w", err)
		}
	default:
		s.Linux.Seccomp, err = DefaultSeccomp(s)
	}
	return err
}

// DefaultSeccomp is Docker's default seccomp profile for s, from moby's own
// profile module so that it stays Docker's: the rules conditional on a
// capability are kept when s's bounding set holds it (CAP_SYS_ADMIN allows
// mount, unshare, setns…; CAP_SYS_PTRACE allows ptrace on old kernels), and
// those for other architectures or newer kernels are left out.
func DefaultSeccomp(s *specs.Spec) (*specs.LinuxSeccomp, error) {
	if s.Process == nil || s.Process.Capabilities == nil {
		// moby's converter reads the bounding set unconditionally.
		c := *s
		p := specs.Process{}
		if s.Process != nil {
			p = *s.Process
		}
		p.Capabilities = &specs.LinuxCapabilities{}
		c.Process = &p
		s = &c
	}
	p, err := profiles.GetDefaultProfile(s)
	if err != nil {
		return nil, fmt.Errorf("default seccomp profile: %w", err)
	}
	return p, nil
}
