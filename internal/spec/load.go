package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ErrInvalid marks a config (or an argument) that can never work; cmd/ maps
// it to a usage-style exit.
var ErrInvalid = errors.New("invalid")

// ValidateID refuses container ids that are not `[A-Za-z0-9_.-]+`: the id
// names a directory under --root and a cgroup, so "..", "/" or "" would
// reach outside them.
func ValidateID(id string) error {
	if id == "" {
		return fmt.Errorf("container id cannot be empty: %w", ErrInvalid)
	}
	if !idChars(id) || id == "." || id == ".." {
		return fmt.Errorf("invalid container id %q: must match [A-Za-z0-9_.-]+: %w", id, ErrInvalid)
	}
	return nil
}

// idChars reports whether id is all [A-Za-z0-9_.-]: by hand, since a
// package-level regexp is compiled at every start of the runtime (0.1 ms,
// and the runtime starts twice per container).
func idChars(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// Load reads bundle/config.json, rejects malformed JSON and fields of the
// wrong type with the place named, validates it, and makes root.path and
// relative bind sources absolute against the bundle.
func Load(bundle string) (*specs.Spec, error) {
	bundle, err := filepath.Abs(bundle)
	if err != nil {
		return nil, err
	}
	p := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("bundle %s: config.json not found: %w", bundle, ErrInvalid)
		}
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, bundle)
}

// Parse decodes and validates a config.json body for the given (absolute)
// bundle directory.
func Parse(data []byte, bundle string) (*specs.Spec, error) {
	var s specs.Spec
	if fastDecode(data, &s) != nil {
		s = specs.Spec{}
		dec := json.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&s); err != nil {
			return nil, fmt.Errorf("config.json: %s: %w", describeJSONError(data, err), ErrInvalid)
		}
	}
	if err := Validate(&s); err != nil {
		return nil, err
	}
	Normalize(&s, bundle)
	return &s, nil
}

func describeJSONError(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "malformed JSON: unexpected end of file"
	case errors.As(err, &se):
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Sprintf("malformed JSON at line %d: %v", line, se)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q: cannot use %s as %s", te.Field, te.Value, te.Type)
	}
	return err.Error()
}

// Normalize makes root.path absolute against the bundle, as the spec says
// ("relative to the bundle"), and fills defaults init relies on.
func Normalize(s *specs.Spec, bundle string) {
	if s.Root != nil && !filepath.IsAbs(s.Root.Path) {
		s.Root.Path = filepath.Join(bundle, s.Root.Path)
	}
	for i := range s.Mounts {
		m := &s.Mounts[i]
		if isBind(m) && m.Source != "" && !filepath.IsAbs(m.Source) {
			m.Source = filepath.Join(bundle, m.Source)
		}
	}
	if s.Process != nil && s.Process.Cwd == "" {
		s.Process.Cwd = "/"
	}
}

func isBind(m *specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

var knownNS = map[specs.LinuxNamespaceType]bool{
	specs.PIDNamespace: true, specs.NetworkNamespace: true, specs.MountNamespace: true,
	specs.IPCNamespace: true, specs.UTSNamespace: true, specs.UserNamespace: true,
	specs.CgroupNamespace: true, specs.TimeNamespace: true,
}

// Validate checks what the runtime-spec requires of a Linux config. It is
// deliberately strict: an error here costs nothing, a wrong container costs
// a lot.
func Validate(s *specs.Spec) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("config.json: "+format+": %w", append(a, ErrInvalid)...)
	}
	if s.Version == "" {
		return bad("ociVersion is missing")
	}
	if !strings.HasPrefix(s.Version, "1.") {
		return bad("unsupported ociVersion %q", s.Version)
	}
	if s.Root == nil || s.Root.Path == "" {
		return bad("root.path is missing")
	}
	if s.Linux == nil {
		return bad("linux section is missing")
	}
	if s.Process != nil {
		if len(s.Process.Args) == 0 && s.Process.CommandLine == "" {
			return bad("process.args is empty")
		}
		if s.Process.Cwd != "" && !filepath.IsAbs(s.Process.Cwd) {
			return bad("process.cwd %q is not absolute", s.Process.Cwd)
		}
		if s.Process.CommandLine != "" {
			return bad("process.commandLine is Windows-only")
		}
	}
	seen := map[specs.LinuxNamespaceType]bool{}
	for _, ns := range s.Linux.Namespaces {
		if !knownNS[ns.Type] {
			return bad("unknown namespace type %q", ns.Type)
		}
		if seen[ns.Type] {
			return bad("namespace %q listed twice", ns.Type)
		}
		seen[ns.Type] = true
		if ns.Path != "" && !filepath.IsAbs(ns.Path) {
			return bad("namespace %q path %q is not absolute", ns.Type, ns.Path)
		}
	}
	if len(s.Linux.UIDMappings)+len(s.Linux.GIDMappings) > 0 && !seen[specs.UserNamespace] {
		return bad("uidMappings/gidMappings need a user namespace")
	}
	if s.Hostname != "" && !seen[specs.UTSNamespace] {
		return bad("hostname needs a new uts namespace")
	}
	if s.Domainname != "" && !seen[specs.UTSNamespace] {
		return bad("domainname needs a new uts namespace")
	}
	if len(s.Linux.TimeOffsets) > 0 && !seen[specs.TimeNamespace] {
		return bad("timeOffsets need a time namespace")
	}
	for key := range s.Linux.Sysctl {
		if key == "" || strings.Contains(key, "..") || strings.HasPrefix(key, "/") {
			return bad("sysctl %q is not a valid name", key)
		}
	}
	for _, m := range s.Mounts {
		if m.Destination == "" {
			return bad("a mount has no destination")
		}
		if !filepath.IsAbs(m.Destination) {
			return bad("mount destination %q is not absolute", m.Destination)
		}
	}
	for _, d := range s.Linux.Devices {
		if !filepath.IsAbs(d.Path) {
			return bad("device path %q is not absolute", d.Path)
		}
		switch d.Type {
		case "c", "b", "u", "p":
		default:
			return bad("device %s has unknown type %q", d.Path, d.Type)
		}
	}
	// Fields this runtime does not implement are refused, never dropped:
	// a container without the isolation it asked for is worse than none.
	if s.Linux.IntelRdt != nil {
		return bad("linux.intelRdt is not supported by unha-runtime")
	}
	if len(s.Linux.NetDevices) > 0 {
		return bad("linux.netDevices is not supported by unha-runtime")
	}
	if s.Linux.MemoryPolicy != nil {
		return bad("linux.memoryPolicy is not supported by unha-runtime")
	}
	if rp := s.Linux.RootfsPropagation; rp != "" {
		switch rp {
		case "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable":
		default:
			return bad("unknown rootfsPropagation %q", rp)
		}
	}
	return nil
}

// NamespacePath returns the path of a namespace of the given type and
// whether the spec lists it at all.
func NamespacePath(s *specs.Spec, t specs.LinuxNamespaceType) (path string, listed bool) {
	if s.Linux == nil {
		return "", false
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return ns.Path, true
		}
	}
	return "", false
}
