package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/tests/harness"
)

// checkOneLineError wants a failed command to explain itself in exactly one stderr line.
func checkOneLineError(t *testing.T, r harness.Result, mention ...string) {
	t.Helper()
	if r.OK() {
		t.Fatalf("command succeeded: %s", r)
	}
	lines := r.StderrLines()
	if len(lines) != 1 {
		t.Errorf("want one error line on stderr, got %d: %q", len(lines), r.Stderr)
		return
	}
	if len(mention) == 0 {
		return
	}
	low := strings.ToLower(lines[0])
	for _, m := range mention {
		if strings.Contains(low, strings.ToLower(m)) {
			return
		}
	}
	t.Errorf("error %q mentions none of %q", lines[0], mention)
}

// TestCreateFailures: each broken bundle makes create fail with a one-line error naming the
// problem, and leaves nothing behind (runtime-spec "Errors": as if never attempted).
func TestCreateFailures(t *testing.T) {
	notExec := func(b *harness.Bundle) { b.Spec.Process.Args = []string{"/etc/passwd"} }
	cases := []struct {
		name    string
		mutate  func(*harness.Bundle)
		raw     string // replaces config.json after Save when set
		noCfg   bool
		mention []string
	}{
		{name: "malformed-config", raw: "{not json", mention: []string{"config.json", "json", "invalid character"}},
		{name: "missing-config", noCfg: true, mention: []string{"config.json"}},
		{name: "missing-rootfs", mutate: func(b *harness.Bundle) { b.Spec.Root.Path = "no-such-rootfs" },
			mention: []string{"no-such-rootfs"}},
		{name: "unknown-namespace", mutate: func(b *harness.Bundle) {
			b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: "bogusns"})
		}, mention: []string{"bogusns"}},
		{name: "bad-mount-fstype", mutate: func(b *harness.Bundle) {
			b.AddMount(specs.Mount{Destination: "/unha-badmount", Type: "unhafs", Source: "none"})
		}, mention: []string{"/unha-badmount", "unhafs"}},
		{name: "bad-bind-source", mutate: func(b *harness.Bundle) {
			b.AddMount(specs.Mount{Destination: "/mnt/x", Type: "bind", Source: "/no/such/source", Options: []string{"bind"}})
		}, mention: []string{"/no/such/source", "/mnt/x"}},
		{name: "args0-not-found", mutate: func(b *harness.Bundle) { b.Spec.Process.Args = []string{"/no-such-binary"} },
			mention: []string{"/no-such-binary"}},
		{name: "args0-not-executable", mutate: notExec, mention: []string{"/etc/passwd", "permission denied"}},
		{name: "args-empty", mutate: func(b *harness.Bundle) { b.Spec.Process.Args = nil },
			mention: []string{"args"}},
		{name: "relative-cwd", mutate: func(b *harness.Bundle) { b.Spec.Process.Cwd = "tmp" },
			mention: []string{"cwd"}},
		{name: "rlimit-above-hard", mutate: func(b *harness.Bundle) {
			// CAP_SYS_RESOURCE is missing on this machine and in most containers; raising
			// the hard limit above the caller's must fail rather than be silently clamped.
			var lim = currentNofileHard(t)
			b.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: lim + 1000, Hard: lim + 1000}}
		}, mention: []string{"rlimit", "RLIMIT_NOFILE", "type 7"}},
		{name: "unknown-rlimit", mutate: func(b *harness.Bundle) {
			b.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_BOGUS", Soft: 1, Hard: 1}}
		}, mention: []string{"RLIMIT_BOGUS"}},
		{name: "hostname-without-uts", mutate: func(b *harness.Bundle) {
			b.RemoveNamespace(specs.UTSNamespace)
			b.Spec.Hostname = "nope"
		}, mention: []string{"hostname", "uts"}},
		{name: "userns-without-mappings", mutate: func(b *harness.Bundle) {
			b.SetNamespace(specs.UserNamespace, "")
			b.Spec.Linux.UIDMappings, b.Spec.Linux.GIDMappings = nil, nil
		}, mention: []string{"mapping", "user"}},
		{name: "join-missing-namespace", mutate: func(b *harness.Bundle) {
			b.SetNamespace(specs.NetworkNamespace, "/proc/self/ns/no-such-ns")
		}, mention: []string{"/proc/self/ns/no-such-ns"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.NewBundle("/probe", "print", "process-ran")
			if tc.mutate != nil {
				tc.mutate(b)
			}
			b.Save()
			if tc.raw != "" {
				if err := os.WriteFile(b.ConfigPath(), []byte(tc.raw), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if tc.noCfg {
				if err := os.Remove(b.ConfigPath()); err != nil {
					t.Fatal(err)
				}
			}
			id := e.NewID()
			stdout := filepath.Join(e.Dir, "out")
			f, err := os.Create(stdout)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			// Not TryCreate: it would rewrite config.json.
			r := e.RunWith(harness.RunOpts{Stdout: f}, "create", "--bundle", b.Dir, id)
			checkOneLineError(t, r, tc.mention...)
			if strings.Contains(r.Stdout, "process-ran") {
				t.Error("the process ran")
			}
			if st := e.Run("state", id); st.OK() {
				t.Errorf("failed create left a container: %s", st)
			}
			e.AssertClean()
		})
	}
}

func currentNofileHard(t *testing.T) uint64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "Max open files") {
			f := strings.Fields(line)
			var v uint64
			for _, c := range f[4] {
				v = v*10 + uint64(c-'0')
			}
			return v
		}
	}
	t.Fatal("no Max open files in /proc/self/limits")
	return 0
}

// TestRunFailure: run reports a create-time failure the same way and leaves nothing.
func TestRunFailure(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle("/no-such-binary")
	_, r := e.RunContainer(b)
	checkOneLineError(t, r, "/no-such-binary")
	e.AssertClean()
}
