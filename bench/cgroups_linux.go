package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// leftoverCgroups looks for the bench's cgroup (a relative cgroupsPath, so
// beneath our own cgroup in every hierarchy) after all containers are gone,
// removes any it finds with rmdir(2) and returns them. A runtime that leaves
// its cgroup behind is a bug worth reporting.
func leftoverCgroups(name string) ([]string, error) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	mounts, err := cgroupMounts()
	if err != nil {
		return nil, err
	}
	var left []string
	for _, line := range strings.Split(strings.TrimSpace(string(self)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, mnt := range mounts[parts[1]] {
			p := filepath.Join(mnt, parts[2], name)
			if _, err := os.Stat(p); err == nil {
				left = append(left, p)
				_ = unix.Rmdir(p)
			}
		}
	}
	return left, nil
}

// cgroupMounts maps the controller list as /proc/self/cgroup spells it
// ("memory", "name=systemd", "" for cgroup2) to its mount points.
func cgroupMounts() (map[string][]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 {
			continue
		}
		switch qf[0] {
		case "cgroup2":
			out[""] = append(out[""], pf[4])
		case "cgroup":
			var ctrls []string
			for _, o := range strings.Split(qf[2], ",") {
				if o != "rw" && o != "ro" && !strings.HasPrefix(o, "clone_children") && o != "noprefix" && !strings.HasPrefix(o, "release_agent=") && o != "xattr" {
					ctrls = append(ctrls, o)
				}
			}
			key := strings.Join(ctrls, ",")
			out[key] = append(out[key], pf[4])
		}
	}
	return out, sc.Err()
}

// readCgroupFile reads one value of the cgroup name (relative, so beneath
// our own cgroup): v1file in the v1 hierarchy of v1ctl when there is one,
// else v2file in the cgroup2 hierarchy. It also returns the path it read.
func readCgroupFile(name, v1ctl, v1file, v2file string) (value, path string, err error) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", "", err
	}
	mounts, err := cgroupMounts()
	if err != nil {
		return "", "", err
	}
	var v2 string
	for _, line := range strings.Split(strings.TrimSpace(string(self)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, ctl := range strings.Split(parts[1], ",") {
			if ctl == v1ctl && len(mounts[parts[1]]) > 0 {
				path = filepath.Join(mounts[parts[1]][0], parts[2], name, v1file)
			}
		}
		if parts[1] == "" && len(mounts[""]) > 0 {
			v2 = filepath.Join(mounts[""][0], parts[2], name, v2file)
		}
	}
	if path == "" {
		path = v2
	}
	if path == "" {
		return "", "", fmt.Errorf("no cgroup hierarchy has %s", v1ctl)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", path, err
	}
	return strings.TrimSpace(string(b)), path, nil
}
