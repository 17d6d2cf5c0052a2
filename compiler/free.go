package compiler

import (
	"github.com/bakeplan/bakeplan/internal/par"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// keptExprs are the attributes whose expressions checking still reads
// after evaluation: a bad platform or tag is pointed at by its element.
var keptExprs = map[string]bool{"platforms": true, "tags": true}

// releaseSyntax lets the target blocks' syntax trees go once every target
// is evaluated: checking and building the plan need only where each
// attribute was written, and the trees are the larger part of a large
// spec's memory while the plan is built. Named contexts keep their
// expressions (they are evaluated when checked), as do keptExprs.
func (c *compilation) releaseSyntax() {
	// Each evaluated instance once (c.targets; a matrix instance is also
	// in c.byName), on every core: an instance's expressions are its own.
	par.Do(len(c.targets), func(i int) {
		in := c.targets[i]
		for name, e := range in.exprs {
			if _, done := e.(placed); !done && !keptExprs[name] {
				in.exprs[name] = placed{e.Range()}
			}
		}
	})
	for _, t := range c.spec.Targets {
		t.Attrs, t.Earlier, t.Matrix, t.NameExpr = nil, nil, nil, nil
	}
	c.attrRefs = nil
}

// releaseValues lets every target's evaluated values go once each is
// resolved into its build: what is left of assembling the plan reads the
// builds, and the values (and the evaluation contexts that hold every
// variable and target) were a large part of the heap while it is built.
func (c *compilation) releaseValues(all []*resolved) {
	for _, r := range all {
		if r == nil {
			continue
		}
		r.obj = nil
		r.in.obj, r.in.ctx, r.in.value = nil, nil, cty.NilVal
	}
}

// placed stands for an expression already evaluated: where it was
// written, and nothing more.
type placed struct{ rng hcl.Range }

func (p placed) Range() hcl.Range { return p.rng }

// StartRange is the empty range where the expression began.
func (p placed) StartRange() hcl.Range {
	return hcl.Range{Filename: p.rng.Filename, Start: p.rng.Start, End: p.rng.Start}
}

func (p placed) Variables() []hcl.Traversal { return nil }

func (p placed) Value(*hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	return cty.DynamicVal, hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  "Internal error: an expression read after its target was evaluated",
		Subject:  p.rng.Ptr(),
	}}
}
