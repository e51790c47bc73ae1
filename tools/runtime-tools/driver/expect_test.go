package main

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestParseExpectations(t *testing.T) {
	in := `# comment

hooks: (whole executable) | suite: compares with the wrong string
[runc] delete: a | b | runtime: runc deletes created containers
linux_cgroups_memory: memory kernel is set correctly* | vm: kmem ignored
`
	got, err := ParseExpectations(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Expectation{
		{Name: "hooks: (whole executable)", Kind: "suite", Reason: "compares with the wrong string", Line: 3},
		{Runtime: "runc", Name: "delete: a | b", Kind: "runtime", Reason: "runc deletes created containers", Line: 4},
		{Name: "linux_cgroups_memory: memory kernel is set correctly*", Kind: "vm", Reason: "kmem ignored", Line: 5},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{
		"x: y",                    // no reason
		"x: y | because",          // no kind
		"x: y | later: because",   // unknown kind
		"x: y | ours:",            // empty reason
		"x: y | runtime: no name", // runtime kind without [runtime]
		"[runc x: y | vm: why",    // unterminated prefix
	} {
		if _, err := ParseExpectations(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestJudge(t *testing.T) {
	exp := []Expectation{
		{Name: "a: known", Kind: "suite", Line: 1},
		{Name: "a: prefix*", Kind: "vm", Line: 2},
		{Name: "a: fixed", Kind: "ours", Line: 3},
		{Name: "a: renamed", Kind: "ours", Line: 4},
		{Runtime: "runc", Name: "a: runc only", Kind: "runtime", Line: 5},
		{Name: "b: not run", Kind: "ours", Line: 6},
		{Name: "a: racy", Kind: "race", Line: 7},
	}
	results := []Result{
		{Name: "a: known", Status: Fail},
		{Name: "a: prefix one", Status: Fail},
		{Name: "a: prefix two", Status: Fail},
		{Name: "a: fixed", Status: Pass},
		{Name: "a: runc only", Status: Fail},
		{Name: "a: new", Status: Fail},
		{Name: "a: skipped", Status: Skip},
		{Name: "a: todo", Status: Todo},
		{Name: "a: racy", Status: Pass}, // a race that went well is not stale
	}
	v := Judge("unha-runtime", results, exp)
	if v.Passed != 2 || v.Failed != 5 || v.Skipped != 1 || v.Todo != 1 {
		t.Errorf("counts: %+v", v)
	}
	names := func(rs []Result) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	if got, want := names(v.Expected), []string{"a: known", "a: prefix one", "a: prefix two"}; !reflect.DeepEqual(got, want) {
		t.Errorf("expected: got %q, want %q", got, want)
	}
	// The [runc] line does not apply to unha-runtime.
	if got, want := names(v.Unexpected), []string{"a: runc only", "a: new"}; !reflect.DeepEqual(got, want) {
		t.Errorf("unexpected: got %q, want %q", got, want)
	}
	if got, want := v.Fixed, []string{"a: fixed (line 3: now passes)", "a: renamed (line 4 matches no test)"}; !reflect.DeepEqual(got, want) {
		t.Errorf("fixed: got %q, want %q", got, want)
	}

	v = Judge("runc", results, exp)
	if got, want := names(v.Unexpected), []string{"a: new"}; !reflect.DeepEqual(got, want) {
		t.Errorf("runc unexpected: got %q, want %q", got, want)
	}
}

func TestResultsRoundTripAndRegressions(t *testing.T) {
	ref := []Result{
		{Name: "a: one", Status: Pass},
		{Name: "a: two", Status: Pass},
		{Name: "a: three", Status: Fail},
		{Name: "a: gone", Status: Pass},
		{Name: "b: not run", Status: Pass},
		{Name: "a: skip", Status: Skip},
	}
	var buf bytes.Buffer
	if err := WriteResults(&buf, []string{"runtime: runc"}, ref); err != nil {
		t.Fatal(err)
	}
	m, err := ReadResults(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != len(ref) || m["a: three"] != Fail || m["a: skip"] != Skip || m["a: one"] != Pass {
		t.Fatalf("round trip: %v", m)
	}
	now := []Result{
		{Name: "a: one", Status: Pass},
		{Name: "a: two", Status: Fail},
		{Name: "a: three", Status: Fail},
		{Name: "a: skip", Status: Pass},
		{Name: "a: new failure", Status: Fail},
	}
	got := Regressions(m, now)
	want := []string{"a: 1 tests did not run", "a: two"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("regressions: got %q, want %q", got, want)
	}
}
