package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
)

// reference is what encoding/json writes for p.
func reference(t *testing.T, p *Plan) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var awkward = []string{
	"plain", "", `quote " and \ backslash`, "tab\tnew\nline\r", "<html> & more",
	"ünïcödé ✓", "line\u2028sep\u2029", "bad utf8 \xff\xfe", "ctl \x01\x1f\x7f", "\b\f",
}

// fill sets every field reachable from v, so that a field the encoder
// forgets shows up as a difference. mode 0 fills, 1 leaves nil, 2 makes
// empty non-nil slices and maps.
func fill(v reflect.Value, mode int, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(awkward[*n%len(awkward)])
	case reflect.Bool:
		v.SetBool(mode == 0)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Pointer:
		if mode == 1 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), mode, n)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), mode, n)
			}
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			if mode == 0 {
				v.SetBytes([]byte(fmt.Sprintf(` {"a": [1, 2, {"b": "x<y"}], "n": %d, "e": {}, "l": []} `, *n)))
			}
			return
		}
		switch mode {
		case 1:
			return
		case 2:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			return
		}
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), mode, n)
		}
	case reflect.Map:
		switch mode {
		case 1:
			return
		case 2:
			v.Set(reflect.MakeMap(v.Type()))
			return
		}
		v.Set(reflect.MakeMap(v.Type()))
		for range 3 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(k, mode, n)
			fill(e, mode, n)
			v.SetMapIndex(k, e)
		}
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

func TestEncoderMatchesEncodingJSON(t *testing.T) {
	for mode, name := range []string{"filled", "nil", "empty"} {
		for seed := range 12 {
			t.Run(fmt.Sprintf("%s/%d", name, seed), func(t *testing.T) {
				p := &Plan{}
				n := seed
				fill(reflect.ValueOf(p).Elem(), mode, &n)
				if mode != 1 {
					// Steps hold one kind each in real plans, but the
					// encoder must not depend on it.
					p.Steps = append(p.Steps, &Step{ID: "bare"}, nil)
				}
				want := reference(t, p)
				enc, err := encode(p)
				if err != nil {
					t.Fatal(err)
				}
				got := enc.Bytes()
				if !bytes.Equal(got, want) {
					t.Fatalf("encoder differs from encoding/json:\n%s", firstDiff(got, want))
				}
			})
		}
	}
}

func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-120)
	return fmt.Sprintf("got:  ...%s\nwant: ...%s", got[from:min(len(got), i+80)], want[from:min(len(want), i+80)])
}

func TestMarshalDigestCoversEmptyDigestEncoding(t *testing.T) {
	p := &Plan{}
	n := 0
	fill(reflect.ValueOf(p).Elem(), 0, &n)
	// Enough steps to be written in several pieces.
	for range 8 {
		p.Steps = append(p.Steps, p.Steps...)
	}
	enc, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) < 3 {
		t.Fatalf("encoded in %d pieces, want several", len(enc))
	}
	var written bytes.Buffer
	if _, err := enc.WriteTo(&written); err != nil {
		t.Fatal(err)
	}
	b, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ComputeDigest(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(written.Bytes(), b) {
		t.Fatal("Encode and Marshal differ")
	}
	if p.Digest != want || !bytes.Contains(b, []byte(`"digest": "`+want+`"`)) {
		t.Fatalf("digest %s, want %s in the output", p.Digest, want)
	}
	c := *p
	c.Digest = ""
	if ref := reference(t, &c); !bytes.Equal(bytes.Replace(b, []byte(want), nil, 1), ref) {
		t.Fatal("Marshal differs from encoding/json apart from the digest")
	}
}
