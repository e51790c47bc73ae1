package main

import (
	"encoding/json"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/unha/unha/internal/caps"
	"github.com/unha/unha/internal/rootfs"
	"github.com/unha/unha/internal/seccomp"
)

// featuresCmd reports what this build honours, and only that: clients such
// as containerd and the kubelet decide from it what they may ask for.
func featuresCmd() *command {
	c := newCommand("features", "", "show the enabled features")
	c.args = exactArgs(0, "none")
	c.run = func([]string) error {
		t, f := true, false
		feat := features.Features{
			OCIVersionMin: "1.0.0",
			OCIVersionMax: specs.Version,
			Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
			MountOptions:  rootfs.MountOptions(),
			Linux: &features.Linux{
				Namespaces:   []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"},
				Capabilities: caps.Names(),
				Cgroup:       &features.Cgroup{V1: &t, V2: &t, Systemd: &f, SystemdUser: &f},
				Seccomp:      seccomp.Features(),
				Apparmor:     &features.Apparmor{Enabled: &f},
				Selinux:      &features.Selinux{Enabled: &f},
				IntelRdt:     &features.IntelRdt{Enabled: &f},
				MountExtensions: &features.MountExtensions{
					IDMap: &features.IDMap{Enabled: &t},
				},
			},
			Annotations: map[string]string{
				"io.github.unha.runtime.version": version,
			},
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "    ")
		return enc.Encode(feat)
	}
	return c
}
