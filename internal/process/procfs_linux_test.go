package process

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// --- oomScoreAdj ---

type oomResult struct {
	Value string
	Lower string // the error lowering it again, or "" on success
	After string
}

func childOOM(arg string) (any, error) {
	v, err := decode[int](arg)
	if err != nil {
		return nil, err
	}
	if err := dropEffective(unix.CAP_SYS_RESOURCE); err != nil {
		return nil, err
	}
	if err := SetOOMScoreAdj(0, v); err != nil {
		return nil, err
	}
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return nil, err
	}
	res := oomResult{Value: strings.TrimSpace(string(b))}
	// Below the value a privileged writer left needs CAP_SYS_RESOURCE.
	if err := SetOOMScoreAdj(0, -1000); err != nil {
		res.Lower = err.Error()
	}
	b, _ = os.ReadFile("/proc/self/oom_score_adj")
	res.After = strings.TrimSpace(string(b))
	return res, nil
}

func TestOOMScoreAdj(t *testing.T) {
	requireRoot(t)
	var got oomResult
	if msg := child(t, "oom", 500, nil, &got); msg != "" {
		t.Fatal(msg)
	}
	if got.Value != "500" {
		t.Errorf("oom_score_adj = %q, want 500", got.Value)
	}
	min, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(min)) == "-1000" {
		// Our own value is the floor: the child may lower back to it.
		if got.Lower != "" || got.After != "-1000" {
			t.Errorf("lowering to -1000: %q, now %s", got.Lower, got.After)
		}
		return
	}
	want := "process.oomScoreAdj: set -1000: write /proc/self/oom_score_adj: permission denied: lowering it needs CAP_SYS_RESOURCE"
	if got.Lower != want || got.After != "500" {
		t.Errorf("lowering: %q (now %s), want %q", got.Lower, got.After, want)
	}
}

// --- sysctl, hostname ---

func childSysctl(arg string) (any, error) {
	m, err := decode[map[string]string](arg)
	if err != nil {
		return nil, err
	}
	if err := Sysctl(m); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k := range m {
		b, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(k, ".", "/"))
		if err != nil {
			return nil, err
		}
		out[k] = strings.TrimSpace(string(b))
	}
	return out, nil
}

func readSysctl(t *testing.T, key string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/")))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestSysctl(t *testing.T) {
	requireRoot(t)
	want := map[string]string{
		"net.ipv4.ip_forward":          "1",
		"net.ipv4.ip_local_port_range": "20000\t30000",
		"kernel.domainname":            "sysctl.test",
		"kernel.msgmax":                "4096",
	}
	before := map[string]string{}
	for k := range want {
		before[k] = readSysctl(t, k)
	}
	// New namespaces so the host's values stay untouched.
	ns := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC}
	in := map[string]string{}
	for k, v := range want {
		in[k] = strings.ReplaceAll(v, "\t", " ")
	}
	var got map[string]string
	if msg := child(t, "sysctl", in, ns, &got); msg != "" {
		t.Fatal(msg)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
		if now := readSysctl(t, k); now != before[k] {
			t.Errorf("host %s changed from %q to %q", k, before[k], now)
		}
	}
	msg := child(t, "sysctl", map[string]string{"net.ipv4.no_such_key": "1"}, ns, nil)
	if !strings.Contains(msg, "linux.sysctl[net.ipv4.no_such_key] (no such sysctl") {
		t.Errorf("missing key: %q", msg)
	}
	msg = child(t, "sysctl", map[string]string{"net.ipv4.ip_forward": "banana"}, ns, nil)
	if !strings.Contains(msg, `linux.sysctl[net.ipv4.ip_forward]: set "banana": `) {
		t.Errorf("bad value: %q", msg)
	}
}

func childUTS(arg string) (any, error) {
	names, err := decode[[2]string](arg)
	if err != nil {
		return nil, err
	}
	if err := SetHostname(names[0]); err != nil {
		return nil, err
	}
	if err := SetDomainname(names[1]); err != nil {
		return nil, err
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, err
	}
	return [2]string{unix.ByteSliceToString(u.Nodename[:]), unix.ByteSliceToString(u.Domainname[:])}, nil
}

func TestHostname(t *testing.T) {
	requireRoot(t)
	host, _ := os.Hostname()
	want := [2]string{"unha-test-" + strconv.Itoa(os.Getpid()), "unha.example"}
	var got [2]string
	if msg := child(t, "uts", want, &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS}, &got); msg != "" {
		t.Fatal(msg)
	}
	if got != want {
		t.Errorf("uname = %q, want %q", got, want)
	}
	if now, _ := os.Hostname(); now != host {
		t.Errorf("host's hostname changed to %q", now)
	}
}
