package dockerfile

import (
	"context"
	"fmt"
	"slices"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// Finding is one lint warning at a Dockerfile line.
type Finding struct {
	Rule   string
	Detail string
	URL    string
	Line   int
}

// Lint runs BuildKit's Dockerfile lint rules (what docker build --check
// runs) over every stage, without a daemon: base images are not resolved,
// so the rules that need an image's configuration see an empty one. The
// file's own "# check=skip=…" directive is honoured, as BuildKit does.
func Lint(ctx context.Context, name string, data []byte) (_ []Finding, err error) {
	sm := llb.NewSourceMap(nil, name, "Dockerfile", data)
	sm.Definition = &llb.Definition{} // AddSource reads it; nothing is solved
	// The converter asks the solver's capabilities (a read-write bind
	// mount does): say it has them all, as a current BuildKit does.
	caps := pb.Caps.CapSet(pb.Caps.All())
	// The converter is written for BuildKit's inputs; a Dockerfile it
	// was not tested with must not take the compiler down.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: the Dockerfile lint rules failed: %v", name, r)
		}
	}()
	res, err := dockerfile2llb.DockerfileLint(ctx, data, dockerfile2llb.ConvertOpt{MetaResolver: noImages{}, SourceMap: sm, LLBCaps: &caps})
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, w := range res.Warnings {
		f := Finding{Rule: w.RuleName, Detail: w.Detail, URL: w.URL}
		if w.Location != nil && len(w.Location.Ranges) > 0 && w.Location.Ranges[0].Start != nil {
			f.Line = int(w.Location.Ranges[0].Start.Line)
		}
		out = append(out, f)
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return a.Line - b.Line })
	return out, nil
}

// skipRules is what a "# check=skip=…" directive skips.
type skipRules struct {
	all   bool
	rules []string
}

// checkSkips reads the directive as BuildKit does; one that does not parse
// skips nothing.
func checkSkips(data []byte) skipRules {
	s, _, _, _ := parser.ParseDirective("check", data)
	cfg, err := linter.ParseLintOptions(s)
	if err != nil {
		return skipRules{}
	}
	return skipRules{all: cfg.SkipAll, rules: cfg.SkipRules}
}

// Skips says whether the file's "# check=skip=…" directive skips rule,
// for checks of bakeplan's own that follow the same directive.
func (f *File) Skips(rule string) bool {
	return f.skip.all || slices.Contains(f.skip.rules, rule)
}

// noImages answers every image lookup with an empty configuration, so lint
// runs offline and quickly.
type noImages struct{}

func (noImages) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, "", []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"config":{}}`), nil
}
