package main

import (
	"strings"
	"testing"
)

const stream = `{"Action":"start","Package":"a"}
{"Action":"run","Package":"a","Test":"TestOK"}
{"Action":"output","Package":"a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"pass","Package":"a","Test":"TestOK","Elapsed":0.01}
{"Action":"run","Package":"a","Test":"TestBad"}
{"Action":"output","Package":"a","Test":"TestBad","Output":"    x_test.go:9: want 1, got 2\n"}
{"Action":"fail","Package":"a","Test":"TestBad","Elapsed":0.02}
{"Action":"run","Package":"a","Test":"TestBad/sub"}
{"Action":"output","Package":"a","Test":"TestBad/sub","Output":"=== RUN   TestBad/sub\n"}
{"Action":"output","Package":"a","Test":"TestBad/sub","Output":"    x_test.go:12: no widget here\n"}
{"Action":"output","Package":"a","Test":"TestBad/sub","Output":"--- SKIP: TestBad/sub (0.00s)\n"}
{"Action":"skip","Package":"a","Test":"TestBad/sub","Elapsed":0}
{"Action":"fail","Package":"a","Elapsed":0.5}
{"ImportPath":"b [b.test]","Action":"build-output","Output":"b/x.go:3:1: syntax error\n"}
{"ImportPath":"b [b.test]","Action":"build-fail"}
{"Action":"start","Package":"b"}
{"Action":"output","Package":"b","Output":"FAIL\tb [build failed]\n"}
{"Action":"fail","Package":"b","Elapsed":0,"FailedBuild":"b [b.test]"}
{"Action":"start","Package":"c"}
{"Action":"output","Package":"c","Output":"?   \tc\t[no test files]\n"}
{"Action":"skip","Package":"c","Elapsed":0}
{"Action":"start","Package":"d"}
{"Action":"run","Package":"d","Test":"TestHang"}
go: downloading example.com/x v1.0.0
`

func TestSummary(t *testing.T) {
	s := newSummary()
	var out strings.Builder
	if err := s.read(strings.NewReader(stream), &out); err != nil {
		t.Fatal(err)
	}
	if s.passed != 1 || s.failed != 2 || s.skipped != 1 {
		t.Errorf("counts: passed %d failed %d skipped %d, want 1 2 1", s.passed, s.failed, s.skipped)
	}
	got := out.String()
	for _, want := range []string{
		"--- FAIL: a TestBad (0.02s)\n        x_test.go:9: want 1, got 2\n",
		"FAIL\ta\t0.500s\n",
		"--- SKIP: a TestBad/sub\n        x_test.go:12: no widget here\n",
		"    b/x.go:3:1: syntax error\n",
		"FAIL\tb\t0.000s\n",
		"?   \tc\t[no test files]\n",
		"go: downloading example.com/x v1.0.0\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "=== RUN   TestOK") {
		t.Errorf("output of a passing test was printed:\n%s", got)
	}
	if u := s.unfinished(); len(u) != 1 || u[0] != "d" {
		t.Errorf("unfinished = %q, want [d]", u)
	}
}
