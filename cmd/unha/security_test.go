package main

import (
	"reflect"
	"testing"

	"github.com/unha/unha/internal/app"
)

func TestRunSecurityFlags(t *testing.T) {
	tests := []struct {
		args []string
		want app.RunOptions
	}{
		{[]string{"run", "--cap-add", "sys_admin", "--cap-add=NET_ADMIN", "--cap-drop", "ALL", "host"},
			app.RunOptions{Image: "host", Network: "none", CapAdd: []string{"sys_admin", "NET_ADMIN"}, CapDrop: []string{"ALL"}}},
		// Not split at commas: Docker's list options take one value each.
		{[]string{"run", "--cap-drop", "chown,kill", "host"},
			app.RunOptions{Image: "host", Network: "none", CapDrop: []string{"chown,kill"}}},
		{[]string{"run", "--privileged", "--security-opt", "seccomp=/p.json", "--security-opt=no-new-privileges", "host", "id"},
			app.RunOptions{Image: "host", Network: "none", Privileged: true, SecurityOpts: []string{"seccomp=/p.json", "no-new-privileges"}, Args: []string{"id"}}},
		// After IMAGE they belong to the command.
		{[]string{"run", "host", "sh", "--privileged"},
			app.RunOptions{Image: "host", Network: "none", Args: []string{"sh", "--privileged"}}},
	}
	for _, tt := range tests {
		rec := &recorder{}
		if code, stderr := parse(t, rec, tt.args...); code != 0 || stderr != "" || rec.run == nil {
			t.Errorf("%q: exit %d, stderr %q", tt.args, code, stderr)
			continue
		}
		got := *rec.run
		if len(got.Args) == 0 {
			got.Args = nil
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tt.args, got, tt.want)
		}
	}
}
