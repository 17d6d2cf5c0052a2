package plan

import (
	"fmt"
	"testing"
)

// BenchmarkEncode4000 writes a plan of 4,000 builds shaped like the
// benchmark spec's: the encoder runs once per plan and apply.
func BenchmarkEncode4000(b *testing.B) {
	p := &Plan{}
	for i := range 4000 {
		p.Steps = append(p.Steps, &Step{ID: fmt.Sprintf("build.svc%04d", i), Action: ActionBuild, Build: &Build{
			Target: fmt.Sprintf("svc%04d", i), Builder: "default", Context: fmt.Sprintf("svc/svc%04d", i),
			Dockerfile: "docker/go.Dockerfile", Stage: "runtime",
			Platforms: []PlatformRun{{Platform: "linux/amd64", Native: true}},
			Args:      map[string]string{"SERVICE": fmt.Sprint(i), "VERSION": "v1.0.0"},
			Labels:    map[string]string{"org.opencontainers.image.title": fmt.Sprint(i)},
			Tags:      []string{fmt.Sprintf("registry.example.com/team/svc%04d:v1.0.0", i)},
			Outputs:   []*Output{{Type: "registry"}}, Push: true,
			Inputs: []*Input{{Kind: "context", Digest: "sha256:0123"}, {Kind: "dockerfile", Path: "docker/go.Dockerfile", Digest: "sha256:4567"}},
		}})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(p); err != nil {
			b.Fatal(err)
		}
	}
}
