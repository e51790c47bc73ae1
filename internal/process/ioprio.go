package process

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// I/O priority classes and encoding, <linux/ioprio.h>.
const (
	ioprioClassShift = 13
	ioprioWhoProcess = 1
	ioprioMaxLevel   = 7
)

var ioprioClasses = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT:   1,
	specs.IOPRIO_CLASS_BE:   2,
	specs.IOPRIO_CLASS_IDLE: 3,
}

// IOPriority is an encoded ioprio value: class << 13 | level.
type IOPriority int

// ParseIOPriority encodes process.ioPriority.
func ParseIOPriority(p *specs.LinuxIOPriority) (IOPriority, error) {
	class, ok := ioprioClasses[p.Class]
	if !ok {
		return 0, fmt.Errorf("process.ioPriority.class: unknown class %q", p.Class)
	}
	if p.Priority < 0 || p.Priority > ioprioMaxLevel {
		return 0, fmt.Errorf("process.ioPriority.priority: %d is outside 0-%d", p.Priority, ioprioMaxLevel)
	}
	return IOPriority(class<<ioprioClassShift | p.Priority), nil
}

// Class and Level decode p.
func (p IOPriority) Class() int { return int(p) >> ioprioClassShift }
func (p IOPriority) Level() int { return int(p) & (1<<ioprioClassShift - 1) }
