package spec

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// fastDecode decodes a config.json the way encoding/json would, for the
// documents it knows how to, and returns errFallback for everything else:
// then Parse decodes with encoding/json, which also words every error.
//
// Why: encoding/json's first decode of a type in a process builds its
// field table (tags parsed, names sorted and indexed) for every struct
// type it meets, ~0.8 ms for a specs.Spec here, and the runtime decodes
// one cold config per container. This walks the same types by reflection,
// with field lists of its own (structInfoOf: built once per type in a
// process, shared with EncodeFast), by encoding/json's rules: a key
// matches a field's name exactly, else the first case-insensitively;
// embedded structs' fields are promoted by its dominance rules; an unknown
// key's value is checked and skipped; null leaves values alone and sets
// pointers, slices and maps to nil; a json.Unmarshaler gets its value's
// text. It gives up (errFallback) on what is rarer than the documents
// json.Marshal and people write: escapes other than the one-letter ones
// and \uXXXX outside the surrogates, control characters, invalid UTF-8, a
// number that does not fit its field, a value of another JSON type than
// the field's, a repeated key, fields reached through embedded pointers,
// ,string fields, interfaces, arrays, non-string map keys, text
// unmarshalers. TestFastDecode checks it against encoding/json on random
// specs and mutations of them.
func fastDecode(data []byte, v any) error {
	d := &fastDecoder{b: data}
	d.space()
	if err := d.value(reflect.ValueOf(v).Elem()); err != nil {
		return err
	}
	// json.Decoder.Decode reads one value and leaves the rest.
	return nil
}

var errFallback = errors.New("use encoding/json")

// DecodeFast is fastDecode for the runtime's own JSON files (state.json),
// with json.Unmarshal's rule that nothing but space may follow the value.
// It reports whether it decoded data into v; if not, v may be half filled
// and the caller resets it and uses encoding/json.
func DecodeFast(data []byte, v any) bool {
	d := &fastDecoder{b: data}
	d.space()
	if d.value(reflect.ValueOf(v).Elem()) != nil {
		return false
	}
	d.space()
	return d.i == len(d.b)
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

type fastDecoder struct {
	b []byte
	i int
}

func (d *fastDecoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fastDecoder) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// literal consumes word (true, false, null).
func (d *fastDecoder) literal(word string) bool {
	if !bytes.HasPrefix(d.b[d.i:], []byte(word)) {
		return false
	}
	d.i += len(word)
	return true
}

// str reads a string in valid UTF-8 with no control characters and
// returns its bytes (not copied when it has no escapes). Of the escapes it
// takes the one-letter ones and \uXXXX outside the surrogates, which is
// all json.Marshal writes for valid UTF-8 (\u003c for <, say).
func (d *fastDecoder) str() ([]byte, error) {
	if d.peek() != '"' {
		return nil, errFallback
	}
	start := d.i + 1
	var out []byte // once an escape is met
	for j := start; j < len(d.b); j++ {
		c := d.b[j]
		switch {
		case c == '"':
			s := d.b[start:j]
			if out != nil {
				s = append(out, s...)
			}
			if !utf8.Valid(s) {
				return nil, errFallback
			}
			d.i = j + 1
			return s, nil
		case c < 0x20:
			return nil, errFallback
		case c != '\\':
			continue
		}
		out = append(out, d.b[start:j]...)
		if j+1 >= len(d.b) {
			return nil, errFallback
		}
		switch e := d.b[j+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if j+6 > len(d.b) {
				return nil, errFallback
			}
			r, err := strconv.ParseUint(string(d.b[j+2:j+6]), 16, 32)
			if err != nil || r >= 0xd800 && r < 0xe000 {
				return nil, errFallback
			}
			out = utf8.AppendRune(out, rune(r))
			j += 4
		default:
			return nil, errFallback
		}
		j++
		start = j + 1
	}
	return nil, errFallback
}

// number reads a JSON number (RFC 8259 grammar) and returns its text.
func (d *fastDecoder) number() (string, error) {
	start := d.i
	if d.peek() == '-' {
		d.i++
	}
	digits := func() int {
		n := 0
		for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	switch {
	case d.peek() == '0':
		d.i++
	case digits() == 0:
		return "", errFallback
	}
	if d.peek() == '.' {
		d.i++
		if digits() == 0 {
			return "", errFallback
		}
	}
	if c := d.peek(); c == 'e' || c == 'E' {
		d.i++
		if c := d.peek(); c == '+' || c == '-' {
			d.i++
		}
		if digits() == 0 {
			return "", errFallback
		}
	}
	return string(d.b[start:d.i]), nil
}

// skip checks and skips any value.
func (d *fastDecoder) skip() error {
	switch c := d.peek(); {
	case c == '"':
		_, err := d.str()
		return err
	case c == '{':
		return d.object(func([]byte) error { return d.skip() })
	case c == '[':
		return d.array(d.skip)
	case c == 't' && d.literal("true"), c == 'f' && d.literal("false"), c == 'n' && d.literal("null"):
		return nil
	case c == '-' || c >= '0' && c <= '9':
		_, err := d.number()
		return err
	}
	return errFallback
}

// list reads the comma-separated elements of an object or an array, each
// by each, up to close.
func (d *fastDecoder) list(close byte, each func() error) error {
	d.i++ // '{' or '['
	d.space()
	if d.peek() == close {
		d.i++
		return nil
	}
	for {
		if err := each(); err != nil {
			return err
		}
		d.space()
		switch d.peek() {
		case ',':
			d.i++
			d.space()
		case close:
			d.i++
			return nil
		default:
			return errFallback
		}
	}
}

// object reads {"key": value, ...}, calling each with the value next.
func (d *fastDecoder) object(each func(key []byte) error) error {
	return d.list('}', func() error {
		key, err := d.str()
		if err != nil {
			return err
		}
		d.space()
		if d.peek() != ':' {
			return errFallback
		}
		d.i++
		d.space()
		return each(key)
	})
}

func (d *fastDecoder) array(each func() error) error { return d.list(']', each) }

func (d *fastDecoder) value(v reflect.Value) error {
	if v.Kind() != reflect.Pointer && v.CanAddr() {
		// A type with its own UnmarshalJSON (time.Time, in state.json)
		// gets the value's text, null included, as encoding/json gives
		// it; one with UnmarshalText is encoding/json's to decode.
		pt := v.Addr().Type()
		if pt.Implements(jsonUnmarshaler) {
			start := d.i
			if err := d.skip(); err != nil {
				return err
			}
			if v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(d.b[start:d.i]) != nil {
				return errFallback
			}
			return nil
		}
		if pt.Implements(textUnmarshaler) {
			return errFallback
		}
	}
	if d.peek() == 'n' {
		if !d.literal("null") {
			return errFallback
		}
		switch v.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
			v.SetZero()
		}
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.value(v.Elem())
	case reflect.Struct:
		if d.peek() != '{' {
			return errFallback
		}
		// encoding/json makes an embedded pointer's struct to decode into
		// (and refuses one to an unexported type), and unquotes a
		// ,string field's value: not followed here.
		si := structInfoOf(v.Type())
		if !si.ok || si.viaPtr || si.quoted || len(si.fields) > 64 {
			return errFallback
		}
		fields := si.fields
		// A key given twice decodes, in encoding/json, into what the first
		// made, slices included (their old elements merge with the new):
		// not worth copying.
		var seen uint64
		return d.object(func(key []byte) error {
			i, ok := match(fields, key)
			if !ok {
				return d.skip()
			}
			if seen&(1<<i) != 0 {
				return errFallback
			}
			seen |= 1 << i
			return d.value(v.FieldByIndex(fields[i].index))
		})
	case reflect.Map:
		if d.peek() != '{' || v.Type().Key().Kind() != reflect.String {
			return errFallback
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		et := v.Type().Elem()
		return d.object(func(key []byte) error {
			e := reflect.New(et).Elem()
			if err := d.value(e); err != nil {
				return err
			}
			v.SetMapIndex(reflect.ValueOf(string(key)).Convert(v.Type().Key()), e)
			return nil
		})
	case reflect.Slice:
		if d.peek() != '[' || v.Type().Elem().Kind() == reflect.Uint8 {
			return errFallback // []byte is base64 in encoding/json
		}
		s := reflect.MakeSlice(v.Type(), 0, 0)
		err := d.array(func() error {
			s = reflect.Append(s, reflect.Zero(v.Type().Elem()))
			return d.value(s.Index(s.Len() - 1))
		})
		if err != nil {
			return err
		}
		v.Set(s)
		return nil
	case reflect.String:
		s, err := d.str()
		if err != nil {
			return err
		}
		v.SetString(string(s))
		return nil
	case reflect.Bool:
		switch {
		case d.literal("true"):
			v.SetBool(true)
		case d.literal("false"):
			v.SetBool(false)
		default:
			return errFallback
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		s, err := d.number()
		if err != nil {
			return err
		}
		return setNumber(v, s)
	}
	return errFallback
}

// setNumber stores the JSON number s in v as encoding/json would, or
// gives up where encoding/json would report an error (not an integer, out
// of range).
func setNumber(v reflect.Value, s string) error {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil {
			return errFallback
		}
		v.SetFloat(f)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v.OverflowUint(n) {
			return errFallback
		}
		v.SetUint(n)
	default:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return errFallback
		}
		v.SetInt(n)
	}
	return nil
}

// sfield is a struct field as encoding/json names it, with the options of
// its tag that either walk needs.
type sfield struct {
	name      string
	index     []int // v.FieldByIndex, but through nil embedded pointers
	tagged    bool
	omitEmpty bool
	omitZero  bool
	quoted    bool // the ,string option on a field it applies to
	viaPtr    bool // index goes through an embedded pointer
}

// structInfo is a struct type's fields and what they ask of the walks,
// computed once per process: a `create` decodes a config and then encodes
// the state that holds it, one type graph twice.
type structInfo struct {
	fields []sfield
	ok     bool // structFields followed t
	viaPtr bool // some field's
	quoted bool
	omitZ  bool
}

var structInfos sync.Map // reflect.Type -> *structInfo

func structInfoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{}
	si.fields, si.ok = structFields(t)
	for _, f := range si.fields {
		si.viaPtr = si.viaPtr || f.viaPtr
		si.quoted = si.quoted || f.quoted
		si.omitZ = si.omitZ || f.omitZero
	}
	structInfos.Store(t, si)
	return si
}

// structFields lists t's fields as encoding/json's typeFields does, in
// index order: the json tag's name if it is a valid one, else the Go
// name; "-" and unexported fields left out; the fields of an untagged
// embedded struct, or pointer to one, promoted, and of several with one
// name the shallowest kept (a tagged one before an untagged one at the
// same depth; two alike hide each other). ok is false for what it does
// not follow: one struct embedded twice at a depth, an unexported
// embedded struct with a name in its tag (encoding/json encodes it as a
// field, and cannot decode into it).
func structFields(t reflect.Type) ([]sfield, bool) {
	type level struct {
		t      reflect.Type
		index  []int
		viaPtr bool
	}
	var all []sfield
	// Most structs embed none: the maps are made when one does.
	var visited, seen map[reflect.Type]bool
	for cur, depth := []level{{t: t}}, 0; len(cur) > 0; depth++ {
		var next []level
		clear(seen)
		for _, l := range cur {
			if visited[l.t] {
				continue
			}
			if depth > 0 { // visited holds t from when it was made
				visited[l.t] = true
			}
			for i := 0; i < l.t.NumField(); i++ {
				f := l.t.Field(i)
				ft := f.Type
				if f.Anonymous {
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !f.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !f.IsExported() {
					continue
				}
				tag := f.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !isValidTag(name) {
					name = ""
				}
				index := append(l.index[:len(l.index):len(l.index)], i)
				if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
					if seen[ft] {
						return nil, false
					}
					if seen == nil {
						seen = map[reflect.Type]bool{}
						visited = map[reflect.Type]bool{t: true}
					}
					seen[ft] = true
					next = append(next, level{ft, index, l.viaPtr || f.Type.Kind() == reflect.Pointer})
					continue
				}
				if !f.IsExported() {
					return nil, false
				}
				sf := sfield{
					name:      name,
					index:     index,
					tagged:    name != "",
					omitEmpty: hasOption(opts, "omitempty"),
					omitZero:  hasOption(opts, "omitzero"),
					viaPtr:    l.viaPtr,
				}
				if name == "" {
					sf.name = f.Name
				}
				if hasOption(opts, "string") {
					// What typeFields quotes: a basic kind, or an unnamed
					// pointer to one.
					qt := f.Type
					if qt.Name() == "" && qt.Kind() == reflect.Pointer {
						qt = qt.Elem()
					}
					switch qt.Kind() {
					case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64,
						reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
						reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
						sf.quoted = true
					}
				}
				all = append(all, sf)
			}
		}
		cur = next
	}
	// Dominance, per name: encoding/json's sort by name, depth, tag.
	// (sort.Slice, not slices.SortFunc: each generic sort instantiates
	// pdqsort again, ~10 KB of binary.)
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.name != b.name {
			return a.name < b.name
		}
		if len(a.index) != len(b.index) {
			return len(a.index) < len(b.index)
		}
		if a.tagged != b.tagged {
			return a.tagged
		}
		return slices.Compare(a.index, b.index) < 0
	})
	out := all[:0]
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].name == all[i].name {
			j++
		}
		if j-i == 1 || len(all[i].index) != len(all[i+1].index) || all[i].tagged != all[i+1].tagged {
			out = append(out, all[i])
		}
		i = j
	}
	sort.Slice(out, func(i, j int) bool { return slices.Compare(out[i].index, out[j].index) < 0 })
	return out, true
}

// isValidTag is encoding/json's: a tag name it does not take leaves the
// field its Go name.
func isValidTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// hasOption reports whether the comma-separated opts of a tag hold opt.
func hasOption(opts, opt string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == opt {
			return true
		}
	}
	return false
}

// match finds the field a key names as encoding/json does: the one whose
// name is key exactly, else the first (in index order) whose name matches
// it case-insensitively (bytes.EqualFold, as encoding/json's foldName).
func match(fields []sfield, key []byte) (int, bool) {
	fold := -1
	for i, f := range fields {
		if f.name == string(key) {
			return i, true
		}
		if fold < 0 && bytes.EqualFold([]byte(f.name), key) {
			fold = i
		}
	}
	return fold, fold >= 0
}
