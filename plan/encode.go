package plan

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
)

// encoder writes a plan as encoding/json's Encoder with SetIndent("", "  ")
// and SetEscapeHTML(false) would, byte for byte, without reflection and
// without indenting a second copy afterwards: a plan of thousands of steps
// is megabytes of JSON, and reflection plus indenting were most of the time
// it took to write one. TestEncoderMatchesEncodingJSON fills every field of
// every type by reflection and compares, so a field added to the model
// without being added here fails the tests.
type encoder struct {
	chunks [][]byte      // full pieces
	b      []byte        // the piece being written
	done   chan<- []byte // if set, receives each full piece
	depth  int
	// first is true right after an opening brace or bracket.
	first bool
	// fields write a build step's fields.
	fields []fieldWriter
}

// pieceSize is the size of the pieces the encoder writes into.
const pieceSize = 32 << 10

func newEncoder() *encoder { return &encoder{b: make([]byte, 0, pieceSize)} }

// spill starts a new piece once the current one is nearly full; it is
// called between steps, so a piece ends after a whole step.
func (e *encoder) spill() {
	if len(e.b) >= pieceSize-4<<10 {
		e.chunks = append(e.chunks, e.b)
		if e.done != nil {
			e.done <- e.b
		}
		e.b = make([]byte, 0, pieceSize)
	}
}

func (e *encoder) newline() {
	e.b = append(e.b, '\n')
	for range e.depth {
		e.b = append(e.b, ' ', ' ')
	}
}

func (e *encoder) open(c byte) {
	e.b = append(e.b, c)
	e.depth++
	e.first = true
}

func (e *encoder) close(c byte) {
	e.depth--
	if !e.first {
		e.newline()
	}
	e.b = append(e.b, c)
	e.first = false
}

// elem starts an array element.
func (e *encoder) elem() {
	if !e.first {
		e.b = append(e.b, ',')
	}
	e.first = false
	e.newline()
}

// key starts an object member.
func (e *encoder) key(k string) {
	e.elem()
	e.str(k)
	e.b = append(e.b, ':', ' ')
}

func (e *encoder) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			e.strSlow(s)
			return
		}
	}
	e.b = append(e.b, '"')
	e.b = append(e.b, s...)
	e.b = append(e.b, '"')
}

// strSlow leaves escaping (control characters, invalid UTF-8, U+2028) to
// encoding/json.
func (e *encoder) strSlow(s string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	e.b = append(e.b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

func (e *encoder) bool(v bool) { e.b = strconv.AppendBool(e.b, v) }
func (e *encoder) int(v int)   { e.b = strconv.AppendInt(e.b, int64(v), 10) }

func (e *encoder) strField(k, v string) { e.key(k); e.str(v) }

func (e *encoder) optStr(k, v string) {
	if v != "" {
		e.strField(k, v)
	}
}

func (e *encoder) optBool(k string, v bool) {
	if v {
		e.key(k)
		e.bool(v)
	}
}

// strs writes a string slice: null when nil, as encoding/json does.
func (e *encoder) strs(v []string) {
	if v == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.open('[')
	for _, s := range v {
		e.elem()
		e.str(s)
	}
	e.close(']')
}

func (e *encoder) optStrs(k string, v []string) {
	if len(v) > 0 {
		e.key(k)
		e.strs(v)
	}
}

// strMap writes a map with its keys sorted, as encoding/json does.
func (e *encoder) strMap(m map[string]string) {
	if m == nil {
		e.b = append(e.b, "null"...)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.open('{')
	for _, k := range keys {
		e.strField(k, m[k])
	}
	e.close('}')
}

func (e *encoder) optStrMap(k string, m map[string]string) {
	if len(m) > 0 {
		e.key(k)
		e.strMap(m)
	}
}

func (e *encoder) optStrMaps(k string, ms []map[string]string) {
	if len(ms) > 0 {
		e.key(k)
		e.strMaps(ms)
	}
}

// strMaps writes a list of string maps: null when nil.
func (e *encoder) strMaps(ms []map[string]string) {
	if ms == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.open('[')
	for _, m := range ms {
		e.elem()
		e.strMap(m)
	}
	e.close(']')
}

// raw writes a RawMessage re-indented at the current depth, as
// encoding/json does when it indents.
func (e *encoder) raw(m json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, m); err != nil {
		return err
	}
	prefix := string(bytes.Repeat([]byte("  "), e.depth))
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), prefix, "  "); err != nil {
		return err
	}
	e.b = append(e.b, out.Bytes()...)
	return nil
}

// ptr writes a nil pointer as null and any other through f.
func ptr[T any](e *encoder, v *T, f func(*T) error) error {
	if v == nil {
		e.b = append(e.b, "null"...)
		return nil
	}
	return f(v)
}

// list writes a slice of pointers: null when nil, elements through f.
func list[T any](e *encoder, v []*T, f func(*T) error) error {
	if v == nil {
		e.b = append(e.b, "null"...)
		return nil
	}
	e.open('[')
	for _, x := range v {
		e.elem()
		if err := ptr(e, x, f); err != nil {
			return err
		}
	}
	e.close(']')
	return nil
}

// optObject writes key and v as an object whose fields are written by
// fields; nothing when v is nil.
func optObject[T any](e *encoder, key string, v *T, fields func(*T)) {
	if v == nil {
		return
	}
	e.key(key)
	e.open('{')
	fields(v)
	e.close('}')
}

// objects writes key and items as a list of objects whose fields are
// written by fields (null for a nil list or item, as encoding/json does).
func objects[T any](e *encoder, key string, items []*T, fields func(*T)) {
	e.key(key)
	_ = list(e, items, func(x *T) error { // fields cannot fail
		e.open('{')
		fields(x)
		e.close('}')
		return nil
	})
}

// optObjects is objects, or nothing when items is empty.
func optObjects[T any](e *encoder, key string, items []*T, fields func(*T)) {
	if len(items) > 0 {
		objects(e, key, items, fields)
	}
}

func (e *encoder) plan(p *Plan) error {
	e.open('{')
	e.strField("format_version", p.FormatVersion)
	e.strField("digest", p.Digest)
	e.key("spec")
	e.open('{')
	e.strField("file", p.Spec.File)
	e.strField("digest", p.Spec.Digest)
	e.optStr("path", p.Spec.Path)
	e.optStrs("overrides", p.Spec.Overrides)
	e.close('}')
	e.strField("native_platform", p.NativePlatform)
	e.optStrs("select", p.Select)
	optObject(e, "lock", p.Lock, func(l *LockFile) {
		e.strField("file", l.File)
		e.strField("digest", l.Digest)
	})
	optObject(e, "release", p.Release, func(r *Release) {
		e.key("source_date_epoch")
		e.b = strconv.AppendInt(e.b, r.SourceDateEpoch, 10)
		e.strField("source", r.Source)
	})
	e.key("variables")
	if err := list(e, p.Variables, e.variable); err != nil {
		return err
	}
	e.optStrs("set", p.Set)
	e.key("steps")
	if err := list(e, p.Steps, func(s *Step) error {
		defer e.spill()
		return e.step(s)
	}); err != nil {
		return err
	}
	e.close('}')
	return nil
}

func (e *encoder) variable(v *Variable) error {
	e.open('{')
	e.strField("name", v.Name)
	e.strField("type", v.Type)
	if len(v.Value) > 0 {
		e.key("value")
		if err := e.raw(v.Value); err != nil {
			return err
		}
	}
	e.optBool("sensitive", v.Sensitive)
	e.optStr("fingerprint", v.Fingerprint)
	e.strField("source", v.Source)
	e.close('}')
	return nil
}

// step writes one step: the fields of Step in order, each object by a
// method of its own.
func (e *encoder) step(s *Step) error {
	e.open('{')
	e.strField("id", s.ID)
	e.strField("action", string(s.Action))
	e.needs(s.Needs)
	e.declaredAt(s.DeclaredAt)
	e.optStrMap("observed", s.Observed)
	e.change(s.Change)
	e.docker(s.Docker)
	e.emulator(s.Emulator)
	e.builder(s.Builder)
	e.registry(s.Registry)
	if b := s.Build; b != nil {
		e.key("build")
		if err := e.build(b); err != nil {
			return err
		}
	}
	e.publish(s.Publish)
	e.close('}')
	return nil
}

func (e *encoder) needs(needs []Edge) {
	if len(needs) == 0 {
		return
	}
	e.key("needs")
	e.open('[')
	for _, n := range needs {
		e.elem()
		e.open('{')
		e.strField("step", n.Step)
		e.strField("kind", string(n.Kind))
		e.optStr("name", n.Name)
		e.close('}')
	}
	e.close(']')
}

func (e *encoder) declaredAt(r *Range) {
	optObject(e, "declared_at", r, func(r *Range) {
		e.strField("file", r.File)
		e.key("line")
		e.int(r.Line)
		e.key("column")
		e.int(r.Column)
		e.key("end_line")
		e.int(r.EndLine)
		e.key("end_column")
		e.int(r.EndColumn)
	})
}

func (e *encoder) change(c *Change) {
	optObject(e, "change", c, func(c *Change) {
		e.strField("symbol", c.Symbol)
		e.strField("summary", c.Summary)
		e.optStr("before", c.Before)
		e.optStr("after", c.After)
		e.optBool("destructive", c.Destructive)
		e.optStr("note", c.Note)
	})
}

func (e *encoder) docker(d *DockerRequirement) {
	optObject(e, "docker", d, func(d *DockerRequirement) {
		e.strField("image_store", d.ImageStore)
		e.optStr("daemon_config", d.DaemonConfig)
		e.optStrs("restart_command", d.RestartCommand)
	})
}

func (e *encoder) emulator(m *Emulator) {
	optObject(e, "emulator", m, func(m *Emulator) {
		e.strField("arch", m.Arch)
		e.strField("interpreter", m.Interpreter)
		e.strField("flags", m.Flags)
		e.key("platforms")
		e.strs(m.Platforms)
	})
}

func (e *encoder) builder(b *Builder) {
	optObject(e, "builder", b, func(b *Builder) {
		e.strField("name", b.Name)
		e.optStr("endpoint", b.Endpoint)
		e.optStrs("nodes", b.Nodes)
		if b.MaxSolves != 0 {
			e.key("max_solves")
			e.int(b.MaxSolves)
		}
		e.key("local")
		e.bool(b.Local)
		e.key("platforms")
		e.strs(b.Platforms)
		e.tls(b.TLS)
	})
}

func (e *encoder) registry(r *Registry) {
	optObject(e, "registry", r, func(r *Registry) {
		e.strField("name", r.Name)
		e.strField("host", r.Host)
		e.optBool("insecure", r.Insecure)
		e.tls(r.TLS)
	})
}

func (e *encoder) publish(p *Publish) {
	optObject(e, "publish", p, func(p *Publish) {
		e.strField("target", p.Target)
		e.key("tags")
		e.strs(p.Tags)
		e.key("platforms")
		e.strs(p.Platforms)
	})
}

// tls writes a builder's or a registry's TLS settings, when it has any.
func (e *encoder) tls(t *BuilderTLS) {
	optObject(e, "tls", t, func(t *BuilderTLS) {
		e.optStr("ca_cert", t.CACert)
		e.optStr("cert", t.Cert)
		e.optStr("key", t.Key)
		e.optStr("server_name", t.ServerName)
	})
}
