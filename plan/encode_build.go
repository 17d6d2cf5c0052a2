package plan

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// A build step is written field by field in Build's declaration order, as
// encoding/json does: a field of a plain kind (string, bool, integer,
// []string, map[string]string, []map[string]string) by its json tag, with
// no code of its own, and a field of a structured kind by a writer in
// buildWriters. So a new attribute whose field is plain needs nothing here.

// fieldWriter writes one field of Build.
type fieldWriter struct {
	index     int
	key       string
	omitEmpty bool
	// write writes the value after its key; own, if set, writes the key
	// too (and decides itself when to leave the field out).
	write func(e *encoder, v reflect.Value)
	own   func(e *encoder, b *Build)
}

// buildWriters are the writers of Build's fields, in declaration order. A
// field of a kind it cannot write is a programming error, which every
// test that encodes a plan finds.
func buildWriters() []fieldWriter {
	own := map[string]func(e *encoder, b *Build){
		"Platforms": (*encoder).platformRuns,
		"Contexts":  (*encoder).namedContexts,
		"Outputs":   (*encoder).outputs,
		"Secrets":   (*encoder).secrets,
		"SSH":       (*encoder).sshSockets,
		"Inputs":    (*encoder).inputs,
		"Images":    (*encoder).images,
		"Remote":    (*encoder).remotes,
		"Status":    (*encoder).status,
	}
	bt := reflect.TypeFor[Build]()
	var out []fieldWriter
	for i := range bt.NumField() {
		f := bt.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		key, opts, _ := strings.Cut(tag, ",")
		w := fieldWriter{index: i, key: key, omitEmpty: opts == "omitempty", own: own[f.Name]}
		if w.own == nil {
			w.write = plainWriter(f.Type)
			if w.write == nil {
				panic(fmt.Sprintf("plan.Build.%s is a %s: give it a writer in buildWriters", f.Name, f.Type))
			}
		}
		out = append(out, w)
	}
	return out
}

// plainWriter writes a value of a plain kind, or is nil.
func plainWriter(t reflect.Type) func(e *encoder, v reflect.Value) {
	switch kindOf(t) {
	case KindString:
		return func(e *encoder, v reflect.Value) { e.str(v.String()) }
	case KindBool:
		return func(e *encoder, v reflect.Value) { e.bool(v.Bool()) }
	case KindInt:
		return func(e *encoder, v reflect.Value) { e.b = strconv.AppendInt(e.b, v.Int(), 10) }
	case KindList:
		return func(e *encoder, v reflect.Value) { e.strs(*v.Addr().Interface().(*[]string)) }
	case KindMap:
		return func(e *encoder, v reflect.Value) { e.strMap(*v.Addr().Interface().(*map[string]string)) }
	case KindMaps:
		return func(e *encoder, v reflect.Value) { e.strMaps(*v.Addr().Interface().(*[]map[string]string)) }
	}
	return nil
}

// build writes a build step's object, each field by its writer.
func (e *encoder) build(b *Build) error {
	if e.fields == nil {
		e.fields = buildWriters()
	}
	e.open('{')
	v := reflect.ValueOf(b).Elem()
	for _, f := range e.fields {
		if f.own != nil {
			f.own(e, b)
			continue
		}
		fv := v.Field(f.index)
		if f.omitEmpty && isEmpty(fv) {
			continue
		}
		e.key(f.key)
		f.write(e, fv)
	}
	e.close('}')
	return nil
}

func (e *encoder) platformRuns(b *Build) {
	e.key("platforms")
	if b.Platforms == nil {
		e.b = append(e.b, "null"...)
		return
	}
	e.open('[')
	for _, r := range b.Platforms {
		e.elem()
		e.open('{')
		e.strField("platform", r.Platform)
		e.key("native")
		e.bool(r.Native)
		e.optStr("emulator", r.Emulator)
		e.optBool("cross_compiled", r.CrossCompiled)
		e.optStrs("stages", r.Stages)
		if r.RunSteps != 0 {
			e.key("run_steps")
			e.int(r.RunSteps)
		}
		e.close('}')
	}
	e.close(']')
}

func (e *encoder) namedContexts(b *Build) {
	optObjects(e, "contexts", b.Contexts, func(c *NamedContext) {
		e.strField("name", c.Name)
		e.optStr("target", c.Target)
		e.optStr("path", c.Path)
		e.optStr("image", c.Image)
		e.optStr("url", c.URL)
	})
}

func (e *encoder) outputs(b *Build) {
	optObjects(e, "outputs", b.Outputs, func(o *Output) {
		e.strField("type", o.Type)
		e.optStr("dest", o.Dest)
		e.optStrMap("attrs", o.Attrs)
	})
}

func (e *encoder) secrets(b *Build) {
	optObjects(e, "secrets", b.Secrets, func(s *Secret) {
		e.strField("id", s.ID)
		e.optStr("env", s.Env)
		e.optStr("file", s.File)
	})
}

func (e *encoder) sshSockets(b *Build) {
	optObjects(e, "ssh", b.SSH, func(s *SSH) {
		e.strField("id", s.ID)
		e.optStrs("paths", s.Paths)
	})
}

func (e *encoder) inputs(b *Build) {
	objects(e, "inputs", b.Inputs, func(in *Input) {
		e.strField("kind", in.Kind)
		e.optStr("path", in.Path)
		e.strField("digest", in.Digest)
		if in.Reads != nil {
			e.key("reads") // [] too: it reads nothing
			e.strs(in.Reads)
		}
		e.optStr("reads_all", in.ReadsAll)
	})
}

func (e *encoder) images(b *Build) {
	optObjects(e, "images", b.Images, func(i *Image) {
		e.strField("ref", i.Ref)
		e.key("platforms")
		e.strs(i.Platforms)
		e.optBool("syntax", i.Syntax)
		e.optStr("digest", i.Digest)
		e.optBool("locked", i.Locked)
		e.optStr("registry", i.Registry)
		optObject(e, "resolved", i.Resolved, func(r *Resolved) {
			e.strField("digest", r.Digest)
			e.optStrMap("platforms", r.Platforms)
		})
		e.optStr("unresolved", i.Unresolved)
		e.optBool("onbuild", i.OnBuild)
	})
}

func (e *encoder) remotes(b *Build) {
	optObjects(e, "remote", b.Remote, func(r *Remote) {
		e.strField("source", r.Source)
		e.strField("at", r.At)
		e.optBool("pinned", r.Pinned)
	})
}

func (e *encoder) status(b *Build) {
	optObject(e, "status", b.Status, func(st *BuildStatus) {
		e.strField("state", string(st.State))
		e.optStr("digest", st.Digest)
		e.optStr("from", st.From)
		e.optStrs("reasons", st.Reasons)
	})
}
