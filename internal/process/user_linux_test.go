package process

import (
	"os"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// --- user ---

type userResult struct {
	Threads []map[string]string
}

func childUser(arg string) (any, error) {
	u, err := decode[specs.User](arg)
	if err != nil {
		return nil, err
	}
	if err := SetUser(u); err != nil {
		return nil, err
	}
	// Every thread must carry the new credentials, not only this one.
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	var res userResult
	for _, e := range ents {
		f, err := statusFields("/proc/self/task/"+e.Name()+"/status", "Uid", "Gid", "Groups", "Umask")
		if err != nil {
			return nil, err
		}
		res.Threads = append(res.Threads, f)
	}
	return res, nil
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
			if len(res.Threads) < 2 {
				t.Errorf("only %d threads: the all-threads check is vacuous", len(res.Threads))
			}
			for i, th := range res.Threads {
				for k, v := range tt.want {
					if th[k] != v {
						t.Errorf("thread %d: %s = %q, want %q", i, k, th[k], v)
					}
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
	if len(res.Threads) == 0 || res.Threads[0]["Uid"] != "0 0 0 0" {
		t.Errorf("result %+v", res)
	}
	msg := child(t, "user", specs.User{UID: 0, GID: 0, AdditionalGids: []uint32{0}}, userns(), nil)
	if msg != "process.user.additionalGids: setgroups is denied in this user namespace (/proc/self/setgroups)" {
		t.Errorf("error %q", msg)
	}
}
