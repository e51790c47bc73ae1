package seccomp

// The rule database: per architecture, per syscall, the rules grouped by
// action (return value), each group one decision tree built as libseccomp
// 2.5 builds its tree (its src/db.c, reproduced by observing what libseccomp
// does), so that the program behaves the same:
//
//   - A rule without conditions makes its group match every call; the
//     group's other rules no longer matter.
//   - A rule with conditions becomes a chain of comparisons of 32-bit words,
//     ordered by argument number. On 64-bit architectures each argument is
//     compared through its high and then its low word; on 32-bit ones (x32
//     and MIPS n32 included: libseccomp's ARCH_SIZE_32) only the low word,
//     against the low word of the value.
//   - Chains of one group merge into one tree: equal comparisons at one
//     level share a node, and different ones are siblings in libseccomp's
//     order. The program tries siblings in order and takes the first that
//     leads to the action; a sibling whose subtree reaches none falls
//     through to the next one. A chain longer than an existing one with the
//     same beginning adds nothing and is dropped, as libseccomp does.
//   - The groups of a syscall are tried most restrictive first (precede);
//     when none matches, the default action applies. libseccomp merges all
//     actions into one tree instead, refuses some overlaps (EEXIST) and
//     resolves others by the order of its comparisons; a profile with one
//     action per syscall, like Docker's, gets the same program either way.

import (
	"fmt"
	"slices"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cmpOp is the BPF comparison a node makes.
type cmpOp uint8

const (
	cmpEQ cmpOp = iota // A == datum
	cmpGT              // A > datum
	cmpGE              // A >= datum
	cmpME              // (A & mask) == datum
)

// branch is where one outcome of a comparison leads: an action, a level of
// further comparisons, or nothing (fall through to the next sibling).
type branch struct {
	hasAct bool
	act    uint32
	next   *level
}

// level is the siblings one outcome leads to. Like libseccomp's, the tree
// is really a DAG: a condition's continuation is shared by the outcomes
// that lead to it, and merging a rule into it changes it for all of them.
type level struct{ nodes []*node }

func (b branch) sub() []*node {
	if b.next == nil {
		return nil
	}
	return b.next.nodes
}

// node compares one 32-bit word of an argument.
type node struct {
	arg   uint // 0-5
	hi    bool // the high word; the low one otherwise
	op    cmpOp
	mask  uint32 // cmpME only
	datum uint32
	// inverted marks the nodes of NE, LT and LE conditions, which act on
	// the false outcome; libseccomp orders them first among equals.
	inverted bool
	t, f     branch
}

func (n *node) same(o *node) bool {
	return n.arg == o.arg && n.hi == o.hi && n.op == o.op && n.mask == o.mask && n.datum == o.datum
}

// before reports whether a new node n goes in front of the existing node x
// on a level. libseccomp keeps a level ordered: higher arguments first, then
// higher values, equality tests (masked or not) before range tests, the
// nodes of negated conditions before others; among equals, in the order the
// rules came.
func (n *node) before(x *node) bool {
	if n.arg != x.arg {
		return n.arg > x.arg
	}
	if n.datum != x.datum {
		return n.datum > x.datum
	}
	eqClass := func(o cmpOp) bool { return o == cmpEQ || o == cmpME }
	if eqClass(n.op) != eqClass(x.op) {
		return eqClass(n.op)
	}
	return n.inverted && !x.inverted
}

// chain builds the comparisons of one condition, leading to cont when the
// condition holds; is32 compares the low word only.
func chain(c Condition, is32 bool, cont branch) *node {
	lo, hi := uint32(c.Value), uint32(c.Value>>32)
	mk := func(hiWord bool, op cmpOp, datum uint32) *node {
		return &node{arg: c.Index, hi: hiWord, op: op, datum: datum}
	}
	inv := func(ns ...*node) {
		for _, n := range ns {
			n.inverted = true
		}
	}
	lvl := func(n *node) branch { return branch{next: &level{nodes: []*node{n}}} }
	if is32 {
		var n *node
		switch c.Op {
		case specs.OpEqualTo:
			n = mk(false, cmpEQ, lo)
			n.t = cont
		case specs.OpNotEqual:
			n = mk(false, cmpEQ, lo)
			n.f = cont
			inv(n)
		case specs.OpGreaterThan:
			n = mk(false, cmpGT, lo)
			n.t = cont
		case specs.OpGreaterEqual:
			n = mk(false, cmpGE, lo)
			n.t = cont
		case specs.OpLessThan:
			n = mk(false, cmpGE, lo)
			n.f = cont
			inv(n)
		case specs.OpLessEqual:
			n = mk(false, cmpGT, lo)
			n.f = cont
			inv(n)
		case specs.OpMaskedEqual:
			// libseccomp masks the datum too.
			n = mk(false, cmpME, uint32(c.ValueTwo)&lo)
			n.mask = lo
			n.t = cont
		}
		return n
	}
	switch c.Op {
	case specs.OpEqualTo, specs.OpNotEqual:
		l := mk(false, cmpEQ, lo)
		h := mk(true, cmpEQ, hi)
		h.t = lvl(l)
		if c.Op == specs.OpEqualTo {
			l.t = cont
		} else {
			l.f = cont
			h.f = cont
			inv(l, h)
		}
		return h
	case specs.OpGreaterThan, specs.OpGreaterEqual, specs.OpLessThan, specs.OpLessEqual:
		// hi > v.hi, or hi == v.hi and lo compares: the 64-bit order.
		op := cmpGT
		if c.Op == specs.OpGreaterEqual || c.Op == specs.OpLessThan {
			op = cmpGE
		}
		l := mk(false, op, lo)
		e := mk(true, cmpEQ, hi)
		e.t = lvl(l)
		h := mk(true, cmpGT, hi)
		h.f = lvl(e)
		if c.Op == specs.OpGreaterThan || c.Op == specs.OpGreaterEqual {
			l.t = cont
			h.t = cont
		} else {
			l.f = cont
			e.f = cont
			inv(l, e, h)
		}
		return h
	case specs.OpMaskedEqual:
		mlo, mhi := uint32(c.Value), uint32(c.Value>>32)
		dlo, dhi := uint32(c.ValueTwo), uint32(c.ValueTwo>>32)
		// libseccomp masks the datum too: a datum bit outside the mask
		// does not make the condition impossible.
		l := mk(false, cmpME, dlo&mlo)
		l.mask = mlo
		l.t = cont
		h := mk(true, cmpME, dhi&mhi)
		h.mask = mhi
		h.t = lvl(l)
		return h
	}
	panic("seccomp: unknown operator " + string(c.Op)) // Plan checked
}

// ruleTree is the tree of one rule's conditions, sorted by argument.
func ruleTree(conds []Condition, is32 bool, act uint32) *node {
	cs := slices.Clone(conds)
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Index < cs[j].Index })
	cont := branch{hasAct: true, act: act}
	var n *node
	for i := len(cs) - 1; i >= 0; i-- {
		n = chain(cs[i], is32, cont)
		cont = branch{next: &level{nodes: []*node{n}}}
	}
	return n
}

// errOverlap is libseccomp's EEXIST for rules that cannot be merged.
var errOverlap = fmt.Errorf("it overlaps a rule with another action: %w", unix.EEXIST)

// actionsAgree reports whether every action in nodes is act.
func actionsAgree(nodes []*node, act uint32) bool {
	for _, n := range nodes {
		for _, b := range []branch{n.t, n.f} {
			if b.hasAct && b.act != act || !actionsAgree(b.sub(), act) {
				return false
			}
		}
	}
	return true
}

// insert merges the rule tree n into lv.
func insert(lv *level, n *node) error {
	for _, x := range lv.nodes {
		if x.same(n) {
			return merge(x, n)
		}
	}
	if i := slices.IndexFunc(lv.nodes, n.before); i >= 0 {
		lv.nodes = slices.Insert(lv.nodes, i, n)
	} else {
		lv.nodes = append(lv.nodes, n)
	}
	return nil
}

// mergeAct puts the action of a new branch onto an existing one.
func mergeAct(x *branch, nb branch, final bool) error {
	if !nb.hasAct {
		return nil
	}
	switch {
	case x.hasAct:
		// Two chains ending on one comparison with different actions
		// conflict; on the high word of a 64-bit range test libseccomp
		// keeps the action it had.
		if x.act != nb.act && final {
			return errOverlap
		}
	case x.next != nil:
		// The new rule is shorter: its action replaces the longer
		// chains, which must agree with it.
		if !actionsAgree(x.next.nodes, nb.act) {
			return errOverlap
		}
		*x = branch{hasAct: true, act: nb.act}
	default:
		*x = branch{hasAct: true, act: nb.act}
	}
	return nil
}

// mergeNext merges the subtree of a new branch; stop reports that the
// existing tree was shorter, where libseccomp stops merging the rule.
func mergeNext(x *branch, nb branch) (stop bool, err error) {
	if nb.next == nil {
		return false, nil
	}
	switch {
	case x.hasAct:
		return true, nil
	case x.next != nil:
		for _, c := range nb.next.nodes {
			if err = insert(x.next, c); err != nil {
				return false, err
			}
		}
	default:
		x.next = nb.next
	}
	return false, nil
}

func merge(x, n *node) error {
	final := !n.hi
	if err := mergeAct(&x.t, n.t, final); err != nil {
		return err
	}
	if err := mergeAct(&x.f, n.f, final); err != nil {
		return err
	}
	if stop, err := mergeNext(&x.t, n.t); stop || err != nil {
		return err
	}
	_, err := mergeNext(&x.f, n.f)
	return err
}

// actGroup is the rules of one syscall that have one action (return
// value): merged into one tree, as libseccomp merges them, which is exact
// for rules that agree on the action (a longer chain below a shorter one
// adds nothing).
type actGroup struct {
	act    uint32
	hasAct bool // an unconditional rule: the group always matches
	tree   *level
	order  int // of its first rule
}

// sysRules is what one syscall does on one architecture: a group per
// action, tried most restrictive first (see precede).
type sysRules struct {
	nr     uint32
	groups []*actGroup
	order  int // of the first rule, for stable output
	pseudo bool
	// treeEmits says whether the tree layout puts the syscall in the
	// program: real ones, and pseudo-syscalls a multiplexing hook added
	// as a direct syscall.
	treeEmits bool
}

// archDB is the database of one architecture.
type archDB struct {
	table *archTable
	sys   map[uint32]*sysRules
}

// add adds a rule for syscall nr. A negative nr is a pseudo-syscall: the
// name does not exist here, and its rules stay out of the program, except,
// in the tree layout, for the direct form of a multiplexed call
// (muxDirect), as libseccomp does.
func (db *archDB) add(nr int32, conds []Condition, act uint32, order int, muxDirect bool) error {
	s := db.sys[uint32(nr)]
	if s == nil {
		s = &sysRules{nr: uint32(nr), order: order, pseudo: nr < 0}
		db.sys[uint32(nr)] = s
	}
	s.treeEmits = s.treeEmits || !s.pseudo || muxDirect
	i := slices.IndexFunc(s.groups, func(g *actGroup) bool { return g.act == act })
	if i < 0 {
		s.groups = append(s.groups, &actGroup{act: act, order: order})
		sort.SliceStable(s.groups, func(i, j int) bool { return precede(s.groups[i], s.groups[j]) < 0 })
		i = slices.IndexFunc(s.groups, func(g *actGroup) bool { return g.act == act })
	}
	g := s.groups[i]
	if g.hasAct {
		return nil // already matches every call
	}
	if len(conds) == 0 {
		g.hasAct, g.tree = true, nil
		return nil
	}
	if g.tree == nil {
		g.tree = &level{}
	}
	return insert(g.tree, ruleTree(conds, db.table.is32, act))
}

// precede orders the action groups of one syscall: where rules with
// different actions match the same call, the most restrictive action wins,
// in the order the kernel itself ranks the actions of several filters
// (seccomp(2): KILL_PROCESS, KILL_THREAD, TRAP, ERRNO, USER_NOTIF, TRACE,
// LOG, ALLOW; the signed value of SECCOMP_RET_ACTION_FULL), and between
// two data of one action (two errnos), the earlier rule's. libseccomp
// instead merges such rules into one tree whose outcome depends on the
// order of its comparisons, and drops or refuses some of them; the
// differential tests show that this rule never makes a call allowed
// that libseccomp's program would not allow, and that rules with a
// single action per syscall give exactly libseccomp's results.
func precede(a, b *actGroup) int {
	ra, rb := int32(a.act&unix.SECCOMP_RET_ACTION_FULL), int32(b.act&unix.SECCOMP_RET_ACTION_FULL)
	switch {
	case ra < rb:
		return -1
	case ra > rb:
		return 1
	}
	return a.order - b.order
}

// demux returns, for a call that libseccomp multiplexes on t, the
// multiplexer's number, the call number it takes as its first argument and
// the direct syscall's number. A rule for such a call (libseccomp's x86,
// PowerPC, MIPS o32 and s390 rule hooks) applies both to the multiplexer,
// with the call number replacing any condition on the first argument and
// the other conditions kept (on the multiplexer's arguments), and to the
// direct syscall, even where that is a pseudo-syscall the kernel never
// passes.
func (t *archTable) demux(name string) (mux int32, call uint64, direct int32, ok bool) {
	if !t.mux || t.direct == nil {
		return 0, 0, 0, false
	}
	i := slices.Index(muxCalls[:], name)
	switch {
	case i < 0:
		return 0, 0, 0, false
	case i < 20:
		mux, ok = t.nr("socketcall")
		call = uint64(i + 1)
	default:
		mux, ok = t.nr("ipc")
		call = ipcCallNumbers[i-20]
	}
	return mux, call, t.direct[i], ok
}
