package main

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1024": 1024, "64m": 64 << 20, "64M": 64 << 20, "1.5g": 3 << 29, "10kb": 10 << 10,
		"2MiB": 2 << 20, "-1": -1, "7b": 7,
	} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "m", "12x", "-5", "1q"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
}
