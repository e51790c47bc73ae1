package harness

import (
	"encoding/json"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Bundle is an OCI bundle in the test directory: config.json plus a busybox+probe rootfs.
type Bundle struct {
	Dir    string
	Rootfs string
	Spec   *specs.Spec
	e      *Env
}

// NewBundle writes a bundle whose config.json comes from the runtime's own `spec` command
// (so every test also exercises `spec`), changed only where a non-interactive test needs it:
// terminal off, a writable root (tests that want it read-only say so) and the given args,
// which default to `/probe json`.
func (e *Env) NewBundle(args ...string) *Bundle {
	e.T.Helper()
	dir, err := os.MkdirTemp(e.Dir, "bundle-")
	if err != nil {
		e.T.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		e.T.Fatal(err)
	}
	b := &Bundle{Dir: dir, Rootfs: filepath.Join(dir, "rootfs"), e: e}
	if err := os.Mkdir(b.Rootfs, 0o755); err != nil {
		e.T.Fatal(err)
	}
	if err := e.S.MakeRootfs(b.Rootfs); err != nil {
		e.T.Fatal(err)
	}
	specArgs := []string{"spec", "--bundle", dir}
	if e.As != nil {
		// A rootless user's bundle and rootfs are its own, and its config
		// comes from `spec --rootless`.
		if err := e.As.Chown(dir); err != nil {
			e.T.Fatal(err)
		}
		specArgs = append(specArgs, "--rootless")
	}
	if r := e.RunWith(RunOpts{NoRoot: true}, specArgs...); !r.OK() {
		e.T.Fatalf("spec: %s", r)
	}
	spec, err := LoadSpec(filepath.Join(dir, "config.json"))
	if err != nil {
		e.T.Fatal(err)
	}
	b.Spec = spec
	if len(args) == 0 {
		args = []string{"/probe", "json"}
	}
	spec.Process.Terminal = false
	spec.Process.Args = args
	spec.Root.Readonly = false
	b.Save()
	return b
}

// LoadSpec reads a config.json.
func LoadSpec(path string) (*specs.Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Save writes b.Spec to config.json.
func (b *Bundle) Save() {
	b.e.T.Helper()
	data, err := json.MarshalIndent(b.Spec, "", "\t")
	if err != nil {
		b.e.T.Fatal(err)
	}
	if err := os.WriteFile(b.ConfigPath(), data, 0o644); err != nil {
		b.e.T.Fatal(err)
	}
}

// ConfigPath is the bundle's config.json.
func (b *Bundle) ConfigPath() string { return filepath.Join(b.Dir, "config.json") }

// AddMount appends a mount to the spec (call Save afterwards, or let Create/RunContainer do it).
func (b *Bundle) AddMount(m specs.Mount) { b.Spec.Mounts = append(b.Spec.Mounts, m) }

// SetNamespace adds namespace typ (with an optional path to join) or updates its path.
func (b *Bundle) SetNamespace(typ specs.LinuxNamespaceType, path string) {
	for i, ns := range b.Spec.Linux.Namespaces {
		if ns.Type == typ {
			b.Spec.Linux.Namespaces[i].Path = path
			return
		}
	}
	b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: typ, Path: path})
}

// RemoveNamespace drops namespace typ from the spec, so the container shares the host's.
func (b *Bundle) RemoveNamespace(typ specs.LinuxNamespaceType) {
	out := b.Spec.Linux.Namespaces[:0]
	for _, ns := range b.Spec.Linux.Namespaces {
		if ns.Type != typ {
			out = append(out, ns)
		}
	}
	b.Spec.Linux.Namespaces = out
}

// HasNamespace reports whether the spec asks for namespace typ.
func (b *Bundle) HasNamespace(typ specs.LinuxNamespaceType) bool {
	for _, ns := range b.Spec.Linux.Namespaces {
		if ns.Type == typ {
			return true
		}
	}
	return false
}
