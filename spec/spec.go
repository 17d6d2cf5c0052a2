package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"
)

// Spec is one parsed spec file.
type Spec struct {
	Filename string // as given to Parse; used in diagnostics
	Source   []byte // the file's bytes, for the spec digest

	Variables  []*Variable
	Locals     []*Local
	Functions  []*Function
	Host       *Host    // nil when the spec declares no host block
	Release    *Release // nil when the spec declares no release block
	Builders   []*Builder
	Registries []*Registry
	Targets    []*Target
	Groups     []*Group
}

// Variable is a `variable "NAME"` block.
type Variable struct {
	Name        string
	Description string
	Sensitive   bool
	Type        cty.Type // cty.DynamicPseudoType when no type is given
	TypeDefault *typeexpr.Defaults
	Default     hcl.Expression // nil when absent: the variable is required
	Validations []*Validation
	DeclRange   hcl.Range
}

// Validation is a variable's `validation` block.
type Validation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

// Local is one attribute of a `locals` block.
type Local struct {
	Name      string
	Expr      hcl.Expression
	DeclRange hcl.Range
}

// Function is a user `function "NAME"` block.
type Function struct {
	Name      string
	Params    []string
	Variadic  string // "" when the function takes no variadic parameter
	Result    hcl.Expression
	DeclRange hcl.Range
}

// Release is the `release` block: every target builds reproducibly (unless
// it sets release = false) with this SOURCE_DATE_EPOCH.
type Release struct {
	SourceDateEpoch hcl.Expression // nil when absent; "git" or a number
	AllowDirty      hcl.Expression // nil when absent; bool
	DeclRange       hcl.Range
}

// Host is the `host` block: what the machine running the builds must offer.
type Host struct {
	Docker    *Docker        // nil when no docker block is declared
	Emulators hcl.Expression // nil when absent; list(string) of architectures
	DeclRange hcl.Range
}

// Docker is the host's `docker` block.
type Docker struct {
	ImageStore     hcl.Expression // nil when absent; "containerd" or "any"
	DaemonConfig   hcl.Expression // nil when absent; path of daemon.json
	RestartCommand hcl.Expression // nil when absent; list(string)
	DeclRange      hcl.Range
}

// Builder is a `builder "NAME"` block: one BuildKit node.
type Builder struct {
	Name     string
	Endpoint hcl.Expression // nil when absent
	// Nodes are the endpoints of a pool of nodes that serve the same
	// platforms, instead of one Endpoint; MaxSolves bounds each node's
	// concurrent solves. Each nil when absent.
	Nodes     hcl.Expression
	MaxSolves hcl.Expression
	Platforms hcl.Expression // nil when absent
	TLS       *BuilderTLS    // nil when absent
	DeclRange hcl.Range
}

// BuilderTLS is a builder's `tls` block, for tcp:// endpoints.
type BuilderTLS struct {
	CACert     hcl.Expression // each nil when absent
	Cert       hcl.Expression
	Key        hcl.Expression
	ServerName hcl.Expression
	DeclRange  hcl.Range
}

// Registry is a `registry "NAME"` block.
type Registry struct {
	Name      string
	Host      hcl.Expression
	Insecure  hcl.Expression // nil when absent
	CACert    hcl.Expression // nil when absent, as are Cert and Key
	Cert      hcl.Expression
	Key       hcl.Expression
	DeclRange hcl.Range
}

// Target is a `target "NAME"` block before evaluation and matrix expansion.
type Target struct {
	Name      string
	DeclRange hcl.Range
	TypeRange hcl.Range // the block's label, where "target X" diagnostics point

	// Attrs holds the evaluated attributes listed in TargetAttributes, by name.
	Attrs hcl.Attributes
	// Earlier holds, for a target declared again in a later spec file
	// (Merge), the attributes as the earlier files left them, oldest
	// first: attributes that merge (args, labels, ...) merge across files
	// the way inherits merges them, as bake does.
	Earlier []hcl.Attributes

	// Structural attributes are read without evaluation (references) or
	// evaluated per matrix combination (name).
	Inherits  []Ref
	DependsOn []Ref
	Contexts  []*NamedContext
	Builder   *Ref           // nil when the target does not pin a builder
	Matrix    hcl.Expression // nil when the target has no matrix
	NameExpr  hcl.Expression // the matrix `name`; nil when absent
}

// NamedContext is one entry of a target's `contexts` map: either a reference
// to another target (a data edge) or an expression that yields a path or an
// image reference.
type NamedContext struct {
	Name      string
	Target    *Ref           // set for `name = target.x`
	Expr      hcl.Expression // set otherwise
	DeclRange hcl.Range
}

// Group is a `group "NAME"` block.
type Group struct {
	Name        string
	Description string
	Targets     []Ref
	// Expr, when targets is not a list of references, computes the names
	// of its targets and groups (a concat or for over variables, as bake
	// files have), once variables are known.
	Expr      hcl.Expression
	DeclRange hcl.Range
}

// Ref is a static reference such as target.app or builder.arm.
type Ref struct {
	Kind  string // "target", "group" or "builder"
	Name  string
	Range hcl.Range
}

// String renders the reference as written.
func (r Ref) String() string { return r.Kind + "." + r.Name }
