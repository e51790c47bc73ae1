package main

import (
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		var out []time.Duration
		for _, x := range xs {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	in := ms(9, 1, 8, 2, 7, 3, 6, 4, 5, 10)
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{0, 1 * time.Millisecond},
		{0.5, 5 * time.Millisecond},
		{0.9, 9 * time.Millisecond},
		{1, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := quantile(in, tt.q); got != tt.want {
			t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if in[0] != 9*time.Millisecond {
		t.Error("quantile sorted its input in place")
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("empty: %v", got)
	}
	if got := quantile(ms(3), 0.9); got != 3*time.Millisecond {
		t.Errorf("single: %v", got)
	}
}

func TestMedianMaxInt64(t *testing.T) {
	if got := medianInt64([]int64{5, 1, 4, 2}); got != 2 {
		t.Errorf("median = %d, want the lower median 2", got)
	}
	if got := medianInt64([]int64{3, 1, 2}); got != 2 {
		t.Errorf("median = %d, want 2", got)
	}
	if got := maxInt64([]int64{3, 9, 2}); got != 9 {
		t.Errorf("max = %d", got)
	}
	if medianInt64(nil) != 0 || maxInt64(nil) != 0 {
		t.Error("empty input")
	}
}
