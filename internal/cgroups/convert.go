package cgroups

import (
	"errors"
	"fmt"
	"math"
)

// SharesToWeight converts cgroup v1 cpu.shares [2, 262144] (default 1024)
// to cgroup v2 cpu.weight [1, 10000] (default 100) with the curve crun
// and runc (opencontainers/cgroups 0.0.3+) use: a quadratic in log2(shares)
// that maps the defaults onto each other, which the older linear formula
// (1024 -> 39) did not.
func SharesToWeight(shares uint64) uint64 {
	switch {
	case shares == 0:
		return 0
	case shares <= 2:
		return 1
	case shares >= 262144:
		return 10000
	}
	l := math.Log2(float64(shares))
	w := math.Pow(10, (l*l+125*l)/612.0-7.0/34.0)
	// 1024 gives 10^2 plus rounding noise; do not let ceil turn that
	// into 101.
	if r := math.Round(w); math.Abs(w-r) < 1e-6 {
		return uint64(r)
	}
	return uint64(math.Ceil(w))
}

// BlkioWeightToIOWeight converts blkio.weight [10, 1000] to io.weight
// [1, 10000] linearly, as runc and crun do.
func BlkioWeightToIOWeight(w uint16) uint64 {
	if w == 0 {
		return 0
	}
	if w < 10 {
		w = 10
	}
	return 1 + (uint64(w)-10)*9999/990
}

// swapV2 converts the spec's memory+swap total to cgroup v2
// memory.swap.max, which counts swap alone. 0 means "leave alone" and -1
// "max", as in the spec.
func swapV2(swap, mem int64) (int64, error) {
	switch {
	case mem == -1 && swap == 0:
		// Unlimited memory with swap unset means both unlimited, as
		// memory.memsw on v1 would follow.
		return -1, nil
	case swap == -1 || swap == 0:
		return swap, nil
	case mem == -1:
		return swap, nil
	case mem == 0:
		return 0, errors.New("unable to set swap limit without memory limit")
	case mem < 0:
		return 0, fmt.Errorf("invalid memory value: %d", mem)
	case swap < mem:
		return 0, errors.New("memory+swap limit should be >= memory limit")
	}
	return swap - mem, nil
}

// v2Num renders a limit for a cgroup v2 .max/.low/.high file: -1 (and any
// negative) is "max", 0 is unset ("").
func v2Num(v int64) string {
	switch {
	case v == 0:
		return ""
	case v < 0:
		return "max"
	}
	return fmt.Sprint(v)
}
