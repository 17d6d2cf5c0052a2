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

// dockerfiles are the few multi-stage Dockerfiles the targets share, as in
// real repositories: one that cross-compiles (its RUN on $BUILDPLATFORM),
// one whose RUN runs on every target platform, a static one, and one that
// takes the previous target as a named context.
var dockerfiles = map[string]string{
	"go": `ARG GO_VERSION=1.26
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG SERVICE VERSION TARGETOS TARGETARCH
WORKDIR /src
COPY . .
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -ldflags "-X main.version=$VERSION" -o /out/$SERVICE .
FROM gcr.io/distroless/static:nonroot AS runtime
COPY --from=build /out/ /usr/local/bin/
`,
	"node": `FROM node:22-slim AS deps
ARG SERVICE
WORKDIR /app
COPY . .
RUN npm ci --omit=dev
FROM node:22-slim AS runtime
ARG VERSION
ENV VERSION=$VERSION
COPY --from=deps /app /app
`,
	"static": `FROM scratch AS runtime
ARG SERVICE VERSION
COPY . /srv/
`,
	"prev": `FROM --platform=$BUILDPLATFORM alpine:3.20 AS build
ARG SERVICE VERSION
RUN echo "$SERVICE $VERSION" > /version
FROM scratch AS runtime
COPY --from=prev / /prev/
COPY --from=build /version /version
`,
}

// Write creates dir/bakeplan.hcl, dir/docker-bake.hcl, the shared
// Dockerfiles under dir/docker and n context directories under dir/svc.
// Every tenth target takes the previous one as a named context, so the
// graph has edges as real specs do.
func Write(dir string, n int) error {
	if err := os.MkdirAll(filepath.Join(dir, "docker"), 0o755); err != nil {
		return err
	}
	for name, body := range dockerfiles {
		if err := os.WriteFile(filepath.Join(dir, "docker", name+".Dockerfile"), []byte(body), 0o644); err != nil {
			return err
		}
	}
	kinds := []string{"go", "node", "static"}
	var bp, bake strings.Builder
	quoted := `"` + strings.Join(Platforms, `", "`) + `"`
	fmt.Fprintf(&bp, specHeader, quoted)
	bake.WriteString(bakeHeader)
	var names []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("svc%04d", i)
		names = append(names, name)
		if err := writeContext(filepath.Join(dir, "svc", name), name); err != nil {
			return err
		}
		ctxLine, bakeCtx := "", ""
		kind := kinds[i%len(kinds)]
		if i%10 == 9 {
			kind = "prev"
			ctxLine = fmt.Sprintf("  contexts  = { prev = target.%s }\n", names[i-1])
			bakeCtx = fmt.Sprintf("  contexts  = { prev = \"target:%s\" }\n", names[i-1])
		}
		df := fmt.Sprintf("  dockerfile = \"../../docker/%s.Dockerfile\"\n  target    = \"runtime\"\n", kind)
		ctxLine += df
		bakeCtx += df
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

// specHeader and bakeHeader open the two files Write makes; specHeader
// takes the platforms, quoted and joined.
const (
	specHeader = `variable "VERSION" {
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
`
	bakeHeader = `variable "VERSION" {
  default = "v1.0.0"
}
variable "REGISTRY" {
  default = "registry.example.com/team"
}
`
)

// writeContext makes a service's context directory: a main.go and a
// .dockerignore.
func writeContext(ctx, name string) error {
	if err := os.MkdirAll(ctx, 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"main.go":       fmt.Sprintf("package main\n\nfunc main() { println(%q) }\n", name),
		".dockerignore": "*.log\n",
	}
	for f, body := range files {
		if err := os.WriteFile(filepath.Join(ctx, f), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WritePlain creates dir/bakeplan.hcl and dir/docker-bake.hcl with n plain
// targets: each its own context directory, all built from one Dockerfile
// for the native platform, tagged and pushed, with no variables, matrix
// or named contexts: the shape of a monorepo of similar services.
func WritePlain(dir string, n int) error {
	df := "FROM alpine:3.20\nARG SERVICE\nCOPY . /srv/\nRUN echo $SERVICE > /srv/name\n"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		return err
	}
	var bp, bake strings.Builder
	bp.WriteString("registry \"team\" {\n  host = \"registry.example.com\"\n}\n")
	var refs, strs []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("svc%05d", i)
		ctx := filepath.Join(dir, "svc", name)
		if err := os.MkdirAll(ctx, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(ctx, "main.go"), []byte("package main\n\nfunc main() { println(\""+name+"\") }\n"), 0o644); err != nil {
			return err
		}
		for _, w := range []*strings.Builder{&bp, &bake} {
			fmt.Fprintf(w, "target %q {\n  context    = \"svc/%s\"\n  dockerfile = \"../../Dockerfile\"\n  args       = { SERVICE = %q }\n  tags       = [\"registry.example.com/team/%s:1\"]\n", name, name, name, name)
			if w == &bp {
				w.WriteString("  push       = true\n}\n")
			} else {
				w.WriteString("  output     = [\"type=registry\"]\n}\n")
			}
		}
		refs, strs = append(refs, "target."+name), append(strs, `"`+name+`"`)
	}
	fmt.Fprintf(&bp, "group \"default\" {\n  targets = [%s]\n}\n", strings.Join(refs, ", "))
	fmt.Fprintf(&bake, "group \"default\" {\n  targets = [%s]\n}\n", strings.Join(strs, ", "))
	if err := os.WriteFile(filepath.Join(dir, "bakeplan.hcl"), []byte(bp.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "docker-bake.hcl"), []byte(bake.String()), 0o644)
}
