package host

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/bakeplan/bakeplan/runtime/registry"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// IndexProbeRepository is where ProbeIndex writes; the repository name says
// whose it is if anything is ever left there.
const IndexProbeRepository = "bakeplan-probe"

// ProbeIndex checks that a registry stores OCI image indexes, the format of
// every multi-platform image: it uploads an empty index by digest (no tag, no
// blobs) to the repository bakeplan-probe and deletes it again. Registries
// that do not allow deletes keep that untagged 100-byte manifest, which the
// result says; callers run this probe only when the user asked for it.
func ProbeIndex(ctx context.Context, regs *registry.Registries, host string) (left bool, err error) {
	idx := ocispecs.Index{MediaType: ocispecs.MediaTypeImageIndex, Manifests: []ocispecs.Descriptor{}}
	idx.SchemaVersion = 2
	body, err := json.Marshal(idx)
	if err != nil {
		return false, err
	}
	dgst := digest.FromBytes(body)
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	path := "/" + IndexProbeRepository + "/manifests/" + dgst.String()
	scope := "repository:" + IndexProbeRepository + ":pull,push,delete"
	resp, err := regs.Do(ctx, host, scope, func(base string) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPut, base+path, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", ocispecs.MediaTypeImageIndex)
		}
		return req, err
	})
	if err != nil {
		return false, fmt.Errorf("uploading a probe index: %w", err)
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return false, fmt.Errorf("the registry refused the index probe (%s): the Docker config's credentials for %s cannot push to %s", resp.Status, host, IndexProbeRepository)
	case resp.StatusCode != http.StatusCreated:
		return false, fmt.Errorf("the registry refused an OCI image index: %s; a multi-platform push would fail (CNCF Distribution stores indexes from 2.7.0; use 2.8.0 or later)", resp.Status)
	}
	resp, err = regs.Do(ctx, host, scope, func(base string) (*http.Request, error) {
		return http.NewRequest(http.MethodDelete, base+path, nil)
	})
	if err != nil {
		return true, fmt.Errorf("deleting the probe index: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		return true, nil
	}
	return false, nil
}
