package compiler

import (
	"errors"
	"math/big"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/hashicorp/go-cty-funcs/cidr"
	"github.com/hashicorp/go-cty-funcs/crypto"
	"github.com/hashicorp/go-cty-funcs/uuid"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// bakeOwnFunctions are functions docker buildx bake adds to HCL's, with
// bake's behaviour (buildx v0.38.2, bake/hclparser/stdlib.go), so that bake
// files read the same here. home is HOME, for homedir.
func bakeOwnFunctions(home string) map[string]function.Function {
	return map[string]function.Function{
		"indexof":            indexOfFunc,
		"basename":           stringFunc("path", total(path.Base)),
		"dirname":            stringFunc("path", total(path.Dir)),
		"sanitize":           stringFunc("name", total(sanitize)),
		"semvercmp":          semvercmpFunc,
		"formattimestamp":    formatTimestampFunc,
		"unixtimestampparse": unixTimestampParseFunc,
		// The rest of bake's list, from the libraries bake takes them
		// from. bake's reverse reverses a string (bakeplan's strrev);
		// import renames it.
		"absolute":      stdlib.AbsoluteFunc,
		"byteslen":      stdlib.BytesLenFunc,
		"bytesslice":    stdlib.BytesSliceFunc,
		"sethaselement": stdlib.SetHasElementFunc,
		"reverselist":   stdlib.ReverseListFunc,
		"convert":       typeexpr.ConvertFunc,
		"cidrhost":      cidr.HostFunc,
		"cidrnetmask":   cidr.NetmaskFunc,
		"cidrsubnet":    cidr.SubnetFunc,
		"cidrsubnets":   cidr.SubnetsFunc,
		"bcrypt":        crypto.BcryptFunc,
		"rsadecrypt":    crypto.RsaDecryptFunc,
		"uuidv4":        uuid.V4Func,
		"uuidv5":        uuid.V5Func,
		"homedir": function.New(&function.Spec{
			Type: function.StaticReturnType(cty.String),
			Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
				if home == "" {
					return cty.NilVal, errors.New("HOME is not set")
				}
				return cty.StringVal(home), nil
			},
		}),
	}
}

// total is a string function that cannot fail, for stringFunc.
func total(f func(string) string) func(string) (string, error) {
	return func(s string) (string, error) { return f(s), nil }
}

// sanitize replaces every character a target name cannot hold
// ([a-zA-Z0-9_-]) with an underscore.
func sanitize(s string) string { return nameChars(s, '_') }

// nameChars replaces every character a target name cannot hold with repl.
func nameChars(s string, repl rune) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return repl
	}, s)
}

// indexOfFunc is the index of the first element of a list or tuple equal
// to a value; an error when there is none.
var indexOfFunc = function.New(&function.Spec{
	Params: []function.Parameter{
		{Name: "list", Type: cty.DynamicPseudoType},
		{Name: "value", Type: cty.DynamicPseudoType},
	},
	Type: function.StaticReturnType(cty.Number),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		list := args[0]
		if !list.Type().IsListType() && !list.Type().IsTupleType() {
			return cty.NilVal, errors.New("argument must be a list or tuple")
		}
		if !list.IsKnown() {
			return cty.UnknownVal(cty.Number), nil
		}
		for it := list.ElementIterator(); it.Next(); {
			i, v := it.Element()
			eq, err := stdlib.Equal(v, args[1])
			if err != nil {
				return cty.NilVal, err
			}
			if !eq.IsKnown() {
				return cty.UnknownVal(cty.Number), nil
			}
			if eq.True() {
				return i, nil
			}
		}
		return cty.NilVal, errors.New("item not found")
	},
})

func stringFunc(name string, fn func(string) (string, error)) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: name, Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			out, err := fn(args[0].AsString())
			if err != nil {
				return cty.UnknownVal(cty.String), function.NewArgError(0, err)
			}
			return cty.StringVal(out), nil
		},
	})
}

// semvercmpFunc says whether a version satisfies a constraint, with the
// semver library and syntax bake uses (">= 1.2, < 2").
var semvercmpFunc = function.New(&function.Spec{
	Params: []function.Parameter{
		{Name: "version", Type: cty.String},
		{Name: "constraint", Type: cty.String},
	},
	Type: function.StaticReturnType(cty.Bool),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		v, err := semver.NewVersion(args[0].AsString())
		if err != nil {
			return cty.UnknownVal(cty.Bool), function.NewArgError(0, err)
		}
		c, err := semver.NewConstraint(args[1].AsString())
		if err != nil {
			return cty.UnknownVal(cty.Bool), function.NewArgError(1, err)
		}
		return cty.BoolVal(c.Check(v)), nil
	},
})

// formatTimestampFunc formats an RFC 3339 timestamp or a unix time (a
// number of seconds) with formatdate's verbs; "X" is the unix time.
var formatTimestampFunc = function.New(&function.Spec{
	Params: []function.Parameter{
		{Name: "format", Type: cty.String},
		{Name: "time", Type: cty.DynamicPseudoType},
	},
	Type: function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		format := args[0].AsString()
		var t time.Time
		switch args[1].Type() {
		case cty.String:
			var err error
			if t, err = time.Parse(time.RFC3339, args[1].AsString()); err != nil {
				return cty.NilVal, function.NewArgErrorf(1, "a timestamp string is RFC 3339, such as 2026-01-02T15:04:05Z")
			}
		case cty.Number:
			var err error
			if t, err = unixTime(args[1]); err != nil {
				return cty.NilVal, function.NewArgError(1, err)
			}
		default:
			return cty.NilVal, function.NewArgErrorf(1, "a timestamp is an RFC 3339 string or a unix time in seconds")
		}
		if format == "X" {
			return cty.StringVal(strconv.FormatInt(t.Unix(), 10)), nil
		}
		return stdlib.FormatDateFunc.Call([]cty.Value{args[0], cty.StringVal(t.Format(time.RFC3339))})
	},
})

// unixTimestampParseFunc is a unix time's parts, as an object.
var unixTimestampParseFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "unix_timestamp", Type: cty.Number}},
	Type: function.StaticReturnType(cty.Object(map[string]cty.Type{
		"year": cty.Number, "year_day": cty.Number, "day": cty.Number, "month": cty.Number,
		"month_name": cty.String, "weekday": cty.Number, "weekday_name": cty.String,
		"hour": cty.Number, "minute": cty.Number, "second": cty.Number,
		"rfc3339": cty.String, "iso_year": cty.Number, "iso_week": cty.Number,
	})),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		t, err := unixTime(args[0])
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		isoYear, isoWeek := t.ISOWeek()
		n := func(i int) cty.Value { return cty.NumberIntVal(int64(i)) }
		return cty.ObjectVal(map[string]cty.Value{
			"year": n(t.Year()), "year_day": n(t.YearDay()), "day": n(t.Day()), "month": n(int(t.Month())),
			"month_name": cty.StringVal(t.Month().String()), "weekday": n(int(t.Weekday())),
			"weekday_name": cty.StringVal(t.Weekday().String()),
			"hour":         n(t.Hour()), "minute": n(t.Minute()), "second": n(t.Second()),
			"rfc3339": cty.StringVal(t.Format(time.RFC3339)), "iso_year": n(isoYear), "iso_week": n(isoWeek),
		}), nil
	},
})

// unixTime reads a whole number of seconds since 1970 as a UTC time.
func unixTime(v cty.Value) (time.Time, error) {
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return time.Time{}, errors.New("a unix time is a whole number of seconds")
	}
	secs, acc := bf.Int64()
	if acc != big.Exact {
		return time.Time{}, errors.New("the unix time is out of range")
	}
	return time.Unix(secs, 0).UTC(), nil
}
