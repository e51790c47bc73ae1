package caps

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestNames(t *testing.T) {
	for c, want := range map[Cap]string{0: "CAP_CHOWN", 21: "CAP_SYS_ADMIN", 24: "CAP_SYS_RESOURCE", 37: "CAP_AUDIT_READ", 40: "CAP_CHECKPOINT_RESTORE"} {
		if c.String() != want {
			t.Errorf("Cap(%d) = %s, want %s", c, c, want)
		}
		if got, ok := FromName(want); !ok || got != c {
			t.Errorf("FromName(%s) = %d, %v", want, got, ok)
		}
	}
	if Last != 40 {
		t.Errorf("Last = %d", Last)
	}
}

func TestParseFor(t *testing.T) {
	tests := []struct {
		name     string
		in       []string
		last     Cap
		want     Set
		warnings int
		err      string
	}{
		{name: "empty", last: 40},
		{name: "two", in: []string{"CAP_CHOWN", "CAP_KILL"}, last: 40, want: 1<<0 | 1<<5},
		{name: "duplicate", in: []string{"CAP_NET_ADMIN", "CAP_NET_ADMIN"}, last: 40, want: 1 << 12},
		{name: "highest", in: []string{"CAP_CHECKPOINT_RESTORE"}, last: 40, want: 1 << 40},
		{name: "unknown is a warning", in: []string{"CAP_CHOWN", "CAP_FLY"}, last: 40, want: 1, warnings: 1},
		{name: "lower case is unknown", in: []string{"cap_chown"}, last: 40, warnings: 1},
		{name: "no prefix is unknown", in: []string{"CHOWN"}, last: 40, warnings: 1},
		{name: "newer than kernel", in: []string{"CAP_BPF", "CAP_PERFMON", "CAP_CHOWN"}, last: 37, want: 1, warnings: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, w, err := ParseFor(tt.in, tt.last)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || len(w) != tt.warnings {
				t.Errorf("got %s (%s), warnings %q; want %s, %d warnings", got.Hex(), got, w, tt.want.Hex(), tt.warnings)
			}
			for _, msg := range w {
				if !strings.Contains(msg, "cap_last_cap 37") && !strings.Contains(msg, "unknown capability") {
					t.Errorf("warning %q does not name the kernel's limit", msg)
				}
			}
		})
	}
}

func TestParseRunningKernel(t *testing.T) {
	last, err := LastCap()
	if err != nil {
		t.Fatal(err)
	}
	if last < 36 || last > 63 {
		t.Fatalf("LastCap = %d", last)
	}
	if probed, err := readLastCap(); err != nil || probed != last {
		t.Errorf("readLastCap = %d, %v", probed, err)
	}
	s, _, err := Parse([]string{"CAP_CHOWN", "CAP_AUDIT_WRITE"})
	if err != nil || s != 1|1<<29 {
		t.Errorf("Parse = %s, %v", s.Hex(), err)
	}
}

func TestSet(t *testing.T) {
	s := Set(0).Add(0).Add(13).Add(40)
	if !s.Has(13) || s.Has(12) || s.Has(64) {
		t.Error("Has")
	}
	if got := s.Caps(); !reflect.DeepEqual(got, []Cap{0, 13, 40}) {
		t.Errorf("Caps = %v", got)
	}
	if s.String() != "CAP_CHOWN,CAP_NET_RAW,CAP_CHECKPOINT_RESTORE" {
		t.Errorf("String = %s", s)
	}
	if s.Hex() != "0000010000002001" {
		t.Errorf("Hex = %s", s.Hex())
	}
	if upTo(40) != 0x1ffffffffff || upTo(0) != 1 || upTo(63) != ^Set(0) {
		t.Errorf("upTo: %x %x", upTo(40), upTo(0))
	}
}

func TestPlanFor(t *testing.T) {
	chown, kill, nbs := Set(1<<0), Set(1<<5), Set(1<<10)
	tests := []struct {
		name     string
		in       *specs.LinuxCapabilities
		want     Plan
		warnings int
		err      string
	}{
		{name: "nil is nothing", in: nil, want: Plan{Last: 40}},
		{
			name: "docker style",
			in: &specs.LinuxCapabilities{
				Bounding: []string{"CAP_CHOWN", "CAP_KILL"}, Effective: []string{"CAP_CHOWN", "CAP_KILL"},
				Permitted: []string{"CAP_CHOWN", "CAP_KILL"},
			},
			want: Plan{Bounding: chown | kill, Effective: chown | kill, Permitted: chown | kill, Last: 40},
		},
		{
			name: "ambient",
			in: &specs.LinuxCapabilities{
				Bounding: []string{"CAP_NET_BIND_SERVICE"}, Permitted: []string{"CAP_NET_BIND_SERVICE"},
				Inheritable: []string{"CAP_NET_BIND_SERVICE"}, Ambient: []string{"CAP_NET_BIND_SERVICE"},
			},
			want: Plan{Bounding: nbs, Permitted: nbs, Inheritable: nbs, Ambient: nbs, Last: 40},
		},
		{
			name: "ambient not inheritable is dropped",
			in: &specs.LinuxCapabilities{
				Permitted: []string{"CAP_NET_BIND_SERVICE", "CAP_KILL"}, Inheritable: []string{"CAP_KILL"},
				Ambient: []string{"CAP_NET_BIND_SERVICE", "CAP_KILL"},
			},
			want:     Plan{Permitted: nbs | kill, Inheritable: kill, Ambient: kill, Last: 40},
			warnings: 1,
		},
		{
			name: "effective beyond permitted",
			in:   &specs.LinuxCapabilities{Effective: []string{"CAP_KILL"}, Permitted: []string{"CAP_CHOWN"}},
			err:  "process.capabilities.effective: CAP_KILL not in the permitted set",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlanFor(tt.in, 40)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Warnings) != tt.warnings {
				t.Errorf("warnings %q, want %d", got.Warnings, tt.warnings)
			}
			got.Warnings = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("plan %+v, want %+v", got, tt.want)
			}
		})
	}
	// A capability the kernel lacks is a warning naming its set.
	p, err := PlanFor(&specs.LinuxCapabilities{Bounding: []string{"CAP_BPF", "CAP_CHOWN"}}, 38)
	if err != nil || p.Bounding != chown || len(p.Warnings) != 1 || !strings.HasPrefix(p.Warnings[0], "process.capabilities.bounding: ") {
		t.Errorf("plan %+v, %v", p, err)
	}
}
