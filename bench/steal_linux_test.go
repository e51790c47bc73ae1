package main

import (
	"strings"
	"testing"
)

func TestStealNote(t *testing.T) {
	a := cpuTimes{100, 0, 50, 800, 0, 0, 0, 50, 0, 0}
	b := cpuTimes{150, 0, 100, 850, 0, 0, 0, 100, 0, 0} // 200 ticks, 50 stolen
	if got := stealNote(a, b); !strings.Contains(got, " 25% ") {
		t.Errorf("stealNote = %q, want 25%%", got)
	}
	if got := stealNote(nil, b); !strings.Contains(got, "unreadable") {
		t.Errorf("stealNote(nil) = %q", got)
	}
	if c := readCPUTimes(); len(c) < 8 {
		t.Errorf("readCPUTimes() = %v", c)
	}
}
