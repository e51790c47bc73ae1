package initmsg

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
)

// The wire form of a Msg between the runtime and init, which are the same
// binary: the Go types themselves are the schema, so a packet is just the
// values, field after field in declaration order, with no names and no type
// descriptions. Why not JSON, as the C constructor's few messages still are:
// encoding/json's first use of each type in a process costs reflection over
// its fields (tags, name maps, sorting), ~0.8 ms for a whole specs.Spec, paid
// by every init on its way to the container's first instruction; walking
// the values costs a few microseconds. Every exported field of every type is
// carried, so nothing of the spec can be forgotten on the way.
//
// Layout: bool one byte; integers varints (zig-zag for signed); floats
// 8 bytes; strings and []byte a length then the bytes; pointers, slices and
// maps a uvarint that is 0 for nil, else 1 (pointer) or 1+len then the
// element(s); arrays their elements; structs their fields; an interface
// (only Windows.CredentialSpec has one) 0 for nil, else 1+len of its JSON.

// wireMagic starts every packet in this form; the constructor's JSON
// packets start with '{'.
const wireMagic = 0x01

var errWire = errors.New("malformed sync message")

func marshal(m *Msg) ([]byte, error) {
	return appendValue([]byte{wireMagic}, reflect.ValueOf(m).Elem())
}

func unmarshal(b []byte, m *Msg) error {
	if len(b) == 0 || b[0] != wireMagic {
		return errWire
	}
	d := &wireDecoder{b: b[1:]}
	if err := d.value(reflect.ValueOf(m).Elem()); err != nil {
		return err
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d bytes left over", errWire, len(d.b))
	}
	return nil
}

func appendValue(b []byte, v reflect.Value) ([]byte, error) {
	var err error
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return append(b, 1), nil
		}
		return append(b, 0), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return binary.AppendVarint(b, v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return binary.AppendUvarint(b, v.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Float())), nil
	case reflect.String:
		b = binary.AppendUvarint(b, uint64(v.Len()))
		return append(b, v.String()...), nil
	case reflect.Pointer:
		if v.IsNil() {
			return append(b, 0), nil
		}
		return appendValue(append(b, 1), v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return append(b, 0), nil
		}
		b = binary.AppendUvarint(b, uint64(v.Len())+1)
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return append(b, v.Bytes()...), nil
		}
		for i := 0; i < v.Len(); i++ {
			if b, err = appendValue(b, v.Index(i)); err != nil {
				return nil, err
			}
		}
		return b, nil
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if b, err = appendValue(b, v.Index(i)); err != nil {
				return nil, err
			}
		}
		return b, nil
	case reflect.Map:
		if v.IsNil() {
			return append(b, 0), nil
		}
		b = binary.AppendUvarint(b, uint64(v.Len())+1)
		for it := v.MapRange(); it.Next(); {
			if b, err = appendValue(b, it.Key()); err != nil {
				return nil, err
			}
			if b, err = appendValue(b, it.Value()); err != nil {
				return nil, err
			}
		}
		return b, nil
	case reflect.Interface:
		// Only specs.Windows.CredentialSpec, arbitrary JSON: carried as
		// JSON, which is what it would decode from.
		if v.IsNil() {
			return append(b, 0), nil
		}
		j, err := json.Marshal(v.Interface())
		if err != nil {
			return nil, err
		}
		b = binary.AppendUvarint(b, uint64(len(j))+1)
		return append(b, j...), nil
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if !t.Field(i).IsExported() {
				return nil, fmt.Errorf("sync message: %s.%s is not exported", t, t.Field(i).Name)
			}
			if b, err = appendValue(b, v.Field(i)); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("sync message: cannot send a %s", v.Type())
}

type wireDecoder struct{ b []byte }

func (d *wireDecoder) uvarint() (uint64, error) {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		return 0, errWire
	}
	d.b = d.b[n:]
	return x, nil
}

// length reads a length (of strings, or 1+len of slices and maps) and
// checks it against what is left: every element takes at least a byte.
func (d *wireDecoder) length() (int, error) {
	n, err := d.uvarint()
	if err != nil || n > uint64(len(d.b))+1 {
		return 0, errWire
	}
	return int(n), nil
}

// count reads the 0-or-1+len prefix of a slice, map or interface: ok is
// false for nil (and for an error).
func (d *wireDecoder) count() (n int, ok bool, err error) {
	n, err = d.length()
	if err != nil || n == 0 {
		return 0, false, err
	}
	return n - 1, true, nil
}

func (d *wireDecoder) value(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Bool:
		if len(d.b) == 0 || d.b[0] > 1 {
			return errWire
		}
		v.SetBool(d.b[0] == 1)
		d.b = d.b[1:]
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x, n := binary.Varint(d.b)
		if n <= 0 || v.OverflowInt(x) {
			return errWire
		}
		v.SetInt(x)
		d.b = d.b[n:]
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		x, err := d.uvarint()
		if err != nil || v.OverflowUint(x) {
			return errWire
		}
		v.SetUint(x)
	case reflect.Float32, reflect.Float64:
		if len(d.b) < 8 {
			return errWire
		}
		v.SetFloat(math.Float64frombits(binary.LittleEndian.Uint64(d.b)))
		d.b = d.b[8:]
	case reflect.String:
		n, err := d.length()
		if err != nil || n > len(d.b) {
			return errWire
		}
		v.SetString(string(d.b[:n]))
		d.b = d.b[n:]
	case reflect.Pointer:
		if len(d.b) == 0 || d.b[0] > 1 {
			return errWire
		}
		nonNil := d.b[0] == 1
		d.b = d.b[1:]
		if !nonNil {
			return nil
		}
		p := reflect.New(v.Type().Elem())
		if err := d.value(p.Elem()); err != nil {
			return err
		}
		v.Set(p)
	case reflect.Slice:
		n, ok, err := d.count()
		if !ok {
			return err
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			if n > len(d.b) {
				return errWire
			}
			v.SetBytes(append([]byte(nil), d.b[:n]...))
			d.b = d.b[n:]
			return nil
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := 0; i < n; i++ {
			if err := d.value(s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if err := d.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		n, ok, err := d.count()
		if !ok {
			return err
		}
		t := v.Type()
		m := reflect.MakeMapWithSize(t, n)
		for i := 0; i < n; i++ {
			k, e := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
			if err := d.value(k); err != nil {
				return err
			}
			if err := d.value(e); err != nil {
				return err
			}
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Interface:
		n, ok, err := d.count()
		if !ok {
			return err
		}
		if n > len(d.b) {
			return errWire
		}
		x := reflect.New(v.Type())
		if err := json.Unmarshal(d.b[:n], x.Interface()); err != nil {
			return fmt.Errorf("%w: %v", errWire, err)
		}
		v.Set(x.Elem())
		d.b = d.b[n:]
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			if !t.Field(i).IsExported() {
				return fmt.Errorf("sync message: %s.%s is not exported", t, t.Field(i).Name)
			}
			if err := d.value(v.Field(i)); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("sync message: cannot receive a %s", v.Type())
	}
	return nil
}
