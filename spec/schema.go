package spec

import (
	"fmt"

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

// TargetAttributes lists the target attributes the compiler evaluates, in the
// order the documentation gives them. The language's types live here, once;
// the compiler converts every value to them.
var TargetAttributes = []AttrDef{
	attr("description", "string", "a free-text description"),
	attr("context", "string", "the build context directory, relative to the spec (default \".\")"),
	attr("dockerfile", "string", "the Dockerfile, relative to the context (default \"Dockerfile\")"),
	attr("dockerfile_inline", "string", "the Dockerfile's text, instead of a file"),
	attr("target", "string", "the Dockerfile stage to build"),
	attr("platforms", "list(string)", "the platforms to build (default: the native platform)"),
	attr("args", "map(string)", "build arguments"),
	attr("labels", "map(string)", "image labels"),
	attr("annotations", "map(string)", "OCI annotations; a key may start with index:, manifest:, manifest-descriptor: or index-descriptor:"),
	attr("tags", "list(string)", "image references to tag"),
	attr("push", "bool", "push the tags to their registry"),
	attr("output", "list(map(string))", "outputs: registry, oci, local, docker, with their exporter attributes"),
	attr("cache_from", "list(map(string))", "cache sources, as BuildKit attributes"),
	attr("cache_to", "list(map(string))", "cache exports, as BuildKit attributes"),
	attr("secret", "list(object({id=string, env=optional(string), file=optional(string)}))", "build secrets, named by where their value is read at build time"),
	attr("ssh", "list(object({id=string, paths=optional(list(string))}))", "SSH agent sockets or keys forwarded to the build"),
	attr("no_cache", "bool", "ignore the build cache"),
	attr("network", "string", "network mode for RUN: default, none or host"),
	attr("allow_external_paths", "bool", "allow context, dockerfile and contexts paths outside the spec's directory"),
	attr("shm_size", "string", "size of /dev/shm for RUN, such as 128m"),
	attr("ulimits", "list(string)", "ulimits for RUN, as name=soft[:hard], such as nofile=1024:1024"),
	attr("extra_hosts", "map(string)", "extra /etc/hosts entries for RUN: host name to IP address"),
	attr("no_cache_filter", "list(string)", "Dockerfile stages built without the cache"),
	attr("entitlements", "list(string)", "privileges RUN may use: network.host, security.insecure (the builder must allow them)"),
	attr("release", "bool", "build reproducibly under the release block (default true when the spec has one; false opts out)"),
	attr("call", "string", "run a frontend subrequest instead of the build: check (the Dockerfile's checks and lint), outline or targets; default build"),
	attr("attest", "list(map(string))", "attestations pushed with the image: {type = \"sbom\"}, {type = \"provenance\", mode = \"max\"} (BuildKit's attest:* attributes)"),
}

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
	Attributes: []hcl.AttributeSchema{{Name: "endpoint"}, {Name: "platforms"}},
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
	for _, a := range TargetAttributes {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: a.Name})
	}
	for _, n := range []string{attrInherits, attrDependsOn, attrContexts, attrBuilder, attrMatrix, attrName} {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: n})
	}
	return s
}()
