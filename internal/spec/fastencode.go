package spec

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// EncodeFast encodes v as json.Marshal does, byte for byte, for the values
// it knows how to, and reports false for everything else: then the caller
// uses json.Marshal, which also words every error.
//
// Why: json.Marshal's first encode of a type in a process builds an
// encoder and a field table for every type it can reach, ~240 KB of heap
// and ~0.8 ms for a specs.Spec's graph, and the runtime saves one state
// (holding its spec) per create: ~300 KB of the process's peak RSS. This
// walks the values by reflection with structFields, encoding/json's field
// rules, cached per struct type and shared with fastDecode. It gives up on
// a type with its own MarshalJSON or MarshalText (by either receiver)
// other than time.Time, json.Number, the omitzero and ,string options,
// map keys other than strings and integers, NaN and infinities and times
// MarshalJSON refuses (errors for json.Marshal), slices of a named byte
// type, channels, functions, complex numbers, and anything nested deeper
// than maxEncodeDepth (a cycle, say). The TestEncodeFast tests check it
// against json.Marshal on random specs, states and values of every kind
// it takes, and internal/runtime's TestSaveEncodeFast on its State.
func EncodeFast(v any) ([]byte, bool) {
	// A default spec's state is ~2 KB: one buffer holds it.
	e := encoder{b: make([]byte, 0, 4096)}
	if !e.value(reflect.ValueOf(v), 0) {
		return nil, false
	}
	return e.b, true
}

// maxEncodeDepth bounds the walk: a spec nests ~8 deep, and a cycle,
// which json.Marshal reports as an error, must not recurse for ever.
const maxEncodeDepth = 100

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	timeType      = reflect.TypeFor[time.Time]()
	numberType    = reflect.TypeFor[json.Number]()
	byteType      = reflect.TypeFor[byte]()
)

// How the encoder takes a type, beyond its kind.
const (
	encKind     = iota + 1 // by its kind
	encTime                // time.Time's MarshalJSON
	encFallback            // json.Marshal's to encode
)

var encKinds sync.Map // reflect.Type -> int

// encKindOf decides as encoding/json's newTypeEncoder does: a type whose
// pointer has MarshalJSON or MarshalText uses it when the value is
// addressable and falls back to its kind when not; that depends on the
// value, so all of them but time.Time (whose method has a value receiver)
// are left to json.Marshal. *time.Time's MarshalJSON writes null for nil
// and time.Time's text otherwise, which is what following the pointer
// writes.
func encKindOf(t reflect.Type) int {
	switch t.Kind() {
	case reflect.Struct, reflect.Pointer, reflect.Interface:
	default:
		if t.Name() == "" {
			return encKind // an unnamed type of these kinds has no methods
		}
	}
	if k, ok := encKinds.Load(t); ok {
		return k.(int)
	}
	k := encKind
	switch {
	case t == timeType:
		k = encTime
	case t.Kind() == reflect.Pointer && t.Elem() == timeType:
	case t == numberType, t.Implements(jsonMarshaler), t.Implements(textMarshaler):
		k = encFallback
	case t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface:
		if pt := reflect.PointerTo(t); pt.Implements(jsonMarshaler) || pt.Implements(textMarshaler) {
			k = encFallback
		}
	}
	encKinds.Store(t, k)
	return k
}

type encoder struct {
	b []byte
}

func (e *encoder) value(v reflect.Value, depth int) bool {
	if !v.IsValid() { // json.Marshal(nil)
		e.b = append(e.b, "null"...)
		return true
	}
	if depth > maxEncodeDepth {
		return false
	}
	t := v.Type()
	switch encKindOf(t) {
	case encFallback:
		return false
	case encTime:
		// Every value the walk reaches can be read out (it skips
		// unexported fields); CanInterface keeps TypeAssert from panicking.
		if !v.CanInterface() {
			return false
		}
		tm, _ := reflect.TypeAssert[time.Time](v)
		return e.time(tm)
	}
	switch v.Kind() {
	case reflect.Bool:
		e.b = strconv.AppendBool(e.b, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.b = strconv.AppendInt(e.b, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.b = strconv.AppendUint(e.b, v.Uint(), 10)
	case reflect.Float32:
		return e.float(v.Float(), 32)
	case reflect.Float64:
		return e.float(v.Float(), 64)
	case reflect.String:
		e.b = appendString(e.b, v.String())
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			e.b = append(e.b, "null"...)
			return true
		}
		return e.value(v.Elem(), depth+1)
	case reflect.Struct:
		return e.structure(v, depth)
	case reflect.Map:
		return e.mapping(v, depth)
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			// encoding/json writes base64 unless the element type's
			// pointer has MarshalJSON or MarshalText: byte's has not.
			if t.Elem() != byteType {
				return false
			}
			if v.IsNil() {
				e.b = append(e.b, "null"...)
				return true
			}
			e.b = append(e.b, '"')
			e.b = base64.StdEncoding.AppendEncode(e.b, v.Bytes())
			e.b = append(e.b, '"')
			return true
		}
		if v.IsNil() {
			e.b = append(e.b, "null"...)
			return true
		}
		return e.array(v, depth)
	case reflect.Array:
		return e.array(v, depth)
	default: // complex, chan, func, unsafe.Pointer: an error for json.Marshal
		return false
	}
	return true
}

func (e *encoder) array(v reflect.Value, depth int) bool {
	e.b = append(e.b, '[')
	for i := range v.Len() {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		if !e.value(v.Index(i), depth+1) {
			return false
		}
	}
	e.b = append(e.b, ']')
	return true
}

func (e *encoder) structure(v reflect.Value, depth int) bool {
	si := structInfoOf(v.Type())
	if !si.ok || si.quoted || si.omitZ {
		return false
	}
	next := byte('{')
fields:
	for i := range si.fields {
		f := &si.fields[i]
		fv := v
		for _, j := range f.index {
			if fv.Kind() == reflect.Pointer {
				// A nil embedded pointer's fields are left out.
				if fv.IsNil() {
					continue fields
				}
				fv = fv.Elem()
			}
			fv = fv.Field(j)
		}
		if f.omitEmpty && isEmptyValue(fv) {
			continue
		}
		e.b = append(e.b, next)
		next = ','
		// A valid tag or Go name holds no character appendString escapes
		// but <, > and &, which encoding/json escapes in names too.
		e.b = appendString(e.b, f.name)
		e.b = append(e.b, ':')
		if !e.value(fv, depth+1) {
			return false
		}
	}
	if next == '{' {
		e.b = append(e.b, '{')
	}
	e.b = append(e.b, '}')
	return true
}

// isEmptyValue is encoding/json's test for omitempty.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// mapping writes a map with its keys sorted as strings, integers' as
// their decimal text, as encoding/json does.
func (e *encoder) mapping(v reflect.Value, depth int) bool {
	kt, et := v.Type().Key(), v.Type().Elem()
	switch kt.Kind() {
	case reflect.String:
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		// encoding/json names these keys by their MarshalText first.
		if kt.Implements(textMarshaler) {
			return false
		}
	default:
		return false
	}
	if v.IsNil() {
		e.b = append(e.b, "null"...)
		return true
	}
	if v.CanInterface() {
		if m, ok := reflect.TypeAssert[map[string]string](v); ok {
			e.stringMap(m)
			return true
		}
	}
	// Strings are read through one
	// reusable Value each for key and element, not a Value per entry.
	strElem := et.Kind() == reflect.String && encKindOf(et) == encKind
	type entry struct {
		key, str string
		v        reflect.Value
	}
	entries := make([]entry, 0, v.Len())
	k := reflect.New(kt).Elem()
	var s reflect.Value
	if strElem {
		s = reflect.New(et).Elem()
	}
	for it := v.MapRange(); it.Next(); {
		k.SetIterKey(it)
		var en entry
		switch kt.Kind() {
		case reflect.String:
			en.key = k.String()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			en.key = strconv.FormatInt(k.Int(), 10)
		default:
			en.key = strconv.FormatUint(k.Uint(), 10)
		}
		if strElem {
			s.SetIterValue(it)
			en.str = s.String()
		} else {
			en.v = it.Value()
		}
		entries = append(entries, en)
	}
	// sort.Slice, not slices.SortFunc: a generic sort of a new element
	// type is another copy of pdqsort in the binary.
	sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	e.b = append(e.b, '{')
	for i, en := range entries {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = appendString(e.b, en.key)
		e.b = append(e.b, ':')
		if strElem {
			e.b = appendString(e.b, en.str)
		} else if !e.value(en.v, depth+1) {
			return false
		}
	}
	e.b = append(e.b, '}')
	return true
}

// stringMap is mapping for the maps of most specs (annotations, sysctl,
// unified), without reflection.
func (e *encoder) stringMap(m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.b = append(e.b, '{')
	for i, k := range keys {
		if i > 0 {
			e.b = append(e.b, ',')
		}
		e.b = appendString(e.b, k)
		e.b = append(e.b, ':')
		e.b = appendString(e.b, m[k])
	}
	e.b = append(e.b, '}')
}

// time writes what time.Time's MarshalJSON does (RFC 3339 with
// nanoseconds, quoted), and refuses what it refuses: a year outside
// [0,9999], a zone offset of 24 hours or more.
func (e *encoder) time(t time.Time) bool {
	n0 := len(e.b)
	e.b = append(e.b, '"')
	e.b = t.AppendFormat(e.b, time.RFC3339Nano)
	b := e.b[n0+1:]
	num2 := func(b []byte) byte { return 10*(b[0]-'0') + (b[1] - '0') }
	switch {
	case b[len("9999")] != '-':
		return false
	case b[len(b)-1] != 'Z':
		c := b[len(b)-len("Z07:00")]
		if '0' <= c && c <= '9' || num2(b[len(b)-len("07:00"):]) >= 24 {
			return false
		}
	}
	e.b = append(e.b, '"')
	return true
}

// float is encoding/json's floatEncoder: ES6's number to string.
func (e *encoder) float(f float64, bits int) bool {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return false
	}
	abs := math.Abs(f)
	format := byte('f')
	// float32 comparisons for a float32, for its cutoffs.
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	e.b = strconv.AppendFloat(e.b, f, format, -1, bits)
	if format == 'e' {
		// e-09 to e-9
		n := len(e.b)
		if n >= 4 && e.b[n-4] == 'e' && e.b[n-3] == '-' && e.b[n-2] == '0' {
			e.b[n-2] = e.b[n-1]
			e.b = e.b[:n-1]
		}
	}
	return true
}

// appendString is encoding/json's, with HTML escaping on (as in
// json.Marshal): ", \ and the control characters escaped, the ones with
// a letter by it, \b \f \n \r \t, and <, >, & as \u00XX; invalid UTF-8
// as \ufffd; U+2028 and U+2029 as \u2028 and \u2029.
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '\\', '"':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
