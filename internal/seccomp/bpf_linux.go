package seccomp

// The compiler proper: a filter becomes, per architecture, a database of
// rules (db_linux.go), and the databases become one classic BPF program:
//
//	ld arch; one jeq per AUDIT_ARCH; else the bad-arch action
//	per AUDIT_ARCH: ld nr; [x86_64 without x32: x32 numbers are a bad arch]
//	                a binary search over the syscall numbers; else default
//	per syscall: its action, or its tree of argument comparisons; else default
//
// libseccomp's layout differs. For every seccomp_data the program returns
// what the profile means (semantics_test.go): for Docker's profiles exactly
// what libseccomp's program returns, elsewhere too but where libseccomp
// departs from the profile (a lost load of the syscall number in its
// linear layout, its pick among overlapping rules of different actions,
// where ours takes the most restrictive: see precede); the differential
// tests (diff_cgo_test.go) check both.

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// badArchAction is libseccomp's default SCMP_FLTATR_ACT_BADARCH,
// SCMP_ACT_KILL: KILL_THREAD.
const badArchAction = unix.SECCOMP_RET_KILL_THREAD

// errOtherEndian is libseccomp's EDOM for an architecture of the other byte
// order than the native one: one filter reads seccomp_data one way.
var errOtherEndian = fmt.Errorf("its byte order differs from this machine's: %w", unix.EDOM)

// errNoTable is for architectures the tables' libseccomp did not know.
var errNoTable = fmt.Errorf("no syscall table for it: %w", unix.EOPNOTSUPP)

// errNoMux is for architectures whose multiplexed socket and IPC calls the
// generator could not learn from libseccomp (s390, s390x).
var errNoMux = fmt.Errorf("its direct socket and IPC syscall numbers are unknown to the tables: %w", unix.EOPNOTSUPP)

type compiler struct {
	f      *Filter
	def    uint32
	dbs    []*archDB // native first, then the profile's order
	notify bool      // a NOTIFY rule was added
	// tree is libseccomp's binary-tree layout (SCMP_FLTATR_CTL_OPTIMIZE
	// 2), which the former compiler asked for above 32 rules, as runc
	// does: it also emits the direct forms of multiplexed calls that are
	// pseudo-syscalls (sysRules.treeEmits), which the kernel never passes.
	tree bool
}

// archUsable reports why architecture a cannot join a filter here, if so.
func archUsable(a specs.Arch) error {
	native := nativeArch()
	if native == nil {
		return errNoTable
	}
	t := archByName(a)
	if t == nil || t.nrs == nil {
		return errNoTable
	}
	if t.bigEndian != native.bigEndian {
		return errOtherEndian
	}
	if t.mux && t.direct == nil {
		return errNoMux
	}
	return nil
}

func (f *Filter) newCompiler(log *slog.Logger) (*compiler, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	native := nativeArch()
	if native == nil {
		return nil, fmt.Errorf("seccomp: this machine's architecture: %w", errNoTable)
	}
	def, err := retValue(f.DefaultAction)
	if err != nil {
		return nil, fmt.Errorf("seccomp: defaultAction: %w", err)
	}
	c := &compiler{f: f, def: def}
	c.dbs = append(c.dbs, &archDB{table: native, sys: map[uint32]*sysRules{}})
	for _, a := range f.Architectures {
		if a == native.arch {
			continue
		}
		if err := archUsable(a); err != nil {
			return nil, fmt.Errorf("seccomp: architecture %s cannot be used here: %w", a, err)
		}
		c.dbs = append(c.dbs, &archDB{table: archByName(a), sys: map[uint32]*sysRules{}})
	}
	skipped := map[string]bool{}
	added := 0
	for order, r := range f.Rules {
		// libseccomp takes the rule if the native table knows the name,
		// even as a pseudo-syscall that only other architectures have.
		if _, ok := native.nr(r.Syscall); !ok {
			if !skipped[r.Syscall] {
				log.Debug("seccomp: unknown syscall skipped", "syscall", r.Syscall)
				skipped[r.Syscall] = true
			}
			continue
		}
		act, err := retValue(r.Action)
		if err != nil {
			return nil, fmt.Errorf("seccomp: syscall %s: %w", r.Syscall, err)
		}
		for _, db := range c.dbs {
			if err := c.addRule(db, r, act, order); err != nil {
				return nil, fmt.Errorf("seccomp: add rule for syscall %s on %s: %w", r.Syscall, db.table.arch, err)
			}
		}
		c.notify = c.notify || r.Action.Kind == specs.ActNotify
		added++
	}
	c.tree = added > 32
	return c, nil
}

func (c *compiler) addRule(db *archDB, r Rule, act uint32, order int) error {
	if mux, call, direct, ok := db.table.demux(r.Syscall); ok {
		conds := slices.DeleteFunc(slices.Clone(r.Conditions), func(c Condition) bool { return c.Index == 0 })
		conds = append(conds, Condition{Index: 0, Op: specs.OpEqualTo, Value: call})
		if err := db.add(mux, conds, act, order, false); err != nil {
			return err
		}
		return db.add(direct, r.Conditions, act, order, true)
	}
	nr, ok := db.table.nr(r.Syscall)
	if !ok {
		return nil
	}
	return db.add(nr, r.Conditions, act, order, false)
}

// enosysBounds finds, for each architecture in the filter, the highest
// syscall number the profile names there.
func (c *compiler) enosysBounds() []archBound {
	var bounds []archBound
	for _, db := range c.dbs {
		var top uint32
		for _, name := range c.f.Listed {
			// Negative numbers are pseudo-syscalls: names that do
			// not exist on this architecture.
			if nr, ok := db.table.nr(name); ok && nr >= 0 && uint32(nr) > top {
				top = uint32(nr)
			}
		}
		if top == 0 {
			continue
		}
		i := slices.IndexFunc(bounds, func(b archBound) bool { return b.auditArch == db.table.auditArch })
		if i < 0 {
			bounds = append(bounds, archBound{auditArch: db.table.auditArch})
			i = len(bounds) - 1
		}
		if db.table.arch == specs.ArchX32 {
			bounds[i].x32Max = top
		} else {
			bounds[i].max = top
		}
	}
	// x32 without x86_64 cannot happen on an x86_64 kernel, whose native
	// x86_64 is always in the filter; without a bound there is no check.
	return slices.DeleteFunc(bounds, func(b archBound) bool { return b.max == 0 })
}

// section is the syscalls of one AUDIT_ARCH: x86_64 and x32 share one.
type section struct {
	auditArch uint32
	bigEndian bool
	// x32Bad is set for x86_64 without x32: x32 syscalls are then a bad
	// architecture, except nr -1 (libseccomp lets it through to the
	// syscall checks, where it matches nothing).
	x32Bad bool
	sys    []*sysRules // sorted by number
}

func (c *compiler) sections() []*section {
	var out []*section
	has := func(a specs.Arch) bool {
		return slices.ContainsFunc(c.dbs, func(db *archDB) bool { return db.table.arch == a })
	}
	for _, db := range c.dbs {
		i := slices.IndexFunc(out, func(s *section) bool { return s.auditArch == db.table.auditArch })
		if i < 0 {
			out = append(out, &section{auditArch: db.table.auditArch, bigEndian: db.table.bigEndian,
				x32Bad: db.table.arch == specs.ArchX86_64 && !has(specs.ArchX32)})
			i = len(out) - 1
		}
		for _, s := range db.sys {
			out[i].sys = append(out[i].sys, s)
		}
	}
	for _, s := range out {
		if c.tree {
			s.sys = slices.DeleteFunc(s.sys, func(r *sysRules) bool { return !r.treeEmits })
		} else {
			// Pseudo-syscalls (names this architecture does not have)
			// are never passed by the kernel. libseccomp 2.5's linear
			// layout sometimes drops the load of the syscall number
			// with them, and then gives the whole architecture the
			// default action: a bug not reproduced here.
			s.sys = slices.DeleteFunc(s.sys, func(r *sysRules) bool { return r.pseudo })
		}
		sort.Slice(s.sys, func(i, j int) bool { return s.sys[i].nr < s.sys[j].nr })
	}
	return out
}

// program emits the BPF.
func (c *compiler) program() ([]unix.SockFilter, error) {
	var a asm
	secs := c.sections()
	a.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArch)
	labels := make([]label, len(secs))
	for i, s := range secs {
		labels[i] = a.newLabel()
		next := a.newLabel()
		a.jump(unix.BPF_JEQ, s.auditArch, labels[i], next)
		a.bind(next)
	}
	a.ret(badArchAction)
	for i, s := range secs {
		a.bind(labels[i])
		a.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offNr)
		if s.x32Bad {
			x32, bad, ok := a.newLabel(), a.newLabel(), a.newLabel()
			a.jump(unix.BPF_JGE, x32SyscallBit, x32, ok)
			a.bind(x32)
			a.jump(unix.BPF_JEQ, 0xffffffff, ok, bad)
			a.bind(bad)
			a.ret(badArchAction)
			a.bind(ok)
		}
		c.dispatch(&a, s, s.sys, nil)
	}
	return a.assemble()
}

// linearMax is how many syscalls are compared one by one; more are split
// in halves first. Each split costs one jump on every path, each linear
// comparison one on the paths that pass it.
const linearMax = 5

// poolSpan bounds the estimated code that shares one pool of returns, so
// that the jumps to them mostly fit in 8 bits (assemble adds trampolines
// for the others).
const poolSpan = 200

// size estimates the instructions a tree level takes.
func size(nodes []*node) int {
	n := 0
	for _, x := range nodes {
		n += 3 + size(x.t.sub()) + size(x.f.sub())
	}
	return n
}

func sysSize(sys []*sysRules) int {
	n := 2 * len(sys)
	for _, r := range sys {
		for _, g := range r.groups {
			n += 1
			if g.tree != nil {
				n += size(g.tree.nodes)
			}
		}
	}
	return n
}

// dispatch emits a binary search over syscall numbers (A holds nr). pool,
// if not nil, is the shared returns of an enclosing part small enough.
func (c *compiler) dispatch(a *asm, s *section, sys []*sysRules, pool map[uint32]label) {
	own := pool == nil && sysSize(sys) <= poolSpan
	if own {
		pool = map[uint32]label{}
	}
	if len(sys) > linearMax {
		mid := len(sys) / 2
		hi, lo := a.newLabel(), a.newLabel()
		a.jump(unix.BPF_JGE, sys[mid].nr, hi, lo)
		a.bind(lo)
		c.dispatch(a, s, sys[:mid], pool)
		a.bind(hi)
		c.dispatch(a, s, sys[mid:], pool)
		if own {
			a.flush(pool)
		}
		return
	}
	if pool == nil {
		own, pool = true, map[uint32]label{}
	}
	bodies := make([]label, len(sys))
	for i, r := range sys {
		if g := r.groups[0]; g.hasAct {
			// The most restrictive group matches every call.
			bodies[i] = a.retLabel(pool, g.act)
		} else {
			bodies[i] = a.newLabel()
		}
		next := a.newLabel()
		a.jump(unix.BPF_JEQ, r.nr, bodies[i], next)
		a.bind(next)
	}
	a.ja(a.retLabel(pool, c.def))
	for i, r := range sys {
		if r.groups[0].hasAct {
			continue
		}
		a.bind(bodies[i])
		c.groups(a, s, pool, r.groups)
	}
	if own {
		a.flush(pool)
	}
}

// groups emits a syscall's action groups, most restrictive first: each
// group's tree, failing to the next group, the last to the default.
func (c *compiler) groups(a *asm, s *section, pool map[uint32]label, gs []*actGroup) {
	for _, g := range gs {
		if g.hasAct {
			a.ja(a.retLabel(pool, g.act))
			return
		}
		next := a.newLabel()
		c.level(a, s, pool, g.tree.nodes, next)
		a.bind(next)
	}
	a.ja(a.retLabel(pool, c.def))
}

// level emits the siblings of one tree level in order; fail is where a
// level without a match continues.
func (c *compiler) level(a *asm, s *section, pool map[uint32]label, nodes []*node, fail label) {
	if len(nodes) == 0 {
		a.ja(fail)
		return
	}
	// Each sibling has two entries: its load of the argument word, for
	// paths that changed A, and just after it, for the edges of the
	// previous sibling's comparison itself when that loaded the same
	// word and did not mask it.
	var entry, loaded label = -1, -1
	for i, n := range nodes {
		if entry >= 0 {
			a.bind(entry)
		}
		off := uint32(16 + 8*n.arg)
		if n.hi != s.bigEndian {
			off += 4
		}
		a.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, off)
		if loaded >= 0 {
			a.bind(loaded)
		}
		next, nextLoaded := fail, fail
		if i < len(nodes)-1 {
			next = a.newLabel()
			nextLoaded = next
			if o := nodes[i+1]; o.arg == n.arg && o.hi == n.hi && n.op != cmpME {
				nextLoaded = a.newLabel()
			}
		}
		var op uint16
		switch n.op {
		case cmpEQ:
			op = unix.BPF_JEQ
		case cmpGT:
			op = unix.BPF_JGT
		case cmpGE:
			op = unix.BPF_JGE
		case cmpME:
			a.stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, n.mask)
			op = unix.BPF_JEQ
		}
		t := c.target(a, pool, n.t, nextLoaded)
		f := c.target(a, pool, n.f, nextLoaded)
		a.jump(op, n.datum, t, f)
		if len(n.t.sub()) > 0 {
			a.bind(t)
			c.level(a, s, pool, n.t.sub(), next)
		}
		if len(n.f.sub()) > 0 {
			a.bind(f)
			c.level(a, s, pool, n.f.sub(), next)
		}
		entry, loaded = next, -1
		if nextLoaded != next {
			loaded = nextLoaded
		}
	}
}

// target is where a branch jumps: its action's return, a fresh label for
// its subtree, or on to the next sibling.
func (c *compiler) target(a *asm, pool map[uint32]label, b branch, next label) label {
	switch {
	case b.hasAct:
		return a.retLabel(pool, b.act)
	case len(b.sub()) > 0:
		return a.newLabel()
	}
	return next
}

// label names an instruction position before it is known.
type label int

type insn struct {
	unix.SockFilter
	jt, jf label // for conditional jumps
	ja     label // for BPF_JA; -1 otherwise
	cond   bool
}

// asm assembles instructions with symbolic jump targets. Classic BPF's
// conditional jumps reach at most 255 instructions ahead; farther ones go
// through a JA, which reaches anywhere.
type asm struct {
	insns  []insn
	labels []int // label → instruction index, -1 until bound
}

func (a *asm) newLabel() label {
	a.labels = append(a.labels, -1)
	return label(len(a.labels) - 1)
}

func (a *asm) bind(l label) { a.labels[l] = len(a.insns) }

func (a *asm) stmt(code uint16, k uint32) {
	a.insns = append(a.insns, insn{SockFilter: unix.SockFilter{Code: code, K: k}, ja: -1})
}

func (a *asm) ret(k uint32) { a.stmt(unix.BPF_RET|unix.BPF_K, k) }

// retLabel is the label of a shared "ret k" in pool, emitted by flush.
func (a *asm) retLabel(pool map[uint32]label, k uint32) label {
	l, ok := pool[k]
	if !ok {
		l = a.newLabel()
		pool[k] = l
	}
	return l
}

// flush emits the returns of pool, in a fixed order.
func (a *asm) flush(pool map[uint32]label) {
	ks := make([]uint32, 0, len(pool))
	for k := range pool {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	for _, k := range ks {
		a.bind(pool[k])
		a.ret(k)
	}
}

func (a *asm) ja(l label) {
	a.insns = append(a.insns, insn{SockFilter: unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA}, ja: l})
}

func (a *asm) jump(op uint16, k uint32, t, f label) {
	a.insns = append(a.insns, insn{SockFilter: unix.SockFilter{Code: unix.BPF_JMP | op | unix.BPF_K, K: k}, jt: t, jf: f, ja: -1, cond: true})
}

// assemble resolves labels. Jumps to a JA go straight to its target, code
// no jump reaches is dropped, and conditional jumps too far for 8 bits get
// a JA trampoline right after them.
func (a *asm) assemble() ([]unix.SockFilter, error) {
	for _, l := range a.labels {
		if l < 0 || l >= len(a.insns) {
			return nil, errors.New("seccomp: internal error: unbound label")
		}
	}
	// resolve follows JAs; jumps only go forward, so this ends.
	resolve := func(l label) int {
		i := a.labels[l]
		for a.insns[i].ja >= 0 {
			i = a.labels[a.insns[i].ja]
		}
		return i
	}
	n := len(a.insns)
	targets := make([][2]int, n) // resolved jt/jf (cond) or ja target
	reach := make([]bool, n+1)
	reach[0] = true
	for i, in := range a.insns {
		if i > 0 {
			p := a.insns[i-1]
			if reach[i-1] && !p.cond && p.ja < 0 && p.Code&0x07 != unix.BPF_RET {
				reach[i] = true
			}
		}
		if !reach[i] {
			continue
		}
		switch {
		case in.cond:
			targets[i] = [2]int{resolve(in.jt), resolve(in.jf)}
			reach[targets[i][0]], reach[targets[i][1]] = true, true
		case in.ja >= 0:
			targets[i][0] = resolve(in.ja)
			reach[targets[i][0]] = true
		}
	}
	var kept []int
	for i := range n {
		if reach[i] {
			kept = append(kept, i)
		}
	}
	// far[j] says whether kept instruction j's true and false targets
	// need trampolines; grown until every jump fits.
	far := make([][2]bool, len(kept))
	for {
		pos := make([]int, n) // instruction index → output position
		p := 0
		for j, i := range kept {
			pos[i] = p
			p++
			if far[j][0] {
				p++
			}
			if far[j][1] {
				p++
			}
		}
		changed := false
		out := make([]unix.SockFilter, 0, p)
		for j, i := range kept {
			in := a.insns[i]
			switch {
			case in.ja >= 0:
				out = append(out, unix.SockFilter{Code: in.Code, K: uint32(pos[targets[i][0]] - pos[i] - 1)})
				continue
			case !in.cond:
				out = append(out, in.SockFilter)
				continue
			}
			// Layout: jxx; [ja true]; [ja false].
			base := pos[i] + 1
			slot := base
			var offs [2]int
			for k := range 2 {
				if far[j][k] {
					offs[k] = slot - base
					slot++
				} else if offs[k] = pos[targets[i][k]] - base; offs[k] > 255 {
					far[j][k] = true
					changed = true
				}
			}
			if offs[0] < 0 || offs[1] < 0 {
				return nil, errors.New("seccomp: internal error: backward jump")
			}
			out = append(out, unix.SockFilter{Code: in.Code, Jt: uint8(offs[0]), Jf: uint8(offs[1]), K: in.K})
			slot = base
			for k := range 2 {
				if far[j][k] {
					out = append(out, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA, K: uint32(pos[targets[i][k]] - slot - 1)})
					slot++
				}
			}
		}
		if !changed {
			return out, nil
		}
	}
}
