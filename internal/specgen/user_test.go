package specgen

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const testPasswd = `# comment
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
alice:x:1000:1000:Alice:/home/alice:/bin/sh
broken line
`

const testGroup = `root:x:0:
tty:x:5:alice
alice:x:1000:
audio:x:29:bob,alice
`

func TestResolveUser(t *testing.T) {
	tests := []struct {
		spec string
		want specs.User
		home string
	}{
		{"", specs.User{UID: 0, GID: 0}, "/root"},
		{"0", specs.User{UID: 0, GID: 0}, "/root"},
		{"1000", specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{5, 29}}, "/home/alice"},
		{"1000:1000", specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{5, 29}}, "/home/alice"},
		{"alice:tty", specs.User{UID: 1000, GID: 5, AdditionalGids: []uint32{29}}, "/home/alice"},
		{"alice:7", specs.User{UID: 1000, GID: 7, AdditionalGids: []uint32{5, 29}}, "/home/alice"},
		{"daemon", specs.User{UID: 1, GID: 1}, "/usr/sbin"},
		// Not in passwd: gid 0 and home /, as Docker.
		{"4242", specs.User{UID: 4242, GID: 0}, "/"},
		{"4242:4343", specs.User{UID: 4242, GID: 4343}, "/"},
	}
	for _, tt := range tests {
		u, home, err := ResolveUser(tt.spec, []byte(testPasswd), []byte(testGroup))
		if err != nil {
			t.Errorf("%q: %v", tt.spec, err)
			continue
		}
		if !reflect.DeepEqual(u, tt.want) || home != tt.home {
			t.Errorf("%q: %+v %q, want %+v %q", tt.spec, u, home, tt.want, tt.home)
		}
	}
}

func TestResolveUserErrors(t *testing.T) {
	for spec, want := range map[string]string{
		"nosuch":     "unable to find user nosuch",
		"0:nosuch":   "unable to find group nosuch",
		":0":         "invalid user",
		"0:":         "invalid user",
		"4294967295": "unable to find user", // (uid_t)-1 is not an id
	} {
		_, _, err := ResolveUser(spec, []byte(testPasswd), []byte(testGroup))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", spec, err, want)
		}
	}
	// No passwd at all (a bare rootfs): numbers work, names do not.
	if u, home, err := ResolveUser("7:8", nil, nil); err != nil || u.UID != 7 || u.GID != 8 || home != "/" {
		t.Errorf("7:8 without passwd: %+v %q %v", u, home, err)
	}
	if _, _, err := ResolveUser("root", nil, nil); err == nil {
		t.Error("name resolved without passwd")
	}
}
