package cgroups

import (
	"fmt"
	"math/rand"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runProgram interprets the subset of eBPF deviceProgram emits, on the
// encoded bytes, the way the kernel would run it for one device access.
func runProgram(t *testing.T, code []byte, typ, major, minor, acc uint32) uint64 {
	t.Helper()
	ctx := []uint32{acc<<16 | typ, major, minor}
	var reg [11]uint64
	for pc, steps := 0, 0; ; pc, steps = pc+1, steps+1 {
		if pc*8 >= len(code) || steps > 10000 {
			t.Fatalf("program ran off the end at %d", pc)
		}
		b := code[pc*8:]
		opc, dst, src := b[0], b[1]&0xf, b[1]>>4
		off := int16(uint16(b[2]) | uint16(b[3])<<8)
		imm := int32(uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24)
		switch opc {
		case opLdxW:
			if src != regCtx || off%4 != 0 || off < 0 || off > 8 {
				t.Fatalf("bad ctx load at %d", pc)
			}
			reg[dst] = uint64(ctx[off/4])
		case opAndK32:
			reg[dst] = uint64(uint32(reg[dst]) & uint32(imm))
		case opRshK32:
			reg[dst] = uint64(uint32(reg[dst]) >> uint32(imm))
		case opMovX32:
			reg[dst] = uint64(uint32(reg[src]))
		case opMovK64:
			reg[dst] = uint64(int64(imm))
		case opJneK:
			if reg[dst] != uint64(int64(imm)) {
				pc += int(off)
			}
		case opJeqK:
			if reg[dst] == uint64(int64(imm)) {
				pc += int(off)
			}
		case opJneX:
			if reg[dst] != reg[src] {
				pc += int(off)
			}
		case opExit:
			return reg[0]
		default:
			t.Fatalf("unknown opcode %#x at %d", opc, pc)
		}
	}
}

func devRuleSpec(allow bool, typ string, major, minor int64, acc string) specs.LinuxDeviceCgroup {
	d := specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Access: acc}
	if major >= 0 {
		d.Major = &major
	}
	if minor >= 0 {
		d.Minor = &minor
	}
	return d
}

func TestDeviceAllowedTable(t *testing.T) {
	denyAll := devRuleSpec(false, "a", -1, -1, "rwm")
	rules := []specs.LinuxDeviceCgroup{
		denyAll,
		devRuleSpec(true, "c", 1, 3, "rwm"),
		devRuleSpec(true, "c", 136, -1, "rw"),
		devRuleSpec(true, "b", 8, 0, "r"),
		devRuleSpec(false, "c", 1, 3, "w"),
	}
	for _, tc := range []struct {
		typ          byte
		major, minor uint32
		acc          string
		want         bool
	}{
		{'c', 1, 3, "r", true},
		{'c', 1, 3, "rw", false}, // the later deny takes w away
		{'c', 1, 3, "m", true},
		{'c', 1, 5, "r", false},
		{'c', 136, 7, "rw", true},
		{'c', 136, 7, "m", false},
		{'b', 8, 0, "r", true},
		{'b', 8, 0, "w", false},
		{'c', 8, 0, "r", false},
	} {
		got, err := DeviceAllowed(rules, tc.typ, tc.major, tc.minor, tc.acc)
		if err != nil || got != tc.want {
			t.Errorf("%c %d:%d %s = %v, %v; want %v", tc.typ, tc.major, tc.minor, tc.acc, got, err, tc.want)
		}
	}
	// No rules, or no reset: a new cgroup allows everything.
	if ok, _ := DeviceAllowed(nil, 'c', 1, 1, "rwm"); !ok {
		t.Errorf("empty rules deny")
	}
	if ok, _ := DeviceAllowed([]specs.LinuxDeviceCgroup{devRuleSpec(false, "c", 1, 1, "w")}, 'c', 1, 1, "r"); !ok {
		t.Errorf("deny w refused r")
	}
}

// TestDeviceProgramMatchesEvaluator runs the assembled program against the
// Go evaluator for random rule lists and every kind of access.
func TestDeviceProgramMatchesEvaluator(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	types := []string{"a", "b", "c"}
	accs := []string{"r", "w", "m", "rw", "rm", "wm", "rwm"}
	for iter := 0; iter < 300; iter++ {
		var spec []specs.LinuxDeviceCgroup
		for n := rng.Intn(8); n > 0; n-- {
			maj, min := int64(rng.Intn(4)), int64(rng.Intn(4))
			if rng.Intn(3) == 0 {
				maj = -1
			}
			if rng.Intn(3) == 0 {
				min = -1
			}
			spec = append(spec, devRuleSpec(rng.Intn(2) == 0, types[rng.Intn(3)], maj, min, accs[rng.Intn(len(accs))]))
		}
		rules, err := normaliseDevices(spec)
		if err != nil {
			t.Fatal(err)
		}
		code := encode(deviceProgram(effective(rules)))
		for _, typ := range []uint32{devBlock, devChar} {
			for maj := uint32(0); maj < 4; maj++ {
				for min := uint32(0); min < 4; min++ {
					for acc := uint32(1); acc <= accAll; acc++ {
						want := evalRules(rules, typ, maj, min, acc)
						got := runProgram(t, code, typ, maj, min, acc) == 1
						if got != want {
							t.Fatalf("rules %s, dev %d %d:%d acc %d: program %v, evaluator %v",
								fmt.Sprint(spec), typ, maj, min, acc, got, want)
						}
					}
				}
			}
		}
	}
}

func TestV1DeviceWrites(t *testing.T) {
	rules, _ := normaliseDevices([]specs.LinuxDeviceCgroup{
		devRuleSpec(true, "c", 1, 1, "r"), // dropped: a later reset overrides it
		devRuleSpec(false, "a", -1, -1, "rwm"),
		devRuleSpec(true, "a", 5, -1, "rw"),
	})
	got := fmt.Sprint(v1DeviceWrites(rules))
	if want := "[deny:a allow:c 5:* rw allow:b 5:* rw]"; got != want {
		t.Errorf("writes %s, want %s", got, want)
	}
	rules, _ = normaliseDevices([]specs.LinuxDeviceCgroup{devRuleSpec(false, "c", 1, 1, "w")})
	if got, want := fmt.Sprint(v1DeviceWrites(rules)), "[allow:a deny:c 1:1 w]"; got != want {
		t.Errorf("writes %s, want %s", got, want)
	}
}
