package spec

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fastDecode decodes a config.json the way encoding/json would, for the
// documents it knows how to, and returns errFallback for everything else:
// then Parse decodes with encoding/json, which also words every error.
//
// Why: encoding/json's first decode of a type in a process builds its
// field table (tags parsed, names sorted and indexed) for every struct type
// it meets, ~0.8 ms for a specs.Spec here, and the runtime decodes one cold
// config per container. This walks the same types by reflection with no
// tables: a key is matched against the struct's fields as encoding/json
// matches it (the exact name, else the first case-insensitive match), an
// unknown key's value is checked and skipped, null leaves values alone and
// sets pointers, slices and maps to nil, a repeated key decodes into what
// the first one made. It gives up (errFallback) on anything rarer than a
// plain document: escapes or control characters in strings, invalid UTF-8,
// a number that does not fit its field, a value of another JSON type than
// the field's, a repeated key, embedded structs, interfaces, arrays,
// non-string map keys. TestFastDecode
// checks it against encoding/json on random specs and mutations of them.
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

// str reads a string with no escapes and no control characters, in valid
// UTF-8, and returns its bytes (not copied).
func (d *fastDecoder) str() ([]byte, error) {
	if d.peek() != '"' {
		return nil, errFallback
	}
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		c := d.b[j]
		if c == '"' {
			s := d.b[start:j]
			if !utf8.Valid(s) {
				return nil, errFallback
			}
			d.i = j + 1
			return s, nil
		}
		if c == '\\' || c < 0x20 {
			return nil, errFallback
		}
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
	// A type with its own UnmarshalJSON or UnmarshalText (specs-go has
	// none today) is encoding/json's to decode.
	if v.CanAddr() && (v.Addr().Type().Implements(jsonUnmarshaler) || v.Addr().Type().Implements(textUnmarshaler)) {
		return errFallback
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.value(v.Elem())
	case reflect.Struct:
		if d.peek() != '{' || v.NumField() > 64 {
			return errFallback
		}
		// Embedded structs promote their fields by encoding/json's
		// dominance rules (specs-go's block I/O devices embed one).
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).Anonymous {
				return errFallback
			}
		}
		// A key given twice decodes, in encoding/json, into what the first
		// made, slices included (their old elements merge with the new):
		// not worth copying.
		var seen uint64
		return d.object(func(key []byte) error {
			f, i, ok := field(v, key)
			if !ok {
				return d.skip()
			}
			if seen&(1<<i) != 0 {
				return errFallback
			}
			seen |= 1 << i
			return d.value(f)
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

// field finds the struct field a key names as encoding/json does: the
// field whose name is key exactly, else the first whose name matches it
// case-insensitively (bytes.EqualFold, as encoding/json's foldName). The
// name is the json tag's, else the Go field's; "-" fields and unexported
// ones are never matched (a struct with embedded ones never gets here).
func field(v reflect.Value, key []byte) (reflect.Value, int, bool) {
	t := v.Type()
	fold := -1
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("json"); ok {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" && !strings.Contains(tag, ",") {
				continue
			}
			if n != "" {
				name = n
			}
		}
		if name == string(key) {
			return v.Field(i), i, true
		}
		if fold < 0 && bytes.EqualFold([]byte(name), key) {
			fold = i
		}
	}
	if fold >= 0 {
		return v.Field(fold), fold, true
	}
	return reflect.Value{}, 0, false
}
