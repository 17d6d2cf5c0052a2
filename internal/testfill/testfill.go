// Package testfill sets values by reflection, for tests that prove by
// difference: a field set on its own must change (or must not change) what
// the code under test makes of it.
package testfill

import (
	"reflect"
	"strconv"
)

// NonZero sets v to a value that is not its zero, with every field,
// element and map entry set too (four levels deep): strings are "x" and
// their depth, numbers 7, booleans true, slices and maps of one.
func NonZero(v reflect.Value) { nonZero(v, 0) }

func nonZero(v reflect.Value, depth int) {
	if depth > 4 {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("x" + strconv.Itoa(depth))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(7)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		nonZero(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Struct:
		for i := range v.NumField() {
			nonZero(v.Field(i), depth+1)
		}
	case reflect.Slice:
		el := reflect.New(v.Type().Elem()).Elem()
		nonZero(el, depth+1)
		v.Set(reflect.Append(reflect.MakeSlice(v.Type(), 0, 1), el))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k := reflect.New(v.Type().Key()).Elem()
		e := reflect.New(v.Type().Elem()).Elem()
		nonZero(k, depth+1)
		nonZero(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	default:
		panic("testfill: no value for " + v.Type().String())
	}
}
