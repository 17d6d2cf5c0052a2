// Package lockfile reads and writes bakeplan.lock.hcl: the digest every
// image a project's builds pull was pinned to, one block per reference,
// in the spirit of Terraform's .terraform.lock.hcl. The file is written
// deterministically (sorted, formatted) so that a change reads well in
// review; bakeplan lock maintains it.
package lockfile

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/bakeplan/bakeplan/internal/imageref"
	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/opencontainers/go-digest"
	"github.com/zclconf/go-cty/cty"
)

// Name is the lock file's name, beside the spec.
const Name = "bakeplan.lock.hcl"

// Lock is a parsed lock file.
type Lock struct {
	// Images are the pins, by normalized reference.
	Images map[string]*Image
}

// Image is the pin of one reference.
type Image struct {
	// Ref is the normalized reference: docker.io/library/golang:1.26.
	Ref string
	// Digest is what the reference pointed at when it was locked: an
	// image index, or a single manifest.
	Digest string
	// Platforms maps each platform the builds pull the image for to the
	// manifest digest the index holds for it.
	Platforms map[string]string
	// DeclRange is the block, for diagnostics; zero for a new pin.
	DeclRange hcl.Range
}

// Normalize is the form a reference is locked under: fully qualified, with
// its tag (":latest" when none is written). ok is false for a reference
// that carries a digest, which pins itself.
func Normalize(ref string) (norm string, pinned bool, err error) {
	return imageref.Normalize(ref)
}

// Parse reads a lock file. Every problem is a diagnostic at its line.
func Parse(name string, data []byte) (*Lock, hcl.Diagnostics) {
	f, diags := hclsyntax.ParseConfig(data, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	content, d := f.Body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "image", LabelNames: []string{"reference"}}}})
	diags = append(diags, d...)
	l := &Lock{Images: map[string]*Image{}}
	for _, b := range content.Blocks {
		img, d := parseImage(b)
		diags = append(diags, d...)
		if img == nil {
			continue
		}
		if prev, dup := l.Images[img.Ref]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError, Summary: "Duplicate image pin",
				Detail:  fmt.Sprintf("%s is pinned twice; the first pin is at %s.", img.Ref, prev.DeclRange),
				Subject: b.LabelRanges[0].Ptr(),
			})
			continue
		}
		l.Images[img.Ref] = img
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return l, diags
}

func parseImage(b *hcl.Block) (*Image, hcl.Diagnostics) {
	ref := b.Labels[0]
	bad := func(rng hcl.Range, format string, args ...any) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid image pin", Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()}}
	}
	norm, pinned, err := Normalize(ref)
	switch {
	case err != nil:
		return nil, bad(b.LabelRanges[0], "%q is not an image reference: %v.", ref, err)
	case pinned:
		return nil, bad(b.LabelRanges[0], "%q carries a digest and pins itself; the lock holds references by tag.", ref)
	case norm != ref:
		return nil, bad(b.LabelRanges[0], "%q is written %q in a lock file.", ref, norm)
	}
	attrs, diags := b.Body.JustAttributes()
	img := &Image{Ref: ref, Platforms: map[string]string{}, DeclRange: b.DefRange}
	for name, a := range attrs {
		switch name {
		case "digest":
			v, d := a.Expr.Value(nil)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			if v.Type() != cty.String || v.IsNull() || digest.Digest(v.AsString()).Validate() != nil {
				diags = append(diags, bad(a.Expr.Range(), "digest must be a sha256:… digest.")...)
				continue
			}
			img.Digest = v.AsString()
		case "platforms":
			v, d := a.Expr.Value(nil)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			if v.IsNull() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
				diags = append(diags, bad(a.Expr.Range(), "platforms must map each platform to its manifest digest.")...)
				continue
			}
			for k, dv := range v.AsValueMap() {
				p, err := platforms.Parse(k)
				if err != nil || platforms.Format(platforms.Normalize(p)) != k {
					diags = append(diags, bad(a.Expr.Range(), "%q is not a platform in its normal form (os/arch[/variant]).", k)...)
					continue
				}
				if dv.Type() != cty.String || dv.IsNull() || digest.Digest(dv.AsString()).Validate() != nil {
					diags = append(diags, bad(a.Expr.Range(), "the manifest of %s must be a sha256:… digest.", k)...)
					continue
				}
				img.Platforms[k] = dv.AsString()
			}
		default:
			diags = append(diags, bad(a.NameRange, "an image pin has digest and platforms, not %s.", name)...)
		}
	}
	if img.Digest == "" && !diags.HasErrors() {
		diags = append(diags, bad(b.DefRange, "the pin of %s has no digest.", ref)...)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return img, diags
}

// header opens every lock file.
const header = `# This file is maintained by "bakeplan lock": the digest each image the
# builds pull is pinned to. Review changes to it like code; apply builds
# from these bytes even when a tag moves. "bakeplan lock -upgrade" moves pins.
`

// Bytes is the lock file: the header, then one block per reference in
// sorted order, formatted.
func (l *Lock) Bytes() []byte {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	for i, ref := range slices.Sorted(maps.Keys(l.Images)) {
		img := l.Images[ref]
		if i > 0 {
			body.AppendNewline()
		}
		blk := body.AppendNewBlock("image", []string{ref}).Body()
		blk.SetAttributeValue("digest", cty.StringVal(img.Digest))
		if len(img.Platforms) > 0 {
			blk.SetAttributeRaw("platforms", platformTokens(img.Platforms))
		}
	}
	var buf bytes.Buffer
	buf.WriteString(header)
	buf.WriteByte('\n')
	buf.Write(hclwrite.Format(f.Bytes()))
	return buf.Bytes()
}

// platformTokens writes the platforms one per line, sorted, which
// hclwrite's own object writer would put on one line.
func platformTokens(m map[string]string) hclwrite.Tokens {
	var sb strings.Builder
	sb.WriteString("{\n")
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&sb, "%q = %q\n", k, m[k])
	}
	sb.WriteString("}")
	return hclwrite.Tokens{{Type: hclsyntax.TokenIdent, Bytes: []byte(sb.String())}}
}

// Lookup returns the pin of ref (in any form Normalize accepts), or nil.
func (l *Lock) Lookup(ref string) *Image {
	if l == nil {
		return nil
	}
	norm, _, err := Normalize(ref)
	if err != nil {
		return nil
	}
	return l.Images[norm]
}
