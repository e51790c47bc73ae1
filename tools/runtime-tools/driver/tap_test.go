package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseTAP(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   []Result
		errors []string
	}{
		{
			name: "points, skip, todo, yaml ignored",
			in: `TAP version 13
ok 1 - has expected hostname
  ---
  {
    "actual": "not ok 7 - inside yaml"
  }
  ...
not ok 2 - mounts[0] (/proc) found in order
ok 3 # SKIP linux.sysctl not set
not ok 4 # TODO we need the major/minor
ok 5
1..5
`,
			want: []Result{
				{Name: "x: has expected hostname", Status: Pass},
				{Name: "x: mounts[0] (/proc) found in order", Status: Fail},
				{Name: "x: linux.sysctl not set", Status: Skip},
				{Name: "x: we need the major/minor", Status: Todo},
				{Name: "x: #5", Status: Pass},
			},
		},
		{
			name: "two streams, repeated descriptions, short plan",
			in: `TAP version 13
ok 1 - memory limit is set correctly
1..1
TAP version 13
1..3
not ok 1 - memory limit is set correctly
`,
			want: []Result{
				{Name: "x: memory limit is set correctly", Status: Pass},
				{Name: "x: memory limit is set correctly [2]", Status: Fail},
				{Name: "x: (stream 2: planned 3 tests, saw 1)", Status: Fail},
			},
		},
		{
			name: "lifecycle test reporting through yaml only",
			in: `TAP version 13
  ---
  {
    "error": "Hooks MUST be called in the listed order\nRefer to: https://example"
  }
  ...
1..0
`,
			errors: []string{"Hooks MUST be called in the listed order"},
		},
		{
			name: "bail out",
			in:   "TAP version 13\nBail out! no runtime\n",
			want: []Result{{Name: "x: bail out: no runtime", Status: Fail}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTAP("x", strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Results, tt.want) {
				t.Errorf("results:\n got %+v\nwant %+v", got.Results, tt.want)
			}
			if !reflect.DeepEqual(got.Errors, tt.errors) {
				t.Errorf("errors: got %q, want %q", got.Errors, tt.errors)
			}
		})
	}
}

func TestVerdicts(t *testing.T) {
	one := TAP{Results: []Result{{Name: "x: a", Status: Pass}}}
	failing := TAP{Results: []Result{{Name: "x: a", Status: Fail}}}
	tests := []struct {
		name string
		tap  TAP
		exit Exit
		want []Result
	}{
		{"clean", one, Exit{}, one.Results},
		{"non-zero exit without failing point", one, Exit{Code: 1}, []Result{one.Results[0], {Name: "x: (exited non-zero)", Status: Fail}}},
		{"non-zero exit explained by a failing point", failing, Exit{Code: 1}, failing.Results},
		{"timeout", one, Exit{Code: -1, TimedOut: true}, []Result{one.Results[0], {Name: "x: (timed out)", Status: Fail}}},
		{"silent and clean", TAP{}, Exit{}, []Result{{Name: "x: (whole executable)", Status: Pass}}},
		{"silent and exit 1", TAP{}, Exit{Code: 1}, []Result{{Name: "x: (whole executable)", Status: Fail}}},
		{"silent with yaml error", TAP{Errors: []string{"boom"}}, Exit{}, []Result{{Name: "x: (whole executable)", Status: Fail, Detail: "boom"}}},
		{"silent and timed out", TAP{}, Exit{Code: -1, TimedOut: true}, []Result{{Name: "x: (whole executable)", Status: Fail}, {Name: "x: (timed out)", Status: Fail}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Verdicts("x", tt.tap, tt.exit); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
