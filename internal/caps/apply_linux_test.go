package caps

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// childCase is what the parent test asks a re-executed test binary to do.
type childCase struct {
	Plan     Plan
	UID, GID int
	// Regain is applied after Plan, and must fail: a thread cannot get back
	// a permitted capability it gave up.
	Regain *Plan
}

const childEnv = "UNHA_CAPS_CHILD"

func TestMain(m *testing.M) {
	if v := os.Getenv(childEnv); v != "" {
		runChild(v)
		return
	}
	code := m.Run()
	if left := leftoverChildren(); left != "" {
		fmt.Fprintf(os.Stderr, "tests left child processes behind: %s\n", left)
		code = 1
	}
	os.Exit(code)
}

// runChild applies a plan the way init does, prints the thread's sets
// ("pre ..." lines), then execs cat to print the sets after execve.
func runChild(arg string) {
	fail := func(step string, err error) {
		fmt.Printf("error %s: %v\n", step, err)
		os.Exit(1)
	}
	var c childCase
	if err := json.Unmarshal([]byte(arg), &c); err != nil {
		fail("decode", err)
	}
	runtime.LockOSThread()
	if err := DropBounding(c.Plan); err != nil {
		fail("DropBounding", err)
	}
	if err := SetKeepCaps(true); err != nil {
		fail("SetKeepCaps", err)
	}
	if err := syscall.Setgroups(nil); err != nil {
		fail("setgroups", err)
	}
	if err := syscall.Setresgid(c.GID, c.GID, c.GID); err != nil {
		fail("setresgid", err)
	}
	if err := syscall.Setresuid(c.UID, c.UID, c.UID); err != nil {
		fail("setresuid", err)
	}
	if err := Apply(c.Plan); err != nil {
		fail("Apply", err)
	}
	if err := SetKeepCaps(false); err != nil {
		fail("SetKeepCaps", err)
	}
	if c.Regain != nil {
		if err := Apply(*c.Regain); err == nil {
			fail("Regain", fmt.Errorf("succeeded"))
		} else {
			fmt.Printf("regain %v\n", err)
		}
	}
	// Capabilities are per thread: read this thread's, not the leader's.
	status, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		fail("read status", err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "Cap") || strings.HasPrefix(l, "Uid:") {
			fmt.Println("pre " + l)
		}
	}
	os.Stdout.Sync()
	if err := syscall.Exec("/bin/cat", []string{"cat", "/proc/self/status"}, []string{}); err != nil {
		fail("exec", err)
	}
}

type capsStatus map[string]string

// parseStatus splits the child's output into the sets before and after
// execve.
func parseStatus(t *testing.T, out []byte) (pre, post capsStatus, lines []string) {
	t.Helper()
	pre, post = capsStatus{}, capsStatus{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		lines = append(lines, l)
		dst := post
		if rest, ok := strings.CutPrefix(l, "pre "); ok {
			dst, l = pre, rest
		}
		if k, v, ok := strings.Cut(l, ":"); ok && (strings.HasPrefix(k, "Cap") || k == "Uid") {
			dst[k] = strings.TrimSpace(v)
		}
	}
	return pre, post, lines
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

func TestApplyInChild(t *testing.T) {
	requireRoot(t)
	var (
		chown = Set(1 << 0)
		kill  = Set(1 << 5)
		nbs   = Set(1 << 10)
		raw   = Set(1 << 13)
	)
	last, err := LastCap()
	if err != nil {
		t.Fatal(err)
	}
	// want maps a status line to its mask, "pre" before execve, "post" after.
	type want struct{ Bnd, Prm, Eff, Inh, Amb Set }
	tests := []struct {
		name      string
		c         childCase
		pre, post want
		regainErr string
	}{
		{
			name: "root keeps bounding after exec",
			c: childCase{Plan: Plan{
				Bounding: chown | kill | nbs, Effective: chown | kill | nbs, Permitted: chown | kill | nbs, Last: last,
			}},
			pre:  want{Bnd: chown | kill | nbs, Prm: chown | kill | nbs, Eff: chown | kill | nbs},
			post: want{Bnd: chown | kill | nbs, Prm: chown | kill | nbs, Eff: chown | kill | nbs},
		},
		{
			name: "root with empty sets",
			c:    childCase{Plan: Plan{Last: last}},
		},
		{
			name: "non-root ambient survives exec",
			c: childCase{UID: 1000, GID: 1000, Plan: Plan{
				Bounding: nbs | chown, Effective: nbs, Permitted: nbs, Inheritable: nbs, Ambient: nbs, Last: last,
			}},
			pre:  want{Bnd: nbs | chown, Prm: nbs, Eff: nbs, Inh: nbs, Amb: nbs},
			post: want{Bnd: nbs | chown, Prm: nbs, Eff: nbs, Inh: nbs, Amb: nbs},
		},
		{
			name: "non-root without ambient loses all at exec",
			c: childCase{UID: 1000, GID: 1000,
				Plan:   Plan{Bounding: chown | kill, Effective: chown, Permitted: chown, Last: last},
				Regain: &Plan{Bounding: chown | kill, Effective: chown, Permitted: chown | kill, Last: last},
			},
			pre:       want{Bnd: chown | kill, Prm: chown, Eff: chown},
			post:      want{Bnd: chown | kill},
			regainErr: "capset",
		},
		{
			// Inheritable outside the final permitted set is allowed (it
			// is within the permitted set before capset).
			name: "inheritable beyond permitted",
			c: childCase{UID: 1000, GID: 1000, Plan: Plan{
				Bounding: chown | raw, Effective: chown, Permitted: chown, Inheritable: raw, Last: last,
			}},
			pre:  want{Bnd: chown | raw, Prm: chown, Eff: chown, Inh: raw},
			post: want{Bnd: chown | raw, Inh: raw},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arg, _ := json.Marshal(tt.c)
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = []string{childEnv + "=" + string(arg)}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			pre, post, lines := parseStatus(t, out)
			check := func(when string, got capsStatus, w want) {
				for k, v := range map[string]Set{"CapBnd": w.Bnd, "CapPrm": w.Prm, "CapEff": w.Eff, "CapInh": w.Inh, "CapAmb": w.Amb} {
					if got[k] != v.Hex() {
						t.Errorf("%s exec %s = %s (%s), want %s (%s)", when, k, got[k], parseHex(got[k]), v.Hex(), v)
					}
				}
				if uid := strings.Fields(got["Uid"]); len(uid) != 4 || uid[0] != fmt.Sprint(tt.c.UID) || uid[3] != fmt.Sprint(tt.c.UID) {
					t.Errorf("%s exec Uid %q, want %d", when, got["Uid"], tt.c.UID)
				}
			}
			check("before", pre, tt.pre)
			check("after", post, tt.post)
			if tt.regainErr != "" {
				found := false
				for _, l := range lines {
					found = found || strings.HasPrefix(l, "regain ") && strings.Contains(l, tt.regainErr)
				}
				if !found {
					t.Errorf("no regain error in\n%s", out)
				}
			}
		})
	}
}

func parseHex(s string) Set {
	var v uint64
	fmt.Sscanf(s, "%x", &v)
	return Set(v)
}

func TestDropBoundingNeedsPrivilege(t *testing.T) {
	requireRoot(t)
	// A non-root child without capabilities cannot drop from the bounding
	// set; the error must name the capability.
	arg, _ := json.Marshal(childCase{UID: 1000, GID: 1000, Plan: Plan{Bounding: 1, Last: 40}})
	// The test binary may live in a directory uid 1000 cannot search.
	cmd := exec.Command(copyExecutable(t), "-test.run=^$")
	cmd.Env = []string{childEnv + "=" + string(arg)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000}}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "error DropBounding: drop CAP_DAC_OVERRIDE from the bounding set: prctl PR_CAPBSET_DROP: operation not permitted") {
		t.Errorf("child: %v\n%s", err, out)
	}
}

func copyExecutable(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	p := dir + "/caps.test"
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
	// t.TempDir's parents are 0700 too.
	for d := dir; d != os.TempDir() && d != "/"; d = parentDir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func parentDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}
