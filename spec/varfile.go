package spec

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// ParseVarFile parses a variable file: NAME = value attributes in native
// syntax, or a JSON object when filename ends in ".json". Values are left
// unevaluated; the compiler evaluates them without any variables in scope.
func ParseVarFile(p *hclparse.Parser, filename string, src []byte) (hcl.Attributes, hcl.Diagnostics) {
	if d := CheckNesting(src, filename); d.HasErrors() {
		return nil, d
	}
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(filename, ".json") {
		f, diags = p.ParseJSON(src, filename)
	} else {
		f, diags = p.ParseHCL(src, filename)
	}
	if diags.HasErrors() || f == nil {
		return nil, diags
	}
	attrs, d := f.Body.JustAttributes()
	return attrs, append(diags, d...)
}
