package process

import (
	"fmt"
	"slices"
	"strings"
)

// SysctlEntry is one linux.sysctl setting, its key turned into a path below
// /proc/sys.
type SysctlEntry struct {
	Key   string `json:"key"`
	Path  string `json:"path"`
	Value string `json:"value"`
}

// ParseSysctl checks linux.sysctl keys and returns the settings in key
// order. A key is dot-separated ("net.ipv4.ip_forward"); a "/" anywhere or
// an empty or ".." component is refused, so a key can only name a file
// below /proc/sys.
func ParseSysctl(m map[string]string) ([]SysctlEntry, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]SysctlEntry, 0, len(keys))
	for _, k := range keys {
		if strings.Contains(k, "/") {
			return nil, fmt.Errorf("linux.sysctl: key %q contains '/'", k)
		}
		parts := strings.Split(k, ".")
		for _, p := range parts {
			if p == "" {
				// ".." in a key is an empty component between two dots.
				return nil, fmt.Errorf("linux.sysctl: key %q has an empty component", k)
			}
		}
		out = append(out, SysctlEntry{Key: k, Path: strings.Join(parts, "/"), Value: m[k]})
	}
	return out, nil
}
