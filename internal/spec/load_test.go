package spec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidateID(t *testing.T) {
	for _, ok := range []string{"a", "abc-DEF_1.2", "x.y"} {
		if err := ValidateID(ok); err != nil {
			t.Errorf("ValidateID(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "../x", "a/b", "a b", "é", "a\x00"} {
		if err := ValidateID(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ValidateID(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func writeBundle(t *testing.T, body string) string {
	t.Helper()
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "config.json"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLoadDefault(t *testing.T) {
	b, _ := json.Marshal(Default())
	d := writeBundle(t, string(b))
	s, err := Load(d)
	if err != nil {
		t.Fatal(err)
	}
	if s.Root.Path != filepath.Join(d, "rootfs") {
		t.Errorf("root path %q not made absolute against the bundle", s.Root.Path)
	}
}

func TestLoadErrors(t *testing.T) {
	mutate := func(f func(*specs.Spec)) string {
		s := Default()
		f(s)
		b, _ := json.Marshal(s)
		return string(b)
	}
	tests := map[string]struct{ body, want string }{
		"malformed":         {`{"ociVersion": "1.0.0",`, "malformed JSON"},
		"wrong type":        {`{"ociVersion": 1}`, `field "ociVersion"`},
		"no version":        {mutate(func(s *specs.Spec) { s.Version = "" }), "ociVersion"},
		"no root":           {mutate(func(s *specs.Spec) { s.Root = nil }), "root.path"},
		"unknown namespace": {mutate(func(s *specs.Spec) { s.Linux.Namespaces[0].Type = "bogus" }), `unknown namespace type "bogus"`},
		"empty args":        {mutate(func(s *specs.Spec) { s.Process.Args = nil }), "process.args"},
		"relative cwd":      {mutate(func(s *specs.Spec) { s.Process.Cwd = "tmp" }), "not absolute"},
		"relative mount":    {mutate(func(s *specs.Spec) { s.Mounts[0].Destination = "proc" }), "not absolute"},
		"hostname no uts": {mutate(func(s *specs.Spec) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: "mount"}}
		}), "uts"},
		"maps without userns": {mutate(func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{Size: 1}}
		}), "user namespace"},
		"bad propagation": {mutate(func(s *specs.Spec) { s.Linux.RootfsPropagation = "sideways" }), "rootfsPropagation"},
		"bad sysctl":      {mutate(func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"../x": "1"} }), "sysctl"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Load(writeBundle(t, tc.body))
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
	if _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "config.json not found") {
		t.Errorf("missing config: %v", err)
	}
}

func TestRootless(t *testing.T) {
	s := Default()
	Rootless(s, 1000, 1000)
	if _, ok := NamespacePath(s, specs.UserNamespace); !ok {
		t.Error("no user namespace")
	}
	if _, ok := NamespacePath(s, specs.NetworkNamespace); ok {
		t.Error("network namespace kept")
	}
	if s.Linux.UIDMappings[0].HostID != 1000 {
		t.Error("uid not mapped")
	}
	for _, m := range s.Mounts {
		if m.Destination == "/sys/fs/cgroup" {
			t.Error("cgroup mount kept")
		}
		if m.Destination == "/sys" && m.Type == "sysfs" {
			t.Error("sysfs mount kept (needs a network namespace of its own)")
		}
	}
	if err := Validate(s); err != nil {
		t.Error(err)
	}
}
