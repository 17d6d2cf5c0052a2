// Package benchspec writes a large, realistic project for benchmarks: one
// bakeplan spec and the equivalent docker buildx bake file over the same
// context directories, so both tools are measured on the same work.
package benchspec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Platforms are the four platforms every generated target builds.
var Platforms = []string{"linux/amd64", "linux/arm64", "linux/riscv64", "linux/ppc64le"}

// Write creates dir/bakeplan.hcl, dir/docker-bake.hcl and n context
// directories under dir/svc. Every tenth target takes the previous one as a
// named context, so the graph has edges as real specs do.
func Write(dir string, n int) error {
	var bp, bake strings.Builder
	quoted := `"` + strings.Join(Platforms, `", "`) + `"`
	fmt.Fprintf(&bp, `variable "VERSION" {
  default = "v1.0.0"
}
variable "REGISTRY" {
  default = "registry.example.com/team"
}
locals {
  platforms = [%s]
}
host {
  emulators = ["arm64", "riscv64", "ppc64le"]
}
registry "team" {
  host = "registry.example.com"
}
`, quoted)
	fmt.Fprintf(&bake, `variable "VERSION" {
  default = "v1.0.0"
}
variable "REGISTRY" {
  default = "registry.example.com/team"
}
`)
	var names []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("svc%04d", i)
		names = append(names, name)
		ctx := filepath.Join(dir, "svc", name)
		if err := os.MkdirAll(ctx, 0o755); err != nil {
			return err
		}
		files := map[string]string{
			"Dockerfile":    fmt.Sprintf("FROM base\nARG SERVICE=%s\nCOPY . /srv/\n", name),
			"main.go":       fmt.Sprintf("package main\n\nfunc main() { println(%q) }\n", name),
			".dockerignore": "*.log\n",
		}
		for f, body := range files {
			if err := os.WriteFile(filepath.Join(ctx, f), []byte(body), 0o644); err != nil {
				return err
			}
		}
		ctxLine, bakeCtx := "", ""
		if i%10 == 9 {
			ctxLine = fmt.Sprintf("  contexts  = { prev = target.%s }\n", names[i-1])
			bakeCtx = fmt.Sprintf("  contexts  = { prev = \"target:%s\" }\n", names[i-1])
		}
		fmt.Fprintf(&bp, `target %q {
  context   = "svc/%s"
  platforms = local.platforms
  args      = { SERVICE = %q, VERSION = var.VERSION }
  labels    = { "org.opencontainers.image.title" = %q }
  tags      = ["${var.REGISTRY}/%s:${var.VERSION}"]
  push      = true
%s}
`, name, name, name, name, name, ctxLine)
		fmt.Fprintf(&bake, `target %q {
  context   = "svc/%s"
  platforms = [%s]
  args      = { SERVICE = %q, VERSION = VERSION }
  labels    = { "org.opencontainers.image.title" = %q }
  tags      = ["${REGISTRY}/%s:${VERSION}"]
  output    = ["type=registry"]
%s}
`, name, name, quoted, name, name, name, bakeCtx)
	}
	group := `group "default" {
  targets = [` + "%s" + `]
}
`
	var refs, strs []string
	for _, n := range names {
		refs = append(refs, "target."+n)
		strs = append(strs, `"`+n+`"`)
	}
	fmt.Fprintf(&bp, group, strings.Join(refs, ", "))
	fmt.Fprintf(&bake, group, strings.Join(strs, ", "))
	if err := os.WriteFile(filepath.Join(dir, "bakeplan.hcl"), []byte(bp.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "docker-bake.hcl"), []byte(bake.String()), 0o644)
}
