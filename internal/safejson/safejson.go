// Package safejson encodes values as encoding/json does, except that a
// NaN or infinite float becomes null instead of an error: an ML fit whose
// Hessian gives a NaN standard error (as glmer's does at times) is still
// written, with that entry null.
package safejson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"
)

// Encode writes v to w as json.Encoder with indent does. Only when v holds
// a NaN or infinite float is v first converted to a tree in which those
// are null (struct fields keep their order and json tags: names,
// omitempty, "-", embedded structs).
func Encode(w io.Writer, v any, indent string) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", indent)
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetIndent("", indent)
	err := e.Encode(v)
	var uv *json.UnsupportedValueError
	if err == nil {
		_, err = w.Write(buf.Bytes())
		return err
	}
	if !errors.As(err, &uv) {
		return err
	}
	t, err := tree(reflect.ValueOf(v))
	if err != nil {
		return err
	}
	return enc.Encode(t)
}

// object is a JSON object with its keys in order.
type object struct {
	keys []string
	vals []any
}

// MarshalJSON writes the object's members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

var marshaler = reflect.TypeFor[json.Marshaler]()

// tree converts v to what encoding/json would write, with non-finite
// floats as nil.
func tree(v reflect.Value) (any, error) {
	if !v.IsValid() {
		return nil, nil
	}
	if v.Type().Implements(marshaler) && v.Kind() != reflect.Pointer && v.Kind() != reflect.Interface {
		return v.Interface(), nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		if v.Type().Implements(marshaler) {
			return v.Interface(), nil
		}
		return tree(v.Elem())
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, nil
		}
		return f, nil
	case reflect.Slice:
		if v.IsNil() {
			return nil, nil
		}
		fallthrough
	case reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			x, err := tree(v.Index(i))
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case reflect.Map:
		if v.IsNil() {
			return nil, nil
		}
		out := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			x, err := tree(it.Value())
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(it.Key().Interface())] = x
		}
		return out, nil
	case reflect.Struct:
		var o object
		if err := fields(v, &o); err != nil {
			return nil, err
		}
		return o, nil
	}
	return v.Interface(), nil
}

// fields appends struct v's JSON members to o, flattening embedded
// structs as encoding/json does (a name already set is not repeated).
func fields(v reflect.Value, o *object) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if fv.Kind() == reflect.Pointer {
					if fv.IsNil() {
						continue
					}
					fv = fv.Elem()
				}
				if err := fields(fv, o); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(","+opts+",", ",omitempty,") && empty(fv) {
			continue
		}
		dup := false
		for _, k := range o.keys {
			dup = dup || k == name
		}
		if dup {
			continue
		}
		x, err := tree(fv)
		if err != nil {
			return err
		}
		o.keys = append(o.keys, name)
		o.vals = append(o.vals, x)
	}
	return nil
}

// empty is encoding/json's omitempty test.
func empty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}
