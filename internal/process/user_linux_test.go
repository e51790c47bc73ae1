package process

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// --- user ---

type userResult struct {
	Self  map[string]string
	Execd map[string]string // the Uid, Gid and Groups of a program this thread execs
}

func childUser(arg string) (any, error) {
	u, err := decode[specs.User](arg)
	if err != nil {
		return nil, err
	}
	// The credentials are the calling thread's: stay on it, as init does.
	runtime.LockOSThread()
	if err := SetUser(u); err != nil {
		return nil, err
	}
	f, err := statusFields("/proc/thread-self/status", "Uid", "Gid", "Groups", "Umask")
	if err != nil {
		return nil, err
	}
	// What execve hands on is what matters: a program started from this
	// thread (fork copies the calling thread) must see the same ids.
	out, err := exec.Command("/bin/sh", "-c", "grep -E '^(Uid|Gid|Groups):' /proc/self/status").Output()
	if err != nil {
		return nil, fmt.Errorf("exec after SetUser: %w", err)
	}
	execd := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			execd[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return userResult{Self: f, Execd: execd}, nil
}

func TestSetUser(t *testing.T) {
	requireRoot(t)
	for _, tt := range []struct {
		name string
		u    specs.User
		want map[string]string
	}{
		{name: "groups and umask", u: specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{20, 10}, Umask: ptr(uint32(0o077))},
			want: map[string]string{"Uid": "1000 1000 1000 1000", "Gid": "1001 1001 1001 1001", "Groups": "10 20", "Umask": "0077"}},
		{name: "no groups, default umask", u: specs.User{UID: 65534, GID: 65534},
			want: map[string]string{"Uid": "65534 65534 65534 65534", "Gid": "65534 65534 65534 65534", "Groups": "", "Umask": "0022"}},
		{name: "root", u: specs.User{UID: 0, GID: 0, Umask: ptr(uint32(0))},
			want: map[string]string{"Uid": "0 0 0 0", "Gid": "0 0 0 0", "Groups": "", "Umask": "0000"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var res userResult
			if msg := child(t, "user", tt.u, nil, &res); msg != "" {
				t.Fatal(msg)
			}
			for k, v := range tt.want {
				if res.Self[k] != v {
					t.Errorf("%s = %q, want %q", k, res.Self[k], v)
				}
			}
			for _, k := range []string{"Uid", "Gid", "Groups"} {
				if res.Execd[k] != tt.want[k] {
					t.Errorf("exec'd program: %s = %q, want %q", k, res.Execd[k], tt.want[k])
				}
			}
		})
	}
}

func TestSetUserSetgroupsDenied(t *testing.T) {
	requireRoot(t)
	// A user namespace with setgroups "deny", as an unprivileged gid map
	// requires.
	userns := func() *syscall.SysProcAttr {
		return &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
		}
	}
	var res userResult
	if msg := child(t, "user", specs.User{UID: 0, GID: 0}, userns(), &res); msg != "" {
		t.Fatalf("empty additionalGids must be skipped: %s", msg)
	}
	if res.Self["Uid"] != "0 0 0 0" {
		t.Errorf("result %+v", res)
	}
	msg := child(t, "user", specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{0}}, userns(), nil)
	if msg != "process.user.additionalGids: setgroups is denied in this user namespace (/proc/self/setgroups)" {
		t.Errorf("error %q", msg)
	}
}
