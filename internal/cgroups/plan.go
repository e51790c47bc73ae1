package cgroups

import (
	"fmt"
	"strings"
)

// op is one step of applying resources: a file write, or (opBPF) loading
// and attaching a device program. The list of ops is the plan that Set
// applies and that the tests compare.
type op struct {
	kind  opKind
	field string // spec field, for error messages: "memory.limit"
	dir   string
	file  string
	value string
	// tolerateEINVAL: the kernel may reject this write until a later op
	// in the plan has run (cfs period before quota); a repeat follows.
	tolerateEINVAL bool
	// check is run after a successful write (cpu.shares read-back).
	check checkKind
	prog  []insn // opBPF
}

type opKind int

const (
	opWrite opKind = iota
	opBPF
)

type checkKind int

const (
	_ checkKind = iota // no check
	// checkShares reads cpu.shares back: the kernel clamps out-of-range
	// values silently instead of failing the write.
	checkShares
	// checkMemBusy turns EBUSY from memory.limit_in_bytes into a message
	// with the usage that made the kernel refuse.
	checkMemBusy
)

func (o op) String() string {
	if o.kind == opBPF {
		return fmt.Sprintf("bpf %s (%d insns)", o.dir, len(o.prog))
	}
	return fmt.Sprintf("%s/%s=%q", o.dir, o.file, o.value)
}

// fsys is what the planner reads: the current values some decisions depend
// on (the order of memory and swap writes, whether bfq is in use).
type fsys interface {
	read(dir, file string) (string, error)
	exists(dir, file string) bool
}

// fieldError names the spec field a problem belongs to.
func fieldError(field string, err error) error {
	return fmt.Errorf("%s: %w", field, err)
}

func fieldErrorf(field, format string, args ...any) error {
	return fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...))
}

// planner accumulates ops.
type planner struct {
	fs  fsys
	ops []op
}

func (p *planner) write(field, dir, file, value string) {
	p.ops = append(p.ops, op{kind: opWrite, field: field, dir: dir, file: file, value: value})
}

func (p *planner) add(o op) { p.ops = append(p.ops, o) }

// validPageSize accepts the kernel's hugetlb size names ("2MB", "1GB",
// "64KB"); anything else could smuggle a path into the file name.
func validPageSize(s string) bool {
	if len(s) < 3 || !strings.HasSuffix(s, "B") {
		return false
	}
	unit := s[len(s)-2]
	if unit != 'K' && unit != 'M' && unit != 'G' {
		return false
	}
	for _, c := range s[:len(s)-2] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(s) > 2
}
