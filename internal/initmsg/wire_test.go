package initmsg

import (
	"math/rand"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// fill sets every field reachable from v to a random non-zero value:
// pointers, slices and maps non-nil with elements, so that a field the
// wire form forgot would show in the round trip.
func fill(r *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x := r.Int63() >> (64 - v.Type().Bits())
		if r.Intn(2) == 0 {
			x = -x - 1
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(r.Uint64()>>(64-v.Type().Bits()) | 1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(r.Float64())
	case reflect.String:
		b := make([]byte, 1+r.Intn(20))
		r.Read(b) // any bytes, NULs and invalid UTF-8 included
		v.SetString(string(b))
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(r, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		n := 1 + r.Intn(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			fill(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(r, v.Index(i), depth+1)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := 0; i < 1+r.Intn(3); i++ {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(r, k, depth+1)
			fill(r, e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Interface:
		// Windows.CredentialSpec: what JSON would give back.
		v.Set(reflect.ValueOf(map[string]any{"a": "b", "n": 1.5}))
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			fill(r, v.Field(i), depth+1)
		}
	}
}

func roundTrip(t *testing.T, m *Msg) *Msg {
	t.Helper()
	b, err := marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var got Msg
	if err := unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	return &got
}

func TestWireRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 50; i++ {
		var m Msg
		fill(r, reflect.ValueOf(&m).Elem(), 0)
		if got := roundTrip(t, &m); !reflect.DeepEqual(got, &m) {
			t.Fatalf("round trip %d changed the message:\n got %+v\nwant %+v", i, got.Config.Spec, m.Config.Spec)
		}
	}
}

// TestWireNilAndEmpty: nil and empty differ in a spec (an absent
// capabilities list is not an empty one), and both must survive.
func TestWireNilAndEmpty(t *testing.T) {
	m := &Msg{Type: TypeConfig, Config: &Config{
		Spec:     &specs.Spec{Process: &specs.Process{Args: []string{}, Env: nil}, Annotations: map[string]string{}},
		IDMapFds: map[int]int{},
	}}
	got := roundTrip(t, m)
	p := got.Config.Spec.Process
	if p.Args == nil || len(p.Args) != 0 || p.Env != nil || got.Config.Spec.Annotations == nil || got.Config.IDMapFds == nil ||
		got.Config.Spec.Linux != nil || got.Config.Process != nil {
		t.Errorf("nil/empty not kept: %+v %+v", got.Config, p)
	}
}

// TestWireMalformed: every truncation of a message, and a few lies about
// lengths, are errors, not panics or huge allocations.
func TestWireMalformed(t *testing.T) {
	var m Msg
	fill(rand.New(rand.NewSource(2)), reflect.ValueOf(&m).Elem(), 0)
	b, err := marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b); n++ {
		var got Msg
		if err := unmarshal(b[:n], &got); err == nil {
			t.Fatalf("a message cut to %d of %d bytes decoded", n, len(b))
		}
	}
	var got Msg
	if err := unmarshal(append(b, 0), &got); err == nil {
		t.Error("trailing bytes accepted")
	}
	// Type's length claims 2^40 bytes.
	huge := []byte{wireMagic, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20}
	if err := unmarshal(huge, &got); err == nil {
		t.Error("an impossible length decoded")
	}
	if err := unmarshal([]byte(`{"type":"pid"}`), &got); err == nil {
		t.Error("JSON decoded as the wire form")
	}
}
