package process

import (
	"fmt"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Scheduling policies and sched_setattr flags, <linux/sched.h> and
// <uapi/linux/sched/types.h>.
var schedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther:    0,
	specs.SchedFIFO:     1,
	specs.SchedRR:       2,
	specs.SchedBatch:    3,
	specs.SchedISO:      4, // reserved by Linux, never implemented: the kernel refuses it
	specs.SchedIdle:     5,
	specs.SchedDeadline: 6,
}

var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork:  0x01,
	specs.SchedFlagReclaim:      0x02,
	specs.SchedFlagDLOverrun:    0x04,
	specs.SchedFlagKeepPolicy:   0x08,
	specs.SchedFlagKeepParams:   0x10,
	specs.SchedFlagUtilClampMin: 0x20,
	specs.SchedFlagUtilClampMax: 0x40,
}

const (
	policyFIFO     = 1
	policyRR       = 2
	policyDeadline = 6
)

// Sched is a sched_setattr(2) request.
type Sched struct {
	Policy   uint32 `json:"policy"`
	Flags    uint64 `json:"flags,omitempty"`
	Nice     int32  `json:"nice,omitempty"`
	Priority uint32 `json:"priority,omitempty"`
	Runtime  uint64 `json:"runtime,omitempty"`
	Deadline uint64 `json:"deadline,omitempty"`
	Period   uint64 `json:"period,omitempty"`
	// Name is the policy's name, for error messages.
	Name string `json:"name"`
}

// ParseScheduler checks process.scheduler the way sched(7) constrains it,
// so that a bad value is reported with its field rather than as EINVAL.
func ParseScheduler(s *specs.Scheduler) (Sched, error) {
	policy, ok := schedPolicies[s.Policy]
	if !ok {
		return Sched{}, fmt.Errorf("process.scheduler.policy: unknown policy %q", s.Policy)
	}
	out := Sched{Policy: policy, Name: string(s.Policy), Nice: s.Nice,
		Runtime: s.Runtime, Deadline: s.Deadline, Period: s.Period}
	for _, f := range s.Flags {
		v, ok := schedFlags[f]
		if !ok {
			return Sched{}, fmt.Errorf("process.scheduler.flags: unknown flag %q", f)
		}
		out.Flags |= v
	}
	if s.Nice < -20 || s.Nice > 19 {
		return Sched{}, fmt.Errorf("process.scheduler.nice: %d is outside -20..19", s.Nice)
	}
	realtime := policy == policyFIFO || policy == policyRR
	switch {
	case realtime && (s.Priority < 1 || s.Priority > 99):
		return Sched{}, fmt.Errorf("process.scheduler.priority: %s needs a priority in 1..99, got %d", s.Policy, s.Priority)
	case !realtime && s.Priority != 0:
		return Sched{}, fmt.Errorf("process.scheduler.priority: must be 0 for %s, got %d", s.Policy, s.Priority)
	}
	out.Priority = uint32(s.Priority)
	if policy != policyDeadline {
		var set []string
		for name, v := range map[string]uint64{"runtime": s.Runtime, "deadline": s.Deadline, "period": s.Period} {
			if v != 0 {
				set = append(set, name)
			}
		}
		if len(set) > 0 {
			slices.Sort(set)
			return Sched{}, fmt.Errorf("process.scheduler: %s only applies to SCHED_DEADLINE", strings.Join(set, ", "))
		}
		return out, nil
	}
	// sched(7): runtime <= deadline <= period, with period 0 meaning
	// period = deadline.
	switch {
	case s.Runtime == 0:
		return Sched{}, fmt.Errorf("process.scheduler.runtime: SCHED_DEADLINE needs a runtime")
	case s.Deadline < s.Runtime:
		return Sched{}, fmt.Errorf("process.scheduler.deadline: %d is less than runtime %d", s.Deadline, s.Runtime)
	case s.Period != 0 && s.Period < s.Deadline:
		return Sched{}, fmt.Errorf("process.scheduler.period: %d is less than deadline %d", s.Period, s.Deadline)
	}
	return out, nil
}
