package spec

import (
	"maps"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

var dynamic = cty.DynamicPseudoType

// Merge lays over on base, as bake reads several files (-f a.hcl -f
// b.hcl, or a file and its override): blocks of the same kind and name
// merge attribute by attribute, over's value winning, and blocks only over
// has are added after base's. Every attribute keeps its own source range,
// so diagnostics still name the file that set the value.
func Merge(base, over *Spec) *Spec {
	out := *base
	out.Source = append(append(append([]byte{}, base.Source...), "\n\x00"+over.Filename+"\x00\n"...), over.Source...)

	out.Variables = mergeNamed(base.Variables, over.Variables, func(v *Variable) string { return v.Name }, mergeVariable)
	out.Locals = mergeNamed(base.Locals, over.Locals, func(l *Local) string { return l.Name }, func(_, o *Local) *Local { return o })
	out.Functions = mergeNamed(base.Functions, over.Functions, func(f *Function) string { return f.Name }, func(_, o *Function) *Function { return o })
	out.Builders = mergeNamed(base.Builders, over.Builders, func(b *Builder) string { return b.Name }, mergeBuilder)
	out.Registries = mergeNamed(base.Registries, over.Registries, func(r *Registry) string { return r.Name }, mergeRegistry)
	out.Targets = mergeNamed(base.Targets, over.Targets, func(t *Target) string { return t.Name }, mergeTarget)
	out.Groups = mergeNamed(base.Groups, over.Groups, func(g *Group) string { return g.Name }, mergeGroup)
	switch {
	case base.Host == nil:
		out.Host = over.Host
	case over.Host != nil:
		h := *base.Host
		h.Emulators = or(over.Host.Emulators, h.Emulators)
		if over.Host.Docker != nil {
			if h.Docker == nil {
				h.Docker = over.Host.Docker
			} else {
				d := *h.Docker
				d.ImageStore = or(over.Host.Docker.ImageStore, d.ImageStore)
				d.DaemonConfig = or(over.Host.Docker.DaemonConfig, d.DaemonConfig)
				d.RestartCommand = or(over.Host.Docker.RestartCommand, d.RestartCommand)
				h.Docker = &d
			}
		}
		out.Host = &h
	}
	switch {
	case base.Release == nil:
		out.Release = over.Release
	case over.Release != nil:
		r := *base.Release
		r.SourceDateEpoch = or(over.Release.SourceDateEpoch, r.SourceDateEpoch)
		r.AllowDirty = or(over.Release.AllowDirty, r.AllowDirty)
		out.Release = &r
	}
	return &out
}

// mergeNamed merges two lists of named blocks: same names merge, in
// base's order, and over's new ones follow.
func mergeNamed[T any](base, over []T, name func(T) string, merge func(b, o T) T) []T {
	out := append([]T(nil), base...)
	at := map[string]int{}
	for i, b := range out {
		at[name(b)] = i
	}
	for _, o := range over {
		if i, ok := at[name(o)]; ok {
			out[i] = merge(out[i], o)
			continue
		}
		at[name(o)] = len(out)
		out = append(out, o)
	}
	return out
}

func or[T comparable](over, base T) T {
	var zero T
	if over != zero {
		return over
	}
	return base
}

func mergeVariable(b, o *Variable) *Variable {
	v := *b
	v.Default = or(o.Default, v.Default)
	if o.TypeDefault != nil || !o.Type.Equals(dynamic) {
		v.Type, v.TypeDefault = o.Type, o.TypeDefault
	}
	v.Description = or(o.Description, v.Description)
	v.Sensitive = v.Sensitive || o.Sensitive
	v.Validations = append(append([]*Validation(nil), v.Validations...), o.Validations...)
	return &v
}

func mergeBuilder(b, o *Builder) *Builder {
	m := *b
	m.Endpoint = or(o.Endpoint, m.Endpoint)
	m.Nodes = or(o.Nodes, m.Nodes)
	m.MaxSolves = or(o.MaxSolves, m.MaxSolves)
	m.Platforms = or(o.Platforms, m.Platforms)
	m.TLS = or(o.TLS, m.TLS)
	return &m
}

func mergeRegistry(b, o *Registry) *Registry {
	m := *b
	m.Host = or(o.Host, m.Host)
	m.Insecure = or(o.Insecure, m.Insecure)
	m.CACert = or(o.CACert, m.CACert)
	m.Cert = or(o.Cert, m.Cert)
	m.Key = or(o.Key, m.Key)
	return &m
}

func mergeTarget(b, o *Target) *Target {
	m := *b
	m.Earlier = append(append([]hcl.Attributes(nil), b.Earlier...), b.Attrs)
	m.Attrs = maps.Clone(b.Attrs)
	if m.Attrs == nil {
		m.Attrs = hcl.Attributes{}
	}
	maps.Copy(m.Attrs, o.Attrs)
	if o.Inherits != nil {
		m.Inherits = o.Inherits
	}
	if o.DependsOn != nil {
		m.DependsOn = o.DependsOn
	}
	if o.Contexts != nil {
		m.Contexts = o.Contexts
	}
	m.Builder = or(o.Builder, m.Builder)
	m.Matrix = or(o.Matrix, m.Matrix)
	m.NameExpr = or(o.NameExpr, m.NameExpr)
	return &m
}

func mergeGroup(b, o *Group) *Group {
	m := *b
	if o.Targets != nil {
		m.Targets = o.Targets
	}
	m.Description = or(o.Description, m.Description)
	return &m
}
