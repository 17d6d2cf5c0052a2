package host_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/bakeplan/bakeplan/internal/testenv"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/host"
	"github.com/bakeplan/bakeplan/runtime/registry"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestProbeIndexLeavesNothing runs the index probe against the real
// registry, whose deletes are enabled, and checks the probe index is gone.
func TestProbeIndexLeavesNothing(t *testing.T) {
	reg := testenv.Get(t).Registry
	regs := registry.FromPlan(&plan.Plan{})
	left, err := host.ProbeIndex(context.Background(), regs, reg)
	if err != nil || left {
		t.Fatalf("ProbeIndex: left=%t err=%v", left, err)
	}
	idx := ocispecs.Index{MediaType: ocispecs.MediaTypeImageIndex, Manifests: []ocispecs.Descriptor{}}
	idx.SchemaVersion = 2
	body, _ := json.Marshal(idx)
	req, _ := http.NewRequest(http.MethodGet, "http://"+reg+"/v2/"+host.IndexProbeRepository+"/manifests/"+digest.FromBytes(body).String(), nil)
	req.Header.Set("Accept", ocispecs.MediaTypeImageIndex)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("after the probe the index answers %s; it must be gone", resp.Status)
	}
}

func TestProbeIndexUnreachable(t *testing.T) {
	if _, err := host.ProbeIndex(context.Background(), registry.FromPlan(&plan.Plan{}), "127.0.0.1:1"); err == nil {
		t.Error("a registry that does not answer passed the index probe")
	}
}
