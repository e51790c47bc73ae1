package tests

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/unha/unha/tests/harness"
)

func capMask(t *testing.T, names []string) uint64 {
	t.Helper()
	m, err := harness.CapMask(names)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func checkCaps(t *testing.T, what string, got, want uint64) {
	t.Helper()
	if got != want {
		t.Errorf("%s: %v, want %v", what, harness.CapNames(got), harness.CapNames(want))
	}
}

func TestCapabilitiesDefault(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	c := b.Spec.Process.Capabilities
	if c == nil {
		t.Fatal("spec has no capabilities")
	}
	rep := e.Probe(b)
	bnd, inh, amb := capMask(t, c.Bounding), capMask(t, c.Inheritable), capMask(t, c.Ambient)
	checkCaps(t, "bounding", rep.Caps.Bnd, bnd)
	checkCaps(t, "inheritable", rep.Caps.Inh, inh)
	if rep.Caps.Inh != 0 {
		t.Errorf("inheritable set %v is not empty by default", harness.CapNames(rep.Caps.Inh))
	}
	// execve as uid 0 gives permitted = effective = bounding | inheritable
	// (capabilities(7), "Capabilities and execution of programs by root").
	checkCaps(t, "permitted", rep.Caps.Prm, bnd|inh)
	checkCaps(t, "effective", rep.Caps.Eff, bnd|inh)
	// The kernel keeps ambient within permitted and inheritable.
	checkCaps(t, "ambient", rep.Caps.Amb, amb&inh&capMask(t, c.Permitted))
}

func TestCapabilitiesNonRoot(t *testing.T) {
	e := newEnv(t)
	for _, withAmbient := range []bool{true, false} {
		b := e.NewBundle()
		b.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
		caps := &specs.LinuxCapabilities{
			Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_NET_BIND_SERVICE"},
			Permitted:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			Effective:   []string{"CAP_CHOWN", "CAP_NET_BIND_SERVICE"},
			Inheritable: []string{"CAP_NET_BIND_SERVICE"},
		}
		if withAmbient {
			caps.Ambient = []string{"CAP_NET_BIND_SERVICE"}
		}
		b.Spec.Process.Capabilities = caps
		rep := e.Probe(b)
		what := "without ambient"
		// For a non-root execve of a file without file capabilities, permitted and effective
		// become the ambient set; bounding and inheritable are kept.
		amb := uint64(0)
		if withAmbient {
			what = "with ambient"
			amb = capMask(t, caps.Ambient)
		}
		checkCaps(t, what+": bounding", rep.Caps.Bnd, capMask(t, caps.Bounding))
		checkCaps(t, what+": inheritable", rep.Caps.Inh, capMask(t, caps.Inheritable))
		checkCaps(t, what+": ambient", rep.Caps.Amb, amb)
		checkCaps(t, what+": permitted", rep.Caps.Prm, amb)
		checkCaps(t, what+": effective", rep.Caps.Eff, amb)
	}
}

// TestCapabilitiesUnknown: runtime-spec says runtimes SHOULD NOT fail for capabilities that
// cannot be granted; runc warns naming them and grants the rest. Clients rely on that when a
// newer capability list meets an older kernel.
func TestCapabilitiesUnknown(t *testing.T) {
	e := newEnv(t)
	b := e.NewBundle()
	known := append([]string{}, b.Spec.Process.Capabilities.Bounding...)
	b.Spec.Process.Capabilities.Bounding = append(b.Spec.Process.Capabilities.Bounding, "CAP_BOGUS")
	_, r := e.RunContainer(b)
	if !r.OK() {
		t.Fatalf("run with an unknown capability: %s", r)
	}
	if !strings.Contains(r.Stderr, "CAP_BOGUS") {
		t.Errorf("no warning naming CAP_BOGUS on stderr: %q", r.Stderr)
	}
	rep, err := harness.ParseReport(r.Stdout)
	if err != nil {
		t.Fatal(err)
	}
	checkCaps(t, "bounding", rep.Caps.Bnd, capMask(t, known))
}
