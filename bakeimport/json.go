package bakeimport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// maxJSONDepth bounds nesting, so a hostile file cannot exhaust the stack.
const maxJSONDepth = 64

// jnode is one JSON value, its object keys in file order, and where it
// starts.
type jnode struct {
	kind byte // s n b z (null) a o
	str  string
	keys []string
	kpos []int
	vals []*jnode
	pos  int
}

// jsonToHCL writes a bake JSON file as the HCL it stands for, strings as
// templates (bake's JSON interpolates ${...} too), so the HCL translation
// handles both; origin maps each written line to the JSON position it
// came from.
func jsonToHCL(f File) ([]byte, map[int]hcl.Pos, hcl.Diagnostics) {
	dec := json.NewDecoder(bytes.NewReader(f.Data))
	dec.UseNumber()
	root, err := readJSON(dec, f.Data, 0)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("more than one JSON value")
		}
	}
	if err != nil {
		p := jsonPos(f.Data, int(dec.InputOffset()))
		return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid JSON bake file", Detail: err.Error(),
			Subject: &hcl.Range{Filename: f.Name, Start: p, End: p}}}
	}
	if root.kind != 'o' {
		p := jsonPos(f.Data, root.pos)
		return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid JSON bake file", Detail: "A bake file in JSON is an object.",
			Subject: &hcl.Range{Filename: f.Name, Start: p, End: p}}}
	}
	w := &hclWriter{data: f.Data, lines: lineIndex(f.Data), origin: map[int]hcl.Pos{}, line: 1}
	for i, key := range root.keys {
		v := root.vals[i]
		switch key {
		case "variable", "target", "group", "function":
			if v.kind != 'o' {
				w.mark(root.kpos[i])
				w.printf("%s = %s\n", attrName(key), w.value(v, true))
				continue
			}
			for j, name := range v.keys {
				w.mark(v.kpos[j])
				w.block(key, name, v.vals[j])
			}
		default:
			w.mark(root.kpos[i])
			w.printf("%s = %s\n", attrName(key), w.value(v, true))
		}
	}
	return w.buf.Bytes(), w.origin, nil
}

func readJSON(dec *json.Decoder, data []byte, depth int) (*jnode, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxJSONDepth)
	}
	pos := skipSpace(data, int(dec.InputOffset()))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	n := &jnode{pos: pos}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n.kind = 'o'
			for dec.More() {
				kp := skipSpace(data, int(dec.InputOffset()))
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := readJSON(dec, data, depth+1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k.(string))
				n.kpos = append(n.kpos, kp)
				n.vals = append(n.vals, v)
			}
		case '[':
			n.kind = 'a'
			for dec.More() {
				v, err := readJSON(dec, data, depth+1)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, v)
			}
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
	case string:
		n.kind, n.str = 's', t
	case json.Number:
		n.kind, n.str = 'n', t.String()
	case bool:
		n.kind, n.str = 'b', fmt.Sprint(t)
	case nil:
		n.kind = 'z'
	}
	return n, nil
}

// skipSpace moves past the whitespace, commas and colons before a token.
func skipSpace(data []byte, at int) int {
	for at < len(data) && strings.IndexByte(" \t\r\n,:", data[at]) >= 0 {
		at++
	}
	return at
}

func jsonPos(data []byte, at int) hcl.Pos {
	return lineIndex(data).pos(at)
}

// lines are the offsets at which a file's lines start, for finding a
// position's line in logarithmic time.
type lines []int

func lineIndex(data []byte) lines {
	l := lines{0}
	for i, c := range data {
		if c == '\n' {
			l = append(l, i+1)
		}
	}
	return l
}

func (l lines) pos(at int) hcl.Pos {
	if at < 0 {
		at = 0
	}
	i := sort.Search(len(l), func(i int) bool { return l[i] > at }) - 1
	return hcl.Pos{Line: i + 1, Column: at - l[i] + 1, Byte: at}
}

type hclWriter struct {
	buf    bytes.Buffer
	data   []byte
	lines  lines
	origin map[int]hcl.Pos
	line   int
}

func (w *hclWriter) mark(at int) { w.origin[w.line] = w.lines.pos(at) }

func (w *hclWriter) printf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	w.line += strings.Count(s, "\n")
	w.buf.WriteString(s)
}

// block writes a labelled block; its attributes, each on its own line,
// map to their JSON keys.
func (w *hclWriter) block(kind, name string, body *jnode) {
	w.printf("%s %s {\n", kind, jsonString(name))
	if body.kind == 'o' {
		for i, key := range body.keys {
			w.mark(body.kpos[i])
			v := body.vals[i]
			if kind == "variable" && key == "validation" {
				w.validations(v)
				continue
			}
			w.printf("  %s = %s\n", attrName(key), w.value(v, true))
		}
	}
	w.printf("}\n")
}

// validations writes a variable's validation blocks (an object or a list
// of objects in JSON).
func (w *hclWriter) validations(v *jnode) {
	list := []*jnode{v}
	if v.kind == 'a' {
		list = v.vals
	}
	for _, o := range list {
		w.printf("  validation {\n")
		for i, key := range o.keys {
			w.mark(o.kpos[i])
			w.printf("    %s = %s\n", attrName(key), w.value(o.vals[i], false))
		}
		w.printf("  }\n")
	}
}

// attrName is key as an attribute name; one HCL cannot name is quoted, so
// the HCL does not parse and the error points at it.
func attrName(key string) string {
	for _, r := range key {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return jsonString(key)
		}
	}
	if key == "" {
		return `""`
	}
	return key
}

// value writes v, an attribute's object (top) with a key per line, the
// rest on one line. Strings are templates, as in bake's JSON.
func (w *hclWriter) value(v *jnode, top bool) string {
	switch v.kind {
	case 's':
		return jsonString(v.str)
	case 'n', 'b':
		return v.str
	case 'z':
		return "null"
	case 'a':
		parts := make([]string, len(v.vals))
		for i, e := range v.vals {
			parts[i] = w.value(e, false)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	idx := make([]int, len(v.keys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v.keys[idx[a]] < v.keys[idx[b]] })
	parts := make([]string, len(v.keys))
	for i, j := range idx {
		key := v.keys[j]
		if !hclsyntax.ValidIdentifier(key) {
			key = jsonString(key)
		}
		parts[i] = key + " = " + w.value(v.vals[j], false)
	}
	if top && len(parts) > 1 {
		return "{\n" + strings.Join(parts, "\n") + "\n}"
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}

// jsonString is s as an HCL template: quotes, backslashes and control
// characters escaped, ${...} kept, as HCL's JSON syntax reads it.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
