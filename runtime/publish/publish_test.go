package publish_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bakeplan/bakeplan/internal/testenv"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/publish"
	"github.com/bakeplan/bakeplan/runtime/registry"
)

// TestSeveralTagsOfOneImage: one tagger writes two tags that point at the
// same manifest, one after the other, and both are written. containerd's
// pusher remembers pushes by digest and answered the second "already
// exists" without writing it.
func TestSeveralTagsOfOneImage(t *testing.T) {
	e := testenv.Get(t)
	ctx := context.Background()
	tagger := publish.New(registry.FromPlan(&plan.Plan{}))
	m, ok, err := tagger.Current(ctx, e.Base)
	if err != nil || !ok {
		t.Fatalf("reading %s: %v %v", e.Base, ok, err)
	}
	nonce := time.Now().UnixNano()
	for _, name := range []string{"y", "z"} {
		tag := fmt.Sprintf("%s/busybox:e2e-%s-%d", e.Registry, name, nonce)
		if err := tagger.Put(ctx, tag, m); err != nil {
			t.Fatal(err)
		}
		got, ok, err := tagger.Current(ctx, tag)
		if err != nil || !ok || got.Desc.Digest != m.Desc.Digest {
			t.Errorf("%s after Put: exists %v, %v, %v", tag, ok, got.Desc.Digest, err)
		}
	}
	if err := tagger.Delete(ctx, fmt.Sprintf("%s/busybox:e2e-y-%d", e.Registry, nonce)); err != nil {
		t.Errorf("deleting a tag: %v", err)
	}
	if _, ok, _ := tagger.Current(ctx, fmt.Sprintf("%s/busybox:e2e-y-%d", e.Registry, nonce)); ok {
		t.Errorf("the deleted tag still exists")
	}
	if _, ok, _ := tagger.Current(ctx, fmt.Sprintf("%s/busybox:e2e-z-%d", e.Registry, nonce)); !ok {
		t.Errorf("deleting one tag removed the other")
	}
}
