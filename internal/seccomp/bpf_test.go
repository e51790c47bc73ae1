package seccomp

import (
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// seccompData is struct seccomp_data (include/uapi/linux/seccomp.h), which
// the kernel fills in host byte order for a filter to read.
type seccompData struct {
	nr   int32
	arch uint32
	ip   uint64
	args [6]uint64
}

func (d *seccompData) bytes() [64]byte {
	var b [64]byte
	binary.NativeEndian.PutUint32(b[0:], uint32(d.nr))
	binary.NativeEndian.PutUint32(b[4:], d.arch)
	binary.NativeEndian.PutUint64(b[8:], d.ip)
	for i, a := range d.args {
		binary.NativeEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// decodeBPF splits a Program's bytes into instructions.
func decodeBPF(b []byte) ([]unix.SockFilter, error) {
	if len(b)%sockFilterSize != 0 {
		return nil, fmt.Errorf("%d bytes", len(b))
	}
	insns := make([]unix.SockFilter, len(b)/sockFilterSize)
	_, err := binary.Decode(b, binary.NativeEndian, insns)
	return insns, err
}

// interpret runs a classic BPF seccomp program as the kernel would (the
// subset seccomp allows: kernel/seccomp.c, seccomp_check_filter) and returns
// the action and the number of instructions executed. It checks what the
// kernel's verifier checks on the way: jumps inside the program, aligned
// in-bounds loads, scratch memory written before it is read.
func interpret(prog []unix.SockFilter, d *seccompData) (ret uint32, steps int, err error) {
	data := d.bytes()
	var a, x uint32
	var mem [16]uint32
	var memSet [16]bool
	for pc := 0; pc < len(prog); pc++ {
		steps++
		in := prog[pc]
		src := in.K
		if in.Code&0x08 == unix.BPF_X {
			src = x
		}
		switch in.Code & 0x07 {
		case unix.BPF_LD:
			switch in.Code {
			case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
				if in.K%4 != 0 || in.K >= 64 {
					return 0, steps, fmt.Errorf("pc %d: load of offset %d", pc, in.K)
				}
				a = binary.NativeEndian.Uint32(data[in.K:])
			case unix.BPF_LD | unix.BPF_W | unix.BPF_LEN:
				a = 64
			case unix.BPF_LD | unix.BPF_IMM:
				a = in.K
			case unix.BPF_LD | unix.BPF_MEM:
				if in.K >= 16 || !memSet[in.K] {
					return 0, steps, fmt.Errorf("pc %d: read of scratch %d", pc, in.K)
				}
				a = mem[in.K]
			default:
				return 0, steps, fmt.Errorf("pc %d: unsupported load %#x", pc, in.Code)
			}
		case unix.BPF_LDX:
			switch in.Code {
			case unix.BPF_LDX | unix.BPF_W | unix.BPF_LEN:
				x = 64
			case unix.BPF_LDX | unix.BPF_IMM:
				x = in.K
			case unix.BPF_LDX | unix.BPF_MEM:
				if in.K >= 16 || !memSet[in.K] {
					return 0, steps, fmt.Errorf("pc %d: read of scratch %d", pc, in.K)
				}
				x = mem[in.K]
			default:
				return 0, steps, fmt.Errorf("pc %d: unsupported ldx %#x", pc, in.Code)
			}
		case unix.BPF_ST, unix.BPF_STX:
			if in.K >= 16 {
				return 0, steps, fmt.Errorf("pc %d: store to scratch %d", pc, in.K)
			}
			if in.Code == unix.BPF_ST {
				mem[in.K] = a
			} else {
				mem[in.K] = x
			}
			memSet[in.K] = true
		case unix.BPF_ALU:
			switch in.Code & 0xf0 {
			case unix.BPF_ADD:
				a += src
			case unix.BPF_SUB:
				a -= src
			case unix.BPF_MUL:
				a *= src
			case unix.BPF_DIV:
				if src == 0 {
					return 0, steps, nil // the kernel returns 0 (KILL)
				}
				a /= src
			case unix.BPF_MOD:
				if src == 0 {
					return 0, steps, nil
				}
				a %= src
			case unix.BPF_AND:
				a &= src
			case unix.BPF_OR:
				a |= src
			case unix.BPF_XOR:
				a ^= src
			case unix.BPF_LSH:
				a <<= src & 31
			case unix.BPF_RSH:
				a >>= src & 31
			case unix.BPF_NEG:
				a = -a
			default:
				return 0, steps, fmt.Errorf("pc %d: unsupported alu %#x", pc, in.Code)
			}
		case unix.BPF_JMP:
			var ok bool
			switch in.Code & 0xf0 {
			case unix.BPF_JA:
				pc += int(in.K)
				if pc+1 >= len(prog) {
					return 0, steps, fmt.Errorf("pc %d: jump out of the program", pc)
				}
				continue
			case unix.BPF_JEQ:
				ok = a == src
			case unix.BPF_JGT:
				ok = a > src
			case unix.BPF_JGE:
				ok = a >= src
			case unix.BPF_JSET:
				ok = a&src != 0
			default:
				return 0, steps, fmt.Errorf("pc %d: unsupported jump %#x", pc, in.Code)
			}
			if ok {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
			if pc+1 >= len(prog) {
				return 0, steps, fmt.Errorf("pc %d: jump out of the program", pc)
			}
		case unix.BPF_RET:
			switch in.Code & 0x18 {
			case unix.BPF_K:
				return in.K, steps, nil
			case unix.BPF_A:
				return a, steps, nil
			}
			return 0, steps, fmt.Errorf("pc %d: unsupported ret %#x", pc, in.Code)
		case unix.BPF_MISC:
			switch in.Code {
			case unix.BPF_MISC | unix.BPF_TAX:
				x = a
			case unix.BPF_MISC | unix.BPF_TXA:
				a = x
			default:
				return 0, steps, fmt.Errorf("pc %d: unsupported misc %#x", pc, in.Code)
			}
		}
	}
	return 0, steps, fmt.Errorf("ran off the end of the program")
}

// disasm renders a program for failure messages.
func disasm(prog []unix.SockFilter) string {
	var b strings.Builder
	for i, in := range prog {
		fmt.Fprintf(&b, "%04d: code %#04x jt %3d jf %3d k %#010x\n", i, in.Code, in.Jt, in.Jf, in.K)
	}
	return b.String()
}
