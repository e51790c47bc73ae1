package cgroups

// insn is one eBPF instruction (struct bpf_insn, include/uapi/linux/bpf.h).
type insn struct {
	code     uint8
	dst, src uint8 // registers, 4 bits each
	off      int16
	imm      int32
}

// Opcodes the device program uses (class | op | source).
const (
	opLdxW     = 0x61 // BPF_LDX|BPF_MEM|BPF_W: dst = *(u32 *)(src + off)
	opAndK32   = 0x54 // BPF_ALU|BPF_AND|BPF_K: w_dst &= imm
	opRshK32   = 0x74 // BPF_ALU|BPF_RSH|BPF_K: w_dst >>= imm
	opMovX32   = 0xbc // BPF_ALU|BPF_MOV|BPF_X: w_dst = w_src
	opMovK64   = 0xb7 // BPF_ALU64|BPF_MOV|BPF_K: dst = imm
	opJneK     = 0x55 // BPF_JMP|BPF_JNE|BPF_K: if dst != imm goto +off
	opJeqK     = 0x15 // BPF_JMP|BPF_JEQ|BPF_K
	opJneX     = 0x5d // BPF_JMP|BPF_JNE|BPF_X: if dst != src goto +off
	opExit     = 0x95 // BPF_JMP|BPF_EXIT
	regR0      = 0
	regCtx     = 1 // r1 holds the context on entry, scratch afterwards
	regType    = 2
	regAccess  = 3
	regMajor   = 4
	regMinor   = 5
	ctxAccType = 0 // struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
	ctxMajor   = 4
	ctxMinor   = 8
)

// deviceProgram assembles a BPF_PROG_TYPE_CGROUP_DEVICE program deciding
// like evalRules: rules are tested from the last to the first, the first
// match returns its verdict (1 allow, 0 deny), and no match allows. The
// kernel calls it with access_type = (access << 16) | type.
func deviceProgram(rules []devRule) []insn {
	prog := []insn{
		{code: opLdxW, dst: regType, src: regCtx, off: ctxAccType},
		{code: opAndK32, dst: regType, imm: 0xffff},
		{code: opLdxW, dst: regAccess, src: regCtx, off: ctxAccType},
		{code: opRshK32, dst: regAccess, imm: 16},
		{code: opLdxW, dst: regMajor, src: regCtx, off: ctxMajor},
		{code: opLdxW, dst: regMinor, src: regCtx, off: ctxMinor},
	}
	verdict := func(allow bool) []insn {
		v := int32(0)
		if allow {
			v = 1
		}
		return []insn{{code: opMovK64, dst: regR0, imm: v}, {code: opExit}}
	}
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		if r.reset() {
			// Everything before a reset is unreachable.
			return append(prog, verdict(r.allow)...)
		}
		var block []insn
		// Jumps are filled in with off = -1 and fixed below to land on
		// the first instruction after the block.
		switch r.typ {
		case 'b':
			block = append(block, insn{code: opJneK, dst: regType, imm: devBlock, off: -1})
		case 'c':
			block = append(block, insn{code: opJneK, dst: regType, imm: devChar, off: -1})
		}
		if r.allow {
			if r.acc != accAll {
				block = append(block,
					insn{code: opMovX32, dst: regCtx, src: regAccess},
					insn{code: opAndK32, dst: regCtx, imm: int32(r.acc)},
					insn{code: opJneX, dst: regCtx, src: regAccess, off: -1})
			}
		} else {
			block = append(block,
				insn{code: opMovX32, dst: regCtx, src: regAccess},
				insn{code: opAndK32, dst: regCtx, imm: int32(r.acc)},
				insn{code: opJeqK, dst: regCtx, imm: 0, off: -1})
		}
		if r.major >= 0 {
			block = append(block, insn{code: opJneK, dst: regMajor, imm: int32(r.major), off: -1})
		}
		if r.minor >= 0 {
			block = append(block, insn{code: opJneK, dst: regMinor, imm: int32(r.minor), off: -1})
		}
		block = append(block, verdict(r.allow)...)
		for j := range block {
			if block[j].off == -1 {
				block[j].off = int16(len(block) - j - 1)
			}
		}
		prog = append(prog, block...)
	}
	return append(prog, verdict(true)...)
}

// encode lays the program out as the kernel reads it (little-endian
// struct bpf_insn, dst in the low nibble).
func encode(prog []insn) []byte {
	out := make([]byte, 0, 8*len(prog))
	for _, in := range prog {
		out = append(out, in.code, in.dst&0xf|in.src<<4,
			byte(in.off), byte(uint16(in.off)>>8),
			byte(in.imm), byte(uint32(in.imm)>>8), byte(uint32(in.imm)>>16), byte(uint32(in.imm)>>24))
	}
	return out
}
