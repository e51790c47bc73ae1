package rootfs

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestPlanIDMap(t *testing.T) {
	own := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 5000, Size: 10}}
	ctr := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	userns := &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.UserNamespace}},
		UIDMappings: ctr, GIDMappings: ctr}
	plain := &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.MountNamespace}}}
	for _, tc := range []struct {
		name  string
		m     specs.Mount
		linux *specs.Linux
		want  *IDMap
		err   string
	}{
		{"idmap takes the mount's own maps", specs.Mount{Options: []string{"rbind", "idmap"}, UIDMappings: own, GIDMappings: own},
			userns, &IDMap{UIDs: own, GIDs: own}, ""},
		{"ridmap is recursive", specs.Mount{Options: []string{"rbind", "ridmap"}, UIDMappings: own, GIDMappings: own},
			plain, &IDMap{UIDs: own, GIDs: own, Recursive: true}, ""},
		{"idmap without maps uses the container's", specs.Mount{Options: []string{"bind", "idmap"}},
			userns, &IDMap{UIDs: ctr, GIDs: ctr}, ""},
		{"maps without an option still idmap", specs.Mount{Type: "bind", UIDMappings: own, GIDMappings: own},
			plain, &IDMap{UIDs: own, GIDs: own}, ""},
		{"no idmap", specs.Mount{Options: []string{"rbind"}}, userns, nil, ""},
		{"idmap without maps or user namespace", specs.Mount{Options: []string{"bind", "idmap"}}, plain, nil,
			"needs uidMappings and gidMappings"},
		{"gid maps only", specs.Mount{Options: []string{"bind", "idmap"}, GIDMappings: own}, userns, nil, "both"},
		{"size 0", specs.Mount{Options: []string{"bind", "idmap"}, UIDMappings: own, GIDMappings: []specs.LinuxIDMapping{{Size: 0}}},
			plain, nil, "size 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.m.Destination, tc.m.Source = "/mnt", "/src"
			s := &specs.Spec{Root: &specs.Root{Path: "/r"}, Mounts: []specs.Mount{tc.m}, Linux: tc.linux}
			ops, err := Plan(s, Options{})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ops[0].IDMap, tc.want) {
				t.Errorf("IDMap %+v, want %+v", ops[0].IDMap, tc.want)
			}
		})
	}
}

func TestMountOptionsListIDMap(t *testing.T) {
	opts := strings.Join(MountOptions(), " ")
	for _, w := range []string{"idmap", "ridmap", "tmpcopyup"} {
		if !strings.Contains(" "+opts+" ", " "+w+" ") {
			t.Errorf("MountOptions %q lack %q", opts, w)
		}
	}
}
