package spec

import (
	"fmt"

	"github.com/bakeplan/bakeplan/targetattr"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// AttrDef names one evaluated target attribute and its type.
type AttrDef struct {
	Name string
	Type cty.Type
	Doc  string
}

// TargetAttributes lists the target attributes the compiler evaluates, in
// the order the documentation gives them, with their types parsed: the
// evaluated (not structural) ones of targetattr.All. The compiler converts
// every value to these types.
var TargetAttributes = func() []AttrDef {
	var out []AttrDef
	for _, a := range targetattr.All {
		if !a.Structural() {
			out = append(out, attr(a.Name, a.Type, a.Doc))
		}
	}
	return out
}()

// Structural target attributes, read without evaluation or per matrix row.
const (
	attrInherits  = "inherits"
	attrDependsOn = "depends_on"
	attrContexts  = "contexts"
	attrBuilder   = "builder"
	attrMatrix    = "matrix"
	attrName      = "name"
)

func attr(name, typeExpr, doc string) AttrDef {
	expr, diags := hclsyntax.ParseExpression([]byte(typeExpr), "schema", hcl.InitialPos)
	if diags.HasErrors() {
		panic(fmt.Sprintf("spec: bad type for %s: %s", name, diags.Error()))
	}
	ty, diags := typeexpr.TypeConstraint(expr)
	if diags.HasErrors() {
		panic(fmt.Sprintf("spec: bad type for %s: %s", name, diags.Error()))
	}
	return AttrDef{Name: name, Type: ty, Doc: doc}
}

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "function", LabelNames: []string{"name"}},
		{Type: "host"},
		{Type: "release"},
		{Type: "builder", LabelNames: []string{"name"}},
		{Type: "registry", LabelNames: []string{"name"}},
		{Type: "target", LabelNames: []string{"name"}},
		{Type: "group", LabelNames: []string{"name"}},
	},
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "type"},
		{Name: "default"},
		{Name: "description"},
		{Name: "sensitive"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "condition", Required: true},
		{Name: "error_message", Required: true},
	},
}

var functionSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "params", Required: true},
		{Name: "variadic_param"},
		{Name: "result", Required: true},
	},
}

var releaseSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "source_date_epoch"}, {Name: "allow_dirty"}},
}

var hostSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "emulators"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "docker"}},
}

var dockerSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "image_store"}, {Name: "daemon_config"}, {Name: "restart_command"}},
}

var builderSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "endpoint"}, {Name: "nodes"}, {Name: "max_solves"}, {Name: "platforms"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "tls"}},
}

var tlsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "ca_cert"}, {Name: "cert"}, {Name: "key"}, {Name: "server_name"}},
}

var registrySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "host", Required: true}, {Name: "insecure"}, {Name: "ca_cert"}, {Name: "cert"}, {Name: "key"}},
}

var groupSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "targets", Required: true}, {Name: "description"}},
}

var targetSchema = func() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, a := range targetattr.All {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a.Name})
	}
	return s
}()
