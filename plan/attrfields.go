package plan

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/bakeplan/bakeplan/targetattr"
)

// FieldKind is the Go kind of a build field that code handles without knowing
// the field: the plain kinds an attribute's value converts to.
type FieldKind int

const (
	// KindStructured: a kind of its own, handled by code written for it.
	KindStructured FieldKind = iota
	KindString
	KindBool
	KindInt
	KindList // []string
	KindMap  // map[string]string
	KindMaps // []map[string]string
)

// AttrField is the field of Build a target attribute becomes (the row of
// targetattr.All whose Field names it).
type AttrField struct {
	targetattr.Attr
	Kind  FieldKind
	index int
}

// attrFields are found once: targetattr.All and Build are fixed at build
// time, and the digest asks for them once per build.
var attrFields = findAttrFields()

func findAttrFields() []AttrField {
	bt := reflect.TypeFor[Build]()
	var out []AttrField
	for _, a := range targetattr.All {
		if a.Field == "" {
			continue
		}
		f, ok := bt.FieldByName(a.Field)
		if !ok {
			panic(fmt.Sprintf("targetattr: %s becomes plan.Build.%s, which does not exist", a.Name, a.Field))
		}
		out = append(out, AttrField{Attr: a, Kind: kindOf(f.Type), index: f.Index[0]})
	}
	return out
}

func kindOf(t reflect.Type) FieldKind {
	switch {
	case t.Kind() == reflect.String:
		return KindString
	case t.Kind() == reflect.Bool:
		return KindBool
	case t.Kind() == reflect.Int64 || t.Kind() == reflect.Int:
		return KindInt
	case t == reflect.TypeFor[[]string]():
		return KindList
	case t == reflect.TypeFor[map[string]string]():
		return KindMap
	case t == reflect.TypeFor[[]map[string]string]():
		return KindMaps
	}
	return KindStructured
}

// AttrFields are the fields of Build that target attributes become, in
// targetattr's order. The caller must not change the slice.
func AttrFields() []AttrField { return attrFields }

func (f AttrField) value(b *Build) reflect.Value { return reflect.ValueOf(b).Elem().Field(f.index) }

// IsSet says whether b's field holds a value: not empty, zero or false.
func (f AttrField) IsSet(b *Build) bool { return !isEmpty(f.value(b)) }

// isEmpty is encoding/json's omitempty test for the plain kinds.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return v.IsZero()
}

// Set stores v, a value of the field's kind (string, bool, int64,
// []string, map[string]string or []map[string]string), in b's field.
func (f AttrField) Set(b *Build, v any) {
	fv := f.value(b)
	fv.Set(reflect.ValueOf(v).Convert(fv.Type()))
}

// Text is b's value of a plain field on one line: a list's items and a
// map's NAME=VALUE pairs (in name order) joined by sep, a number in
// decimal, a bool as true or false; "" for a structured field.
func (f AttrField) Text(b *Build, sep string) string {
	v := f.value(b)
	switch f.Kind {
	case KindString:
		return v.String()
	case KindBool:
		return strconv.FormatBool(v.Bool())
	case KindInt:
		return strconv.FormatInt(v.Int(), 10)
	case KindList:
		return strings.Join(v.Interface().([]string), sep)
	case KindMap:
		return pairs(v.Interface().(map[string]string), sep)
	case KindMaps:
		var out []string
		for _, m := range v.Interface().([]map[string]string) {
			out = append(out, "{"+pairs(m, sep)+"}")
		}
		return strings.Join(out, sep)
	}
	return ""
}

func pairs(m map[string]string, sep string) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, k+"="+m[k])
	}
	return strings.Join(out, sep)
}
