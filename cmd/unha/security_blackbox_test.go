package main

// Black-box tests of the security flags: --cap-add, --cap-drop,
// --privileged, --security-opt, and Docker's default seccomp profile.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/unha/unha/internal/caps"
	"github.com/unha/unha/internal/specgen"
)

// statusShell prints the security lines of the container's /proc/self/status.
const statusShell = `grep -E '^(CapEff|CapBnd|Seccomp|NoNewPrivs):' /proc/self/status`

// status parses "Key:\tvalue" lines.
func status(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range lines(out) {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

func capMaskOf(t *testing.T, names []string) string {
	t.Helper()
	var m uint64
	for _, n := range names {
		c, ok := caps.FromName(n)
		if !ok {
			t.Fatalf("unknown capability %s", n)
		}
		m |= 1 << c
	}
	return strconv.FormatUint(m, 16)
}

// hexEq compares two hex masks however they are padded.
func hexEq(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 16, 64)
	y, err2 := strconv.ParseUint(b, 16, 64)
	return err1 == nil && err2 == nil && x == y
}

// ownBounding is the test process's bounding set, which --privileged and
// --cap-add ALL must grant in full.
func ownBounding(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	return status(t, string(b))["CapBnd"]
}

func TestBlackboxSeccompDefault(t *testing.T) {
	e := newEnv(t)
	// unshare(CLONE_NEWUSER) needs no capability, so only the profile can
	// refuse it; CAP_SYS_ADMIN makes Docker's profile allow it.
	const try = statusShell + `; unshare -U true && echo unshared; mount -t tmpfs t /tmp && echo mounted; true`
	tests := []struct {
		flags            []string
		seccomp          string
		unshare, mounted bool
	}{
		{nil, "2", false, false},
		{[]string{"--security-opt", "seccomp=builtin"}, "2", false, false},
		{[]string{"--cap-add", "SYS_ADMIN"}, "2", true, true},
		// Unconfined: unshare works, mount still lacks CAP_SYS_ADMIN.
		{[]string{"--security-opt", "seccomp=unconfined"}, "0", true, false},
		{[]string{"--security-opt", "seccomp=unconfined", "--cap-add", "SYS_ADMIN"}, "0", true, true},
	}
	for _, tt := range tests {
		r := e.mustRun(append(append([]string{"run", "--rm"}, tt.flags...), "host", "sh", "-c", try)...)
		st := status(t, r.stdout)
		if st["Seccomp"] != tt.seccomp || strings.Contains(r.stdout, "unshared") != tt.unshare ||
			strings.Contains(r.stdout, "mounted") != tt.mounted {
			t.Errorf("%q: stdout %q stderr %q; want seccomp mode %s, unshare %v, mount %v", tt.flags, r.stdout, r.stderr,
				tt.seccomp, tt.unshare, tt.mounted)
		}
		if !tt.unshare && !strings.Contains(r.stderr, "unshare failed: Operation not permitted") {
			t.Errorf("%q: unshare -U did not fail with EPERM: %q", tt.flags, r.stderr)
		}
	}
	// The default profile holds for a non-root user too.
	r := e.mustRun("run", "--rm", "-u", "1000", "host", "sh", "-c", statusShell+"; id -u")
	if st := status(t, r.stdout); st["Seccomp"] != "2" || !hexEq(st["CapEff"], "0") || !strings.HasSuffix(r.stdout, "1000\n") {
		t.Errorf("-u 1000: %q", r.stdout)
	}
}

func TestBlackboxSeccompProfileFile(t *testing.T) {
	e := newEnv(t)
	profile := filepath.Join(e.dir, "profile.json")
	// Docker's format: a rule conditional on a capability the container
	// lacks is left out.
	data := `{
		"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [
			{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 122},
			{"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMIN"]}}
		]
	}`
	if err := os.WriteFile(profile, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.run("", "run", "--rm", "--security-opt", "seccomp="+profile, "host", "sh", "-c",
		"mkdir /tmp/a; rmdir /tmp && echo rmdir-ran; "+statusShell)
	// EDQUOT from the rule; rmdir reaches the kernel (EBUSY or similar, not
	// the profile's EPERM).
	if !strings.Contains(r.stderr, "Disk quota exceeded") || strings.Contains(r.stderr, "Operation not permitted") ||
		status(t, r.stdout)["Seccomp"] != "2" {
		t.Errorf("custom profile: stdout %q stderr %q", r.stdout, r.stderr)
	}
	r = e.run("", "run", "--rm", "--security-opt", "seccomp="+profile, "--cap-add", "SYS_ADMIN", "host", "rmdir", "/tmp")
	if r.code == 0 || !strings.Contains(r.stderr, "Operation not permitted") {
		t.Errorf("conditional rule with CAP_SYS_ADMIN: exit %d stderr %q", r.code, r.stderr)
	}
	if r := e.run("", "run", "--rm", "--security-opt", "seccomp="+filepath.Join(e.dir, "missing.json"), "host", "true"); r.code != 125 ||
		!strings.Contains(r.stderr, "opening seccomp profile") {
		t.Errorf("missing profile: exit %d stderr %q", r.code, r.stderr)
	}
	if err := os.WriteFile(profile, []byte(`{"defaultAction": `), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := e.run("", "run", "--rm", "--security-opt", "seccomp="+profile, "host", "true"); r.code != 125 ||
		!strings.Contains(r.stderr, "seccomp profile") {
		t.Errorf("malformed profile: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestBlackboxCapFlags(t *testing.T) {
	e := newEnv(t)
	plus := func(extra ...string) []string { return append(append([]string(nil), specgen.DefaultCaps...), extra...) }
	var noChown []string
	for _, c := range specgen.DefaultCaps {
		if c != "CAP_CHOWN" {
			noChown = append(noChown, c)
		}
	}
	tests := []struct {
		flags []string
		eff   string
	}{
		{nil, capMaskOf(t, specgen.DefaultCaps)},
		{[]string{"--cap-add", "net_admin", "--cap-add", "CAP_SYS_NICE"}, capMaskOf(t, plus("CAP_NET_ADMIN", "CAP_SYS_NICE"))},
		{[]string{"--cap-drop", "Chown"}, capMaskOf(t, noChown)},
		{[]string{"--cap-drop", "ALL"}, "0"},
		{[]string{"--cap-drop", "all", "--cap-add", "chown"}, capMaskOf(t, []string{"CAP_CHOWN"})},
		{[]string{"--cap-add", "ALL"}, ownBounding(t)},
	}
	for _, tt := range tests {
		r := e.mustRun(append(append([]string{"run", "--rm"}, tt.flags...), "host", "sh", "-c", statusShell)...)
		st := status(t, r.stdout)
		if !hexEq(st["CapEff"], tt.eff) || !hexEq(st["CapBnd"], tt.eff) {
			t.Errorf("%q: CapEff %s CapBnd %s, want %s", tt.flags, st["CapEff"], st["CapBnd"], tt.eff)
		}
	}
	// A non-root user keeps the added capability in its bounding set only.
	r := e.mustRun("run", "--rm", "-u", "1000:1000", "--cap-add", "NET_ADMIN", "host", "sh", "-c", statusShell)
	if st := status(t, r.stdout); !hexEq(st["CapEff"], "0") || !hexEq(st["CapBnd"], capMaskOf(t, plus("CAP_NET_ADMIN"))) {
		t.Errorf("-u 1000 --cap-add NET_ADMIN: %q", r.stdout)
	}
	if r := e.run("", "run", "--rm", "--cap-add", "bogus", "host", "true"); r.code != 125 ||
		!strings.Contains(r.stderr, `unknown capability: "CAP_BOGUS"`) {
		t.Errorf("--cap-add bogus: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestBlackboxPrivileged(t *testing.T) {
	e := newEnv(t)
	// /dev/loop-control (10:237) is in no runtime's default device list:
	// only the privileged device cgroup lets the container open it. Opening
	// it does nothing by itself.
	const try = statusShell + `; grep -E ' /sys | /proc/(sys|kcore) ' /proc/self/mountinfo; ` +
		`mknod /dev/lc c 10 237 && (: < /dev/lc) && echo opened; true`
	r := e.mustRun("run", "--rm", "host", "sh", "-c", try)
	if strings.Contains(r.stdout, "opened") || !strings.Contains(r.stdout, " /proc/sys ro,") ||
		!strings.Contains(r.stdout, " /sys ro,") {
		t.Errorf("unprivileged: %q %q", r.stdout, r.stderr)
	}
	r = e.mustRun("run", "--rm", "--privileged", "--cap-drop", "ALL", "host", "sh", "-c", try)
	st := status(t, r.stdout)
	if !hexEq(st["CapEff"], ownBounding(t)) || st["Seccomp"] != "0" || st["NoNewPrivs"] != "0" {
		t.Errorf("--privileged: %q", r.stdout)
	}
	if !strings.Contains(r.stdout, "opened") || strings.Contains(r.stdout, "/proc/") || !strings.Contains(r.stdout, " /sys rw,") {
		t.Errorf("--privileged: device, masked paths or /sys: %q %q", r.stdout, r.stderr)
	}
}

func TestBlackboxSecurityOpts(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		opts []string
		nnp  string
	}{
		{nil, "0"},
		{[]string{"no-new-privileges"}, "1"},
		{[]string{"no-new-privileges=true"}, "1"},
		{[]string{"no-new-privileges", "no-new-privileges=false"}, "0"},
	} {
		args := []string{"run", "--rm"}
		for _, o := range tt.opts {
			args = append(args, "--security-opt", o)
		}
		r := e.mustRun(append(args, "host", "sh", "-c", statusShell)...)
		if st := status(t, r.stdout); st["NoNewPrivs"] != tt.nnp || st["Seccomp"] != "2" {
			t.Errorf("%q: %q", tt.opts, r.stdout)
		}
	}
	r := e.mustRun("run", "--rm", "--security-opt", "systempaths=unconfined", "host", "sh", "-c",
		`grep -cE ' /proc/(sys|kcore|keys) ' /proc/self/mountinfo; `+statusShell)
	if l := lines(r.stdout); len(l) == 0 || l[0] != "0" || status(t, r.stdout)["Seccomp"] != "2" {
		t.Errorf("systempaths=unconfined: %q", r.stdout)
	}
	for _, bad := range []string{"no-new-privileges=maybe", "apparmor=docker-default", "bogus"} {
		if r := e.run("", "run", "--rm", "--security-opt", bad, "host", "true"); r.code != 125 ||
			!strings.Contains(r.stderr, "invalid --security-opt") {
			t.Errorf("--security-opt %s: exit %d stderr %q", bad, r.code, r.stderr)
		}
	}
}
