package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/tests/harness"
)

func TestVersion(t *testing.T) {
	e := newEnv(t)
	r := e.RunWith(harness.RunOpts{NoRoot: true}, "--version")
	if !r.OK() {
		t.Fatalf("--version: %s", r)
	}
	lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("--version printed %q, want three lines", r.Stdout)
	}
	prefixes := []string{suite.RuntimeName() + " version ", "commit: ", "spec: "}
	for i, p := range prefixes {
		if !strings.HasPrefix(lines[i], p) || len(lines[i]) == len(p) {
			t.Errorf("--version line %d is %q, want %q followed by a value", i+1, lines[i], p)
		}
	}
	t.Run("exactly-three-lines", func(t *testing.T) {
		skipIfRunc(t, "runc 1.1 prints two more lines, go: and libseccomp:")
		if len(lines) != 3 {
			t.Errorf("--version printed %d lines, want 3: %q", len(lines), r.Stdout)
		}
	})
}

func TestSpec(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Join(e.Dir, "specdir")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if r := e.RunWith(harness.RunOpts{NoRoot: true}, "spec", "--bundle", dir); !r.OK() {
		t.Fatalf("spec: %s", r)
	}
	path := filepath.Join(dir, "config.json")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(orig, &s); err != nil {
		t.Fatalf("spec wrote invalid JSON: %v", err)
	}
	if s.Version == "" || s.Root == nil || s.Root.Path != "rootfs" || s.Process == nil ||
		len(s.Process.Args) == 0 || s.Process.Cwd != "/" || s.Linux == nil {
		t.Errorf("default spec lacks basics: %s", orig)
	}
	if s.Process != nil && s.Process.Capabilities != nil && len(s.Process.Capabilities.Inheritable) > 0 {
		// CVE-2022-29162: a default inheritable set lets file capabilities grant privileges.
		t.Errorf("default spec has inheritable capabilities %v", s.Process.Capabilities.Inheritable)
	}
	have := map[specs.LinuxNamespaceType]bool{}
	if s.Linux != nil {
		for _, ns := range s.Linux.Namespaces {
			have[ns.Type] = true
		}
	}
	for _, typ := range []specs.LinuxNamespaceType{specs.PIDNamespace, specs.NetworkNamespace,
		specs.IPCNamespace, specs.UTSNamespace, specs.MountNamespace} {
		if !have[typ] {
			t.Errorf("default spec lacks the %s namespace", typ)
		}
	}
	mounts := map[string]string{}
	for _, m := range s.Mounts {
		mounts[m.Destination] = m.Type
	}
	for dst, typ := range map[string]string{"/proc": "proc", "/dev": "tmpfs", "/dev/pts": "devpts",
		"/dev/shm": "tmpfs", "/dev/mqueue": "mqueue", "/sys": "sysfs"} {
		if mounts[dst] != typ {
			t.Errorf("default spec mounts %q on %s, want %q", mounts[dst], dst, typ)
		}
	}
	if s.Linux != nil && (len(s.Linux.MaskedPaths) == 0 || len(s.Linux.ReadonlyPaths) == 0) {
		t.Error("default spec has no masked or readonly paths")
	}

	r := e.RunWith(harness.RunOpts{NoRoot: true}, "spec", "--bundle", dir)
	if r.OK() || len(r.StderrLines()) == 0 {
		t.Errorf("spec over an existing config.json succeeded: %s", r)
	}
	if now, _ := os.ReadFile(path); string(now) != string(orig) {
		t.Error("failed spec changed the existing config.json")
	}

	rl := filepath.Join(e.Dir, "rootless")
	if err := os.Mkdir(rl, 0o755); err != nil {
		t.Fatal(err)
	}
	if r := e.RunWith(harness.RunOpts{NoRoot: true}, "spec", "--rootless", "--bundle", rl); !r.OK() {
		t.Fatalf("spec --rootless: %s", r)
	}
	rs, err := harness.LoadSpec(filepath.Join(rl, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	userNS := false
	for _, ns := range rs.Linux.Namespaces {
		userNS = userNS || ns.Type == specs.UserNamespace
	}
	if !userNS || len(rs.Linux.UIDMappings) == 0 || len(rs.Linux.GIDMappings) == 0 {
		t.Errorf("spec --rootless has no user namespace with mappings: %+v", rs.Linux)
	}
}

// logLevels are the lower-case level names a JSON log line may carry; containerd's shim
// compares level == "error".
var logLevels = map[string]bool{"debug": true, "info": true, "warning": true, "error": true,
	"fatal": true, "panic": true, "trace": true}

func readJSONLog(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line %q is not JSON: %v", line, err)
			continue
		}
		lvl, _ := m["level"].(string)
		if !logLevels[lvl] {
			t.Errorf("log line %q: level %q is not a lower-case level", line, lvl)
		}
		if _, ok := m["msg"].(string); !ok {
			t.Errorf("log line %q has no msg", line)
		}
		if _, ok := m["time"].(string); !ok {
			t.Errorf("log line %q has no time", line)
		}
		out = append(out, m)
	}
	return out
}

func TestLogJSON(t *testing.T) {
	e := newEnv(t)
	logFile := filepath.Join(e.Dir, "log.json")
	r := e.RunWith(harness.RunOpts{Global: []string{"--log", logFile, "--log-format", "json"}},
		"state", "unha-test-missing")
	if r.OK() || !strings.Contains(r.Stderr, "container does not exist") {
		t.Errorf("state of a missing id with --log: %s", r)
	}
	lines := readJSONLog(t, logFile)
	found := false
	for _, m := range lines {
		found = found || m["level"] == "error" && strings.Contains(m["msg"].(string), "container does not exist")
	}
	if !found {
		t.Errorf("no error line about the missing container in %v", lines)
	}

	// A whole successful lifecycle at the default level logs nothing but errors: podman
	// reads the log file as a single error object.
	quiet := filepath.Join(e.Dir, "quiet.json")
	g := []string{"--log", quiet, "--log-format", "json"}
	b := e.NewBundle("/probe", "exit", "0")
	c, r := e.TryCreate(b, harness.CreateOpts{Run: harness.RunOpts{Global: g}})
	if !r.OK() {
		t.Fatalf("create: %s", r)
	}
	for _, args := range [][]string{{"start", c.ID}, {"state", c.ID}} {
		if r := e.RunWith(harness.RunOpts{Global: g}, args...); !r.OK() {
			t.Fatalf("%v: %s", args, r)
		}
	}
	c.WaitStatus("stopped")
	if r := e.RunWith(harness.RunOpts{Global: g}, "delete", c.ID); !r.OK() {
		t.Fatalf("delete: %s", r)
	}
	for _, m := range readJSONLogMaybe(t, quiet) {
		if m["level"] != "error" {
			t.Errorf("default level logged a %v line: %v", m["level"], m)
		}
	}

	// --debug writes debug lines, still lower-case JSON.
	debug := filepath.Join(e.Dir, "debug.json")
	b2 := e.NewBundle("/probe", "exit", "0")
	c2, r := e.TryCreate(b2, harness.CreateOpts{Run: harness.RunOpts{
		Global: []string{"--log", debug, "--log-format", "json", "--debug"}}})
	if !r.OK() {
		t.Fatalf("create --debug: %s", r)
	}
	c2.Delete(true)
	if len(readJSONLog(t, debug)) == 0 {
		t.Error("--debug create wrote no log lines")
	}
}

// readJSONLogMaybe is readJSONLog for a file the runtime may never have had a reason to create.
func readJSONLogMaybe(t *testing.T, path string) []map[string]any {
	t.Helper()
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return nil
	}
	return readJSONLog(t, path)
}
