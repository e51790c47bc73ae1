package process

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Personality domains and flags, <linux/personality.h>. The runtime-spec
// defines no flags yet; these are the kernel's names for them.
var personalityDomains = map[specs.LinuxPersonalityDomain]uint32{
	specs.PerLinux:   0x0000,
	specs.PerLinux32: 0x0008,
}

var personalityFlags = map[specs.LinuxPersonalityFlag]uint32{
	"UNAME26":            0x0020000,
	"ADDR_NO_RANDOMIZE":  0x0040000,
	"FDPIC_FUNCPTRS":     0x0080000,
	"MMAP_PAGE_ZERO":     0x0100000,
	"ADDR_COMPAT_LAYOUT": 0x0200000,
	"READ_IMPLIES_EXEC":  0x0400000,
	"ADDR_LIMIT_32BIT":   0x0800000,
	"SHORT_INODE":        0x1000000,
	"WHOLE_SECONDS":      0x2000000,
	"STICKY_TIMEOUTS":    0x4000000,
	"ADDR_LIMIT_3GB":     0x8000000,
}

// ParsePersonality encodes linux.personality for personality(2).
func ParsePersonality(p *specs.LinuxPersonality) (uint32, error) {
	v, ok := personalityDomains[p.Domain]
	if !ok {
		return 0, fmt.Errorf("linux.personality.domain: unknown domain %q", p.Domain)
	}
	for _, f := range p.Flags {
		bit, ok := personalityFlags[f]
		if !ok {
			return 0, fmt.Errorf("linux.personality.flags: unknown flag %q", f)
		}
		v |= bit
	}
	return v, nil
}
