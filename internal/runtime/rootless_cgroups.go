package runtime

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/internal/cgroups"
)

// errNoCgroup: a rootless container whose user was delegated no cgroup
// has none, so what needs one (pause, events, update) cannot work.
var errNoCgroup = errors.New("the container has no cgroup: no cgroup was delegated to the rootless user that created it")

// cgroupSplit is the outcome of checking a container's cgroup directories
// against what the caller may write.
type cgroupSplit struct {
	kept, skipped map[string]string // controller ("" for cgroup2) -> dir
	// res is the spec's resources without the device rules, which a
	// rootless runtime cannot enforce (v1 devices.allow/deny and the v2
	// BPF program both need privilege over the host) and which matter
	// less there: in a user namespace mknod(2) is refused and the only
	// nodes are the host's, bound with the host's permissions.
	res *specs.LinuxResources
}

// splitCgroups decides, for a rootless container, which of its cgroup
// directories (paths, from cgroups.Manager.Paths) to use: those in
// hierarchies delegated to the caller (writable by it). A limit the spec
// asks for in a hierarchy that is not delegated is an error naming it: the
// container must never run silently unlimited.
func splitCgroups(paths map[string]string, res *specs.LinuxResources, canWrite func(string) bool) (*cgroupSplit, error) {
	sp := &cgroupSplit{kept: map[string]string{}, skipped: map[string]string{}}
	for c, dir := range paths {
		if canWrite(dir) {
			sp.kept[c] = dir
		} else {
			sp.skipped[c] = dir
		}
	}
	if res != nil {
		cp := *res
		cp.Devices = nil
		sp.res = &cp
	}
	var need []string
	for _, c := range cgroups.Controllers(sp.res) {
		// A controller without a v1 hierarchy of its own is served by
		// cgroup2 (a pure v2 host, or hybrid's unified hierarchy).
		if _, ok := paths[c]; !ok {
			if _, ok := paths[""]; ok {
				need = append(need, c+"\x00")
				continue
			}
		}
		need = append(need, c)
	}
	if sp.res != nil && len(sp.res.Unified) > 0 {
		need = append(need, "unified\x00")
	}
	for _, n := range need {
		c, key := n, n
		if strings.HasSuffix(n, "\x00") {
			c, key = strings.TrimSuffix(n, "\x00"), ""
		}
		if dir, ok := sp.skipped[key]; ok {
			return nil, fmt.Errorf("rootless container: cannot apply the %s limits: the cgroup %s is not delegated to uid %d (not writable)", c, dir, os.Geteuid())
		}
	}
	return sp, nil
}

// warning is the one line a rootless create logs about cgroups it skips.
func (sp *cgroupSplit) warning() string {
	if len(sp.skipped) == 0 {
		return ""
	}
	var names []string
	for c := range sp.skipped {
		if c == "" {
			c = "cgroup2"
		}
		names = append(names, c)
	}
	sort.Strings(names)
	if len(sp.kept) == 0 {
		return fmt.Sprintf("rootless: no cgroup is delegated to uid %d, the container runs without cgroups (%s)", os.Geteuid(), strings.Join(names, ", "))
	}
	return fmt.Sprintf("rootless: cgroups not delegated to uid %d are not used: %s", os.Geteuid(), strings.Join(names, ", "))
}

// rootlessCgroup narrows a rootless container's cgroups to the delegated
// hierarchies. It returns a nil Manager when none is delegated, and the
// resources to apply.
func (r *Runtime) rootlessCgroup(s *specs.Spec, id string) (cgroups.Manager, *specs.LinuxResources, error) {
	full, err := cgroups.New(s.Linux.CgroupsPath, id, r.cgroupOpts())
	if err != nil {
		return nil, nil, err
	}
	sp, err := splitCgroups(full.Paths(), s.Linux.Resources, writable)
	if err != nil {
		return nil, nil, err
	}
	if w := sp.warning(); w != "" {
		r.Log.Warn(w)
	}
	if len(sp.skipped) == 0 {
		return full, sp.res, nil
	}
	if len(sp.kept) == 0 {
		return nil, sp.res, nil
	}
	o := r.cgroupOpts()
	// Non-nil: this manager has created nothing yet; Destroy removes only
	// what its Create makes.
	o.Created = []string{}
	cg, err := cgroups.Load(sp.kept, o)
	if err != nil {
		return nil, nil, err
	}
	return cg, sp.res, nil
}
