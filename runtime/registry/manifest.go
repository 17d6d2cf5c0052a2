package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/containerd/containerd/v2/core/images"
	"github.com/distribution/reference"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// manifestTypes are the manifests a tag may point at.
var manifestTypes = strings.Join([]string{
	ocispec.MediaTypeImageIndex, ocispec.MediaTypeImageManifest,
	images.MediaTypeDockerSchema2ManifestList, images.MediaTypeDockerSchema2Manifest,
}, ", ")

// MaxManifest bounds a manifest read: the OCI distribution spec lets
// registries refuse larger ones.
const MaxManifest = 4 << 20

// ErrNoManifest is a manifest the registry does not have.
var ErrNoManifest = errors.New("no such manifest")

// Manifest GETs repository named's manifest ref (a tag or a digest): its
// bytes, whole, and the Content-Type the registry gave. A manifest the
// registry does not have is ErrNoManifest; another answer than 200 is an
// error naming it.
func (rs *Registries) Manifest(ctx context.Context, named reference.Named, ref string) (body []byte, contentType string, err error) {
	path := reference.Path(named)
	resp, err := rs.Do(ctx, reference.Domain(named), "repository:"+path+":pull", func(base string) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodGet, base+"/"+path+"/manifests/"+ref, nil)
		if err == nil {
			req.Header.Set("Accept", manifestTypes)
		}
		return req, err
	})
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, "", ErrNoManifest
	case resp.StatusCode != http.StatusOK:
		return nil, "", fmt.Errorf("the registry answered %s", Answer(resp))
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, MaxManifest+1))
	if err != nil {
		return nil, "", err
	}
	if len(body) > MaxManifest {
		return nil, "", fmt.Errorf("the manifest is over %d bytes", MaxManifest)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// Answer is a registry's answer for an error: its status and the start of
// its body.
func Answer(resp *http.Response) string {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if b := strings.TrimSpace(string(body)); b != "" {
		return resp.Status + ": " + b
	}
	return resp.Status
}
