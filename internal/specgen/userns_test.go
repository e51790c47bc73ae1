package specgen

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestGenerateRootlessUserNS(t *testing.T) {
	o := base()
	o.UserNS = RootlessUserNS(1000, 1000)
	s, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	if !hasNS(s, specs.UserNamespace) || !hasNS(s, specs.NetworkNamespace) {
		t.Errorf("namespaces %+v: want a new user and network namespace", s.Linux.Namespaces)
	}
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}
	if !reflect.DeepEqual(s.Linux.UIDMappings, want) || !reflect.DeepEqual(s.Linux.GIDMappings, want) {
		t.Errorf("maps %v / %v", s.Linux.UIDMappings, s.Linux.GIDMappings)
	}
	for _, m := range s.Mounts {
		if m.Type == "devpts" && slices.Contains(m.Options, "gid=5") {
			t.Errorf("devpts keeps gid=5, which the user namespace does not map: %v", m.Options)
		}
	}

	o.User = specs.User{UID: 1000, GID: 1000}
	if _, err := Generate(o); err == nil || !strings.Contains(err.Error(), "does not exist in the container's user namespace") {
		t.Errorf("an unmapped user: %v", err)
	}

	// With gid 5 mapped, devpts keeps it.
	o = base()
	o.UserNS = &UserNS{
		UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
		GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}},
	}
	s, err = Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range s.Mounts {
		if m.Type == "devpts" && !slices.Contains(m.Options, "gid=5") {
			t.Errorf("devpts lost gid=5 although it is mapped: %v", m.Options)
		}
	}
}
