package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// randomize fills v with random values: pointers, slices and maps nil,
// empty or filled, strings from a small alphabet (sometimes with
// characters encoding/json escapes), numbers across their whole range.
func randomize(r *rand.Rand, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(r.Intn(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x := r.Int63() >> (64 - v.Type().Bits())
		if r.Intn(2) == 0 {
			x = -x - 1
		}
		v.SetInt(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(r.Uint64() >> (64 - v.Type().Bits()) >> uint(r.Intn(64)))
	case reflect.Float32, reflect.Float64:
		f := r.NormFloat64() * math.Pow(10, float64(r.Intn(60)-30))
		if r.Intn(20) == 0 {
			odd := []float64{0, math.Copysign(0, -1), 1e21, 1e20, 1e-6, 1e-7, 123456789e-15,
				math.MaxFloat64, math.SmallestNonzeroFloat64, math.MaxFloat32, math.NaN(), math.Inf(1), math.Inf(-1)}
			f = odd[r.Intn(len(odd))]
		}
		v.SetFloat(f)
	case reflect.String:
		v.SetString(randomString(r))
	case reflect.Pointer:
		if depth > 8 || r.Intn(3) == 0 {
			return
		}
		p := reflect.New(v.Type().Elem())
		randomize(r, p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		switch r.Intn(4) {
		case 0:
			return
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			return
		}
		n := 1 + r.Intn(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			randomize(r, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		if r.Intn(3) == 0 {
			return
		}
		m := reflect.MakeMap(v.Type())
		for i := r.Intn(3); i > 0; i-- {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			randomize(r, k, depth+1)
			randomize(r, e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Interface:
		if r.Intn(10) == 0 {
			if a := randomAny(r, depth); a != nil {
				v.Set(reflect.ValueOf(a))
			}
		}
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(randomTime(r)))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !f.CanSet() { // unexported, in the encoder's test types
				f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
			}
			randomize(r, f, depth+1)
		}
	}
}

// randomString is mostly a plain name or path, sometimes with what
// encoding/json escapes or replaces: quotes, backslashes, HTML's < > &,
// control characters, U+2028 and U+2029, invalid UTF-8, any rune.
func randomString(r *rand.Rand) string {
	const plain = "abcXYZ019/._- :=,"
	var b strings.Builder
	wild := r.Intn(10) == 0
	for i := r.Intn(12); i > 0; i-- {
		if !wild {
			b.WriteByte(plain[r.Intn(len(plain))])
			continue
		}
		switch r.Intn(8) {
		case 0:
			b.WriteByte(byte(r.Intn(0x20))) // control characters
		case 1:
			b.WriteByte(`"\<>&/`[r.Intn(6)])
		case 2:
			b.WriteRune([]rune("\u2028\u2029\u007f\u00e9\u20ac\ufffd\U0001f600")[r.Intn(7)])
		case 3:
			b.WriteByte(byte(0x80 + r.Intn(0x80))) // a stray UTF-8 byte
		case 4:
			b.WriteString("\xe2\x80") // U+2028 cut short
		case 5:
			b.WriteRune(rune(r.Intn(0x110000))) // surrogates become U+FFFD
		default:
			b.WriteByte(plain[r.Intn(len(plain))])
		}
	}
	return b.String()
}

// randomTime is zero, UTC or in a fixed zone (odd offsets included), with
// or without nanoseconds; now and then in a year or zone json.Marshal
// refuses.
func randomTime(r *rand.Rand) time.Time {
	if r.Intn(4) == 0 {
		return time.Time{}
	}
	t := time.Unix(r.Int63n(1<<34)-1<<32, 0)
	if r.Intn(2) == 0 {
		t = t.Add(time.Duration(r.Intn(1e9)))
	}
	switch r.Intn(6) {
	case 0:
		t = t.UTC()
	case 1:
		t = t.In(time.FixedZone("X", (r.Intn(48)-24)*1800))
	case 2:
		t = t.In(time.FixedZone("", r.Intn(86400)-43200)) // seconds in the offset
	case 3:
		t = t.In(time.Local)
	case 4:
		if r.Intn(10) == 0 {
			t = t.In(time.FixedZone("far", 25*3600)) // refused
		}
	}
	if r.Intn(50) == 0 {
		t = t.AddDate(10000*(1-2*r.Intn(2)), 0, 0) // refused
	}
	return t
}

// randomAny is what an interface{} (Windows' credentialSpec) might hold:
// what json.Unmarshal makes, and now and then what it never makes.
func randomAny(r *rand.Rand, depth int) any {
	if depth > 10 {
		return nil
	}
	switch r.Intn(12) {
	case 0:
		return nil
	case 1:
		return randomString(r)
	case 2:
		return r.NormFloat64() * math.Pow(10, float64(r.Intn(60)-30))
	case 3:
		return r.Intn(2) == 0
	case 4:
		var l []any
		for i := r.Intn(4); i > 0; i-- {
			l = append(l, randomAny(r, depth+1))
		}
		return l
	case 5, 6:
		m := map[string]any{}
		for i := r.Intn(4); i > 0; i-- {
			m[randomString(r)] = randomAny(r, depth+1)
		}
		return m
	case 7:
		return json.Number("12.5") // a MarshalJSON-less string type json.Marshal checks
	case 8:
		return randomTime(r)
	case 9:
		n := r.Int63()
		return &n
	case 10:
		return []byte(randomString(r))
	}
	return map[int]string{r.Intn(100) - 50: "x", r.Intn(100): randomString(r)}
}

// check decodes doc both ways: where fastDecode succeeds, encoding/json
// must succeed too and agree. It reports whether the fast path was taken.
func check(t *testing.T, doc []byte) bool {
	t.Helper()
	var want, got specs.Spec
	stdErr := json.NewDecoder(bytes.NewReader(doc)).Decode(&want)
	if err := fastDecode(doc, &got); err != nil {
		return false
	}
	if stdErr != nil {
		t.Fatalf("fastDecode took what encoding/json refuses (%v):\n%s", stdErr, doc)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fastDecode and encoding/json disagree at %s on\n%s", diffPath(reflect.ValueOf(got), reflect.ValueOf(want), "spec"), doc)
	}
	return true
}

// diffPath names the first place a and b differ (nil and empty apart).
func diffPath(a, b reflect.Value, path string) string {
	if a.Kind() != b.Kind() {
		return path + ": kinds"
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() != b.IsNil() {
			return path + ": nil vs not"
		}
		if a.IsNil() {
			return ""
		}
		return diffPath(a.Elem(), b.Elem(), path)
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return path + ": nil or length"
		}
		for i := 0; i < a.Len(); i++ {
			if p := diffPath(a.Index(i), b.Index(i), path+"["+strconv.Itoa(i)+"]"); p != "" {
				return p
			}
		}
	case reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return path + ": nil or length"
		}
		for _, k := range a.MapKeys() {
			if p := diffPath(a.MapIndex(k), b.MapIndex(k), path+"["+k.String()+"]"); p != "" {
				return p
			}
		}
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if p := diffPath(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	default:
		// fmt prints values reflect will not hand out (unexported fields).
		if x, y := fmt.Sprint(a), fmt.Sprint(b); x != y {
			return path + ": " + x + " vs " + y
		}
	}
	return ""
}

// mutate edits a JSON document as a hand or another tool might: keys in
// other cases, unknown and repeated keys, nulls, values of another type,
// whitespace, escapes, truncation.
func mutate(r *rand.Rand, doc []byte) []byte {
	s := string(doc)
	for n := 1 + r.Intn(3); n > 0; n-- {
		if len(s) < 2 {
			break
		}
		i := r.Intn(len(s))
		switch r.Intn(10) {
		case 0: // a key (or any string) upper-cased
			if j := strings.IndexByte(s[i:], '"'); j >= 0 {
				k := i + j + 1
				if e := strings.IndexByte(s[k:], '"'); e >= 0 {
					s = s[:k] + strings.ToUpper(s[k:k+e]) + s[k+e:]
				}
			}
		case 1:
			s = s[:i]
		case 2:
			s = s[:i] + " \n\t" + s[i:]
		case 3: // an unknown key
			if j := strings.IndexByte(s[i:], '{'); j >= 0 {
				k := i + j + 1
				s = s[:k] + `"zzUnknown":{"a":[1,true,null,"x",{"b":-2.5e3}]},` + s[k:]
			}
		case 4: // a value becomes null
			if j := strings.Index(s[i:], `":`); j >= 0 {
				k := i + j + 2
				e := k
				for e < len(s) && s[e] != ',' && s[e] != '}' {
					e++
				}
				s = s[:k] + "null" + s[e:]
			}
		case 5: // a repeated key
			if j := strings.Index(s[i:], `{"`); j >= 0 {
				k := i + j + 1
				if e := strings.Index(s[k:], ","); e >= 0 {
					s = s[:k] + s[k:k+e+1] + s[k:]
				}
			}
		case 6: // a number becomes a string, or the reverse
			s = strings.Replace(s[:i], ":1", `:"1"`, 1) + s[i:]
		case 7:
			s = s[:i] + `\u0041` + s[i:]
		case 8:
			s = strings.Replace(s, ":true", ":1", 1)
		case 9:
			s = strings.Replace(s, `":"`, `":["`, 1)
		}
	}
	return []byte(s)
}

func TestFastDecode(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	fast, total, mutFast := 0, 0, 0
	for i := 0; i < 3000; i++ {
		var s specs.Spec
		randomize(r, reflect.ValueOf(&s).Elem(), 0)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(i%2 == 0)
		if err := enc.Encode(&s); err != nil {
			// A time json.Marshal refuses, in a credentialSpec.
			if !strings.Contains(err.Error(), "Time.MarshalJSON") {
				t.Fatal(err)
			}
			continue
		}
		total++
		if check(t, buf.Bytes()) {
			fast++
		}
		for j := 0; j < 5; j++ {
			if check(t, mutate(r, buf.Bytes())) {
				mutFast++
			}
		}
	}
	// Plain documents take the fast path; the test would prove nothing if
	// everything fell back (random specs often hold what falls back: an
	// escape, a Windows credentialSpec, an embedded block I/O device).
	if fast < total/20 {
		t.Errorf("only %d of %d random specs took the fast path", fast, total)
	}
	t.Logf("%d of %d random specs and %d of their %d mutations decoded by fastDecode", fast, total, mutFast, 5*total)
}

// TestFastDecodeDefault: runc's default spec, the common case, takes the
// fast path.
func TestFastDecodeDefault(t *testing.T) {
	b, err := json.MarshalIndent(Default(), "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if !check(t, b) {
		t.Error("the default spec fell back to encoding/json")
	}
}

// TestFastDecodeCases: documents where encoding/json's rules are easy to
// get wrong; each must fall back or decode exactly as encoding/json does.
func TestFastDecodeCases(t *testing.T) {
	for _, doc := range []string{
		`{"mounts":[{"destination":"/a","type":"x"}],"mounts":[{"destination":"/b"}]}`, // merges in encoding/json
		`{"process":{"cwd":"/a"},"process":{"args":["x"]}}`,
		`{"PROCESS":{"CWD":"/a"},"Hostname":"h","hostName":"i"}`,
		`{"process":null,"linux":{"namespaces":null,"sysctl":{}},"mounts":[]}`,
		`{"hostname":null,"process":{"terminal":null,"user":{"uid":null}}}`,
		`{"hostname":"a\nb"}`, `{"hostname":"\u00e9"}`, "{\"hostname\":\"\xff\"}",
		`{"process":{"user":{"uid":1.0}}}`, `{"process":{"user":{"uid":-1}}}`,
		`{"process":{"user":{"uid":4294967296}}}`, `{"process":{"oomScoreAdj":-0}}`,
		`{"process":{"user":{"uid":1e2}}}`, `{"process":{"user":{"uid":01}}}`,
		`{"process":{"rlimits":[{"type":"RLIMIT_NOFILE","hard":18446744073709551615,"soft":1}]}}`,
		`{"linux":{"resources":{"blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":10}]}}}}`,
		`{"windows":{"credentialSpec":{"a":[1]}}}`,
		`{"hostname":"h"} trailing`, `{"hostname":"h"}{"hostname":"i"}`, `null`, `{}`, ` {"hostname" : "h" } `,
		`{"hostname":"h",}`, `{"hostname":"h"`, `{"hostname":tru}`, `{"zz":[1,2,{"a":nul}]}`,
		`{"annotations":{"a":"1","a":"2"}}`, `{"linux":{"sysctl":{"k":1}}}`,
		`{"process":{"args":"sh"}}`, `{"process":{"terminal":"true"}}`, `{"-":"x"}`,
	} {
		check(t, []byte(doc))
	}
}

type domA struct {
	X int `json:"x"`
	Y int
	W int
}

type domB struct {
	X int
	Z int `json:"y"`
	W int
}

// domState has what state.json has and specs.Spec lacks, and embedded
// structs whose names collide, for encoding/json's dominance rules.
type domState struct {
	domA
	domB
	Y    string
	When time.Time  `json:"when"`
	Ptr  *time.Time `json:"ptr"`
	specs.State
}

// TestDecodeFast: DecodeFast against json.Unmarshal on documents for
// domState: promoted and hidden fields, a MarshalJSON type, escapes,
// trailing data.
func TestDecodeFast(t *testing.T) {
	fast := 0
	for _, doc := range []string{
		`{"x":1,"X":2,"y":3,"Y":"s","W":4,"w":5,"id":"c","status":"running","pid":7,"annotations":{"a":"b"}}`,
		`{"when":"2026-12-03T19:00:00.000000123+01:00","ptr":"2026-12-03T19:00:00Z","ociVersion":"1.3.0"}`,
		`{"when":null,"ptr":null}`, `{"when":"bad"}`, `{"when":1}`,
		`{"Y":"a\u003cb\u0026c\n\"d\\\/"}`, `{"Y":"\ud83d\ude00"}`, `{"Y":"\u12"}`, `{"Y":"\q"}`,
		`{"Y":"s"} `, `{"Y":"s"} x`, `{"bundle":"/b","BUNDLE":"/c"}`,
	} {
		var want, got domState
		stdErr := json.Unmarshal([]byte(doc), &want)
		if !DecodeFast([]byte(doc), &got) {
			continue
		}
		fast++
		if stdErr != nil {
			t.Errorf("DecodeFast took what json.Unmarshal refuses (%v): %s", stdErr, doc)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("DecodeFast and json.Unmarshal disagree at %s on %s", diffPath(reflect.ValueOf(got), reflect.ValueOf(want), "x"), doc)
		}
	}
	// The plain ones: the first three, the escapes, the trailing space
	// (bundle in two cases is one field given twice).
	if fast != 5 {
		t.Errorf("%d documents took the fast path, want 5", fast)
	}
	var st domState
	if !DecodeFast([]byte(`{"x":1,"when":"2026-12-03T19:00:00Z","Y":"a\u003cb"}`), &st) || st.domA.X != 1 || st.Y != "a<b" || st.When.Year() != 2026 {
		t.Errorf("DecodeFast did not take a plain state: %+v", st)
	}
}
