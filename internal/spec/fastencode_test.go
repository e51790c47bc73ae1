package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkEncode encodes v both ways: where EncodeFast succeeds, json.Marshal
// must succeed too and write the same bytes. It reports whether the fast
// path was taken.
func checkEncode(t *testing.T, v any) bool {
	t.Helper()
	got, ok := EncodeFast(v)
	want, err := json.Marshal(v)
	if !ok {
		return false
	}
	if err != nil {
		t.Fatalf("EncodeFast took what json.Marshal refuses (%v): %s", err, got)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		from := max(0, i-60)
		t.Fatalf("EncodeFast and json.Marshal differ at byte %d:\n got  ...%s\n want ...%s", i,
			got[from:min(len(got), i+60)], want[from:min(len(want), i+60)])
	}
	return true
}

// tame replaces in v what EncodeFast leaves to json.Marshal on purpose,
// of what randomize makes: NaN and infinities (json.Marshal's errors),
// times MarshalJSON refuses, json.Numbers. A random value that falls back
// must take the fast path once tamed: nothing else falls back.
func tame(v reflect.Value) {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			v.SetFloat(0)
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if _, err := v.Interface().(time.Time).MarshalJSON(); err != nil {
				v.SetZero()
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !f.CanSet() {
				f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
			}
			tame(f)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			tame(v.Elem())
		}
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		if n, ok := v.Interface().(json.Number); ok {
			v.Set(reflect.ValueOf(string(n)))
			return
		}
		e := reflect.New(v.Elem().Type()).Elem()
		e.Set(v.Elem())
		tame(e)
		v.Set(e)
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			tame(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			tame(e)
			v.SetMapIndex(k, e)
		}
	}
}

// checkRandom is checkEncode for a random value (a pointer) that must take
// the fast path unless it holds what tame takes away.
func checkRandom(t *testing.T, v any) bool {
	t.Helper()
	if checkEncode(t, v) {
		return true
	}
	tame(reflect.ValueOf(v).Elem())
	if !checkEncode(t, v) {
		b, _ := json.Marshal(v)
		t.Fatalf("EncodeFast fell back on %T with nothing it should fall back for:\n%s", v, b)
	}
	return false
}

// StateCopy is internal/runtime's State (whose own test checks the real
// one against this encoder): a spec in a struct that embeds another, a
// time, omitempty maps, slices, numbers, bools.
type StateCopy struct {
	specs.State
	Rootfs        string            `json:"rootfs"`
	Created       time.Time         `json:"created"`
	Owner         string            `json:"owner"`
	InitStart     uint64            `json:"initStart,omitempty"`
	CgroupPaths   map[string]string `json:"cgroupPaths,omitempty"`
	CgroupCreated []string          `json:"cgroupCreated,omitempty"`
	Config        *specs.Spec       `json:"config,omitempty"`
	NoPivot       bool              `json:"noPivot,omitempty"`
}

// headerCopy is what Store.SaveHeader encodes: the state through an
// embedded pointer, its Config hidden by a shallower one.
type headerCopy struct {
	*StateCopy
	Config *struct{} `json:"config,omitempty"`
}

func TestEncodeFastSpecs(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	fast, total, refused := 0, 0, 0
	for i := 0; i < 4000; i++ {
		var s specs.Spec
		randomize(r, reflect.ValueOf(&s).Elem(), 0)
		if _, err := json.Marshal(&s); err != nil {
			refused++ // a time in a credentialSpec, out of range
		}
		total++
		// The spec as a value no pointer reaches (its fields are not
		// addressable), and the spec.
		checkEncode(t, s)
		if checkRandom(t, &s) {
			fast++
		}
	}
	// What falls back is a credentialSpec that holds a json.Number or a
	// time json.Marshal refuses: a few in a thousand.
	if fast < total*99/100 {
		t.Errorf("only %d of %d random specs (%d refused by json.Marshal) took the fast path", fast, total, refused)
	}
	t.Logf("%d of %d random specs encoded by EncodeFast (%d refused by json.Marshal)", fast, total, refused)
}

func TestEncodeFastState(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	fast, hfast, total := 0, 0, 0
	for i := 0; i < 3000; i++ {
		var st, hst StateCopy
		for _, s := range []*StateCopy{&st, &hst} {
			randomize(r, reflect.ValueOf(s).Elem(), 0)
			if r.Intn(3) == 0 {
				s.Config = Default()
				s.Config.Hostname = randomString(r)
			}
		}
		total++
		if checkRandom(t, &st) {
			fast++
		}
		h := headerCopy{StateCopy: &hst}
		if i%7 == 0 {
			h.StateCopy = nil
		}
		if i%5 == 0 {
			h.Config = &struct{}{}
		}
		if checkRandom(t, &h) {
			hfast++
		}
	}
	// A state falls back only for a time json.Marshal refuses (one in
	// ~40) or a credentialSpec's odd value.
	if fast < total*95/100 || hfast < total*95/100 {
		t.Errorf("%d states and %d headers of %d took the fast path", fast, hfast, total)
	}
	t.Logf("%d states and %d headers of %d encoded by EncodeFast", fast, hfast, total)
}

type nameType string

type (
	embP struct {
		P  int `json:"p"`
		X  int // X at depth 1 in domB: hidden
		Pz string
	}
	EmbQ struct {
		Q  []int `json:"q,omitempty"`
		Pz string
	}
	embV struct {
		V    int  `json:"v"`
		Z    bool // domB's Z too: the two hide each other
		hide int
	}
	MyInt int
	// Two K at depth 1: the tagged one wins.
	tagWins struct {
		K int `json:"K"`
	}
	tagLoses struct {
		K string
	}
)

// wide has each kind the encoder takes, in tags and embeddings that test
// encoding/json's rules.
type wide struct {
	domA
	domB
	*embP
	*EmbQ
	embV
	MyInt
	tagWins
	tagLoses
	Y        string
	F32      float32                        `json:"f32"`
	F64      float64                        `json:"f64,omitempty"`
	Arr      [3]int16                       `json:"arr"`
	Arr0     [0]int                         `json:"arr0,omitempty"`
	ArrO     [2]int                         `json:"arrO,omitempty"`
	Bytes    []byte                         `json:"bytes"`
	BytesO   []byte                         `json:"bytesO,omitempty"`
	ByteArr  [4]byte                        `json:"byteArr"`
	IntMap   map[int8]string                `json:"intMap"`
	UintMap  map[uint16]*int                `json:"uintMap"`
	NamedKey map[nameType]nameType          `json:"namedKey"`
	Nested   map[string]map[string][]string `json:",omitempty"`
	Any      any                            `json:"any"`
	AnyO     any                            `json:"anyO,omitempty"`
	PtrPtr   **string
	Times    []time.Time
	TimeP    *time.Time `json:"timeP,omitempty"`
	TimeO    time.Time  `json:"timeO,omitempty"` // a struct: never omitted
	Named    nameType   `json:"named,omitempty"`
	//lint:ignore SA5008 a name encoding/json does not take, on purpose
	Bad  int `json:"a\\b"` // the Go name instead
	HTML int `json:"<&>"`
	//lint:ignore SA5008 the field named "-", on purpose
	Dash   int            `json:"-,"`
	Skip   int            `json:"-"`
	Unexp  int            `json:",omitempty"`
	unexp  int            // must not be written
	U8     uint8          `json:",omitempty"`
	Up     uintptr        `json:"up"`
	I64    int64          `json:"i64,omitempty"`
	B      bool           `json:"b,omitempty"`
	S      []string       `json:"s,omitempty"`
	M      map[string]int `json:"m,omitempty"`
	Struct struct {
		A int `json:"a,omitempty"`
	} `json:"struct,omitempty"`
	Tagged domA `json:"tagged"`
	Spec   *specs.Spec
}

func TestEncodeFastWide(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	fast, total := 0, 0
	for i := 0; i < 4000; i++ {
		var w wide
		randomize(r, reflect.ValueOf(&w).Elem(), 0)
		total++
		if checkRandom(t, &w) {
			fast++
		}
	}
	// Falling back: NaN and infinities (json.Marshal's errors), refused
	// times, json.Number in an interface.
	if fast < total*80/100 {
		t.Errorf("only %d of %d random values took the fast path", fast, total)
	}
	t.Logf("%d of %d random values encoded by EncodeFast", fast, total)
}

type (
	marshalsJSON    struct{ A int }
	marshalsJSONPtr struct{ A int }
	marshalsText    int
	textKey         int
	textStringKey   string
	myByte          byte
	bytesNamed      []byte
	list            struct {
		V    int   `json:"v"`
		Next *list `json:"next,omitempty"`
	}
	wrapA struct{ domA }
	wrapB struct{ domA }
	twice struct {
		wrapA
		wrapB
	}
	unexpTag struct {
		embV `json:"e"`
	}
	stringOpt struct {
		N int `json:"n,string"`
	}
	stringOptIgnored struct {
		//lint:ignore SA5008 not a basic kind, on purpose: the option does nothing
		N []int `json:"n,string"`
	}
	zeroOpt struct {
		T time.Time `json:"t,omitzero"`
	}
	stringer string
	// An embedding that leads back to itself: its fields once.
	rec struct {
		*rec
		N int
	}
	withTime struct{ time.Time } // time's MarshalJSON, promoted
)

func (marshalsJSON) MarshalJSON() ([]byte, error)     { return []byte(`"m"`), nil }
func (*marshalsJSONPtr) MarshalJSON() ([]byte, error) { return []byte(`"p"`), nil }
func (marshalsText) MarshalText() ([]byte, error)     { return []byte("t"), nil }
func (textKey) MarshalText() ([]byte, error)          { return []byte("k"), nil }
func (textStringKey) MarshalText() ([]byte, error)    { return []byte("k"), nil }
func (s stringer) String() string                     { return string(s) }

func deepList(n int) *list {
	var l *list
	for i := 0; i < n; i++ {
		l = &list{V: i, Next: l}
	}
	return l
}

// TestEncodeFastCases: values where encoding/json's rules are easy to get
// wrong, each with whether EncodeFast must take it (and then agree).
func TestEncodeFastCases(t *testing.T) {
	tm := time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("", -(3*3600+30*60)))
	s := "s"
	ps := &s
	var nilMap map[string]string
	for i, c := range []struct {
		v    any
		fast bool
	}{
		{nil, true},
		{(*int)(nil), true},
		{ps, true},
		{&ps, true},
		{"<a href=\"x\">&amp;\u2028\u2029\x00\x1f\x7f\xff\xe2\x80</a>", true},
		{[]string(nil), true},
		{[]string{}, true},
		{nilMap, true},
		{map[string]string{}, true},
		{map[string]string{"b": "1", "a": "2", "<": "&", "é": "\u2028", "\xff": ""}, true},
		{map[int]int{10: 1, 9: 2, -1: 3, 100: 4}, true}, // keys sorted as text
		{map[uint8]bool{255: true, 3: false}, true},
		{map[textStringKey]int{"z": 1, "a": 2}, true}, // a string kind's MarshalText is not used for keys
		{map[textKey]int{1: 1}, false},
		{map[bool]int{true: 1}, false},
		{map[[2]int]int(nil), false}, // json.Marshal refuses the type even when nil
		{map[string]any{"t": tm, "n": nil, "l": []any{1.5, "x", map[string]any{}}}, true},
		{[]byte(nil), true},
		{[]byte{}, true},
		{[]byte("hello, world\x00\xff"), true},
		{bytesNamed("xyz"), true},
		{[]myByte{1, 2}, false},
		{[3]byte{1, 2, 3}, true},
		{tm, true},
		{&tm, true},
		{(*time.Time)(nil), true},
		{time.Time{}, true},
		{tm.UTC(), true},
		{tm.In(time.FixedZone("", 23*3600+59*60)), true},
		{tm.In(time.FixedZone("", 24*3600)), false}, // refused by MarshalJSON
		{tm.In(time.FixedZone("", -24*3600)), false},
		{tm.AddDate(8000, 0, 0), false},
		{tm.AddDate(-2027, 0, 0), false},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), true},
		{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{withTime{tm}, false},
		{[]float64{0, math.Copysign(0, -1), 1, -1.5, 1e20, 1e21, 1e-6, 1e-7, 123e-9, math.MaxFloat64, math.SmallestNonzeroFloat64}, true},
		{[]float32{1e20, 1e21, 1e-6, 1e-7, 3.4e38, 1.4e-45, 0.1}, true},
		{math.NaN(), false},
		{math.Inf(-1), false},
		{float32(math.Inf(1)), false},
		{json.Number("1"), false},
		{json.RawMessage(`{}`), false},
		{marshalsJSON{}, false},
		{&marshalsJSONPtr{}, false},
		{marshalsJSONPtr{}, false}, // not addressable: json.Marshal encodes it as a struct
		{[]marshalsJSONPtr{{}}, false},
		{marshalsText(1), false},
		{(*marshalsJSON)(nil), false},
		{stringer("x"), true},
		{[]fmt.Stringer{stringer("x"), nil}, true},
		{make(chan int), false},
		{struct{ F func() }{}, false},
		{struct {
			F func() `json:"-"`
		}{}, true},
		{complex(1, 2), false},
		{struct{ C []chan int }{}, true}, // a nil slice of what it cannot encode
		{deepList(10), true},
		{deepList(maxEncodeDepth + 10), false},
		{twice{}, false},
		{rec{N: 1, rec: &rec{N: 2}}, true},
		{struct {
			tagLoses
			tagWins
		}{tagLoses{"s"}, tagWins{1}}, true},
		{unexpTag{}, false},
		{stringOpt{}, false},
		{stringOptIgnored{N: []int{1}}, true},
		{zeroOpt{}, false},
		{struct{}{}, true},
		{&struct{ A, B int }{1, 2}, true},
		{struct {
			A int `json:"a,omitempty"`
		}{}, true},
		{domState{Y: "y", When: tm, Ptr: &tm, domA: domA{1, 2, 3}, domB: domB{4, 5, 6}}, true},
		{&domState{State: specs.State{ID: "id", Annotations: map[string]string{"z": "", "a": "<"}}}, true},
		{headerCopy{}, true},
		{&headerCopy{StateCopy: &StateCopy{Config: Default(), Created: tm}}, true},
		{&headerCopy{StateCopy: &StateCopy{}, Config: &struct{}{}}, true},
		{&wide{unexp: 1, embV: embV{hide: 2}}, true},
		{&wide{embP: &embP{P: 1, X: 2, Pz: "p"}, EmbQ: &EmbQ{Q: []int{1}, Pz: "q"}}, true},
		{&wide{EmbQ: &EmbQ{Pz: "q"}}, true},
		{&StateCopy{Config: Default(), Created: tm, CgroupPaths: map[string]string{"": "/a"}}, true},
		{Default(), true},
	} {
		if got := checkEncode(t, c.v); got != c.fast {
			t.Errorf("case %d (%T): fast path %v, want %v", i, c.v, got, c.fast)
		}
	}
}

// TestEncodeFastAllocs: once its types are known, a default spec's state
// costs EncodeFast one buffer (json.Marshal's first encode of the type
// graph costs ~240 KB; internal/runtime's TestSaveAllocs measures that).
func TestEncodeFastAllocs(t *testing.T) {
	st := &StateCopy{
		State:   specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreated, Pid: 42, Bundle: "/b"},
		Rootfs:  "/b/rootfs",
		Created: time.Now(),
		Config:  Default(),
		CgroupPaths: map[string]string{
			"": "/sys/fs/cgroup/c1",
		},
		CgroupCreated: []string{"/sys/fs/cgroup/c1"},
	}
	EncodeFast(st)
	if n := testing.AllocsPerRun(100, func() { EncodeFast(st) }); n > 3 {
		t.Errorf("EncodeFast of a default spec's state: %v allocations, want at most 3", n)
	}
}

func BenchmarkEncodeFast(b *testing.B) {
	st := &StateCopy{Config: Default(), Created: time.Now(), CgroupPaths: map[string]string{"": "/x"}}
	for _, enc := range []struct {
		name string
		f    func() bool
	}{
		{"fast", func() bool { _, ok := EncodeFast(st); return ok }},
		{"json", func() bool { _, err := json.Marshal(st); return err == nil }},
	} {
		b.Run(enc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !enc.f() {
					b.Fatal("failed")
				}
			}
		})
	}
}
