// Package publish writes tags in a registry for images that builds already
// pushed by digest. Writing a tag is one small manifest upload, so a run can
// build and push everything first and move tags only once every build
// succeeded.
package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"sort"

	"github.com/bakeplan/bakeplan/runtime/registry"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/util/contentutil"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Tagger writes tags.
type Tagger struct {
	resolver remotes.Resolver
	regs     *registry.Registries
}

// New returns a Tagger that reaches registries as regs says: scheme,
// certificates and the Docker config's credentials.
func New(regs *registry.Registries) *Tagger {
	return &Tagger{resolver: docker.NewResolver(docker.ResolverOptions{Hosts: regs.Hosts()}), regs: regs}
}

// Source is one pushed image and the platforms it holds.
type Source struct {
	Digest    string
	Platforms []string
	// From is the repository that holds Digest, when it may not be the
	// tag's: Prepare copies the image into the tag's repository first.
	From string
}

// Manifest is a manifest or index and its bytes, ready to be put under a
// tag.
type Manifest struct {
	Desc ocispecs.Descriptor
	Body []byte
}

// Prepare reads (or, for several sources, builds) what tag will point at,
// without moving any tag: one image as it is, several (a target split
// across builder nodes) joined in one index. An image held in another
// repository is first copied into the tag's by digest, which no tag sees.
func (t *Tagger) Prepare(ctx context.Context, tag string, sources []Source) (Manifest, error) {
	named, err := reference.ParseNormalizedNamed(tag)
	if err != nil {
		return Manifest{}, fmt.Errorf("tag %s: %w", tag, err)
	}
	repo := named.Name()
	var m Manifest
	if len(sources) == 1 && sources[0].From != "" && sources[0].From != repo {
		if err := t.copy(ctx, sources[0].From, repo, sources[0].Digest); err != nil {
			return m, fmt.Errorf("tag %s: %w", tag, err)
		}
	}
	if len(sources) == 1 {
		m.Desc, m.Body, err = t.fetch(ctx, repo, sources[0].Digest)
	} else {
		m.Desc, m.Body, err = t.merge(ctx, repo, sources)
	}
	return m, err
}

// ErrNoAnswer marks a write the registry gave no answer to: it may have
// landed, or may still land.
var ErrNoAnswer = errors.New("no answer from the registry")

// Put points tag at m, whose content the repository already holds: one
// PUT of the manifest's bytes under the tag (retried on 429 and 5xx as the
// registry client does). A write that got no answer is ErrNoAnswer.
func (t *Tagger) Put(ctx context.Context, tag string, m Manifest) error {
	named, ref, err := splitTag(tag)
	if err != nil {
		return err
	}
	path := reference.Path(named)
	resp, err := t.regs.Do(ctx, reference.Domain(named), "repository:"+path+":pull,push", func(base string) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPut, base+"/"+path+"/manifests/"+ref, bytes.NewReader(m.Body))
		if err == nil {
			req.Header.Set("Content-Type", m.Desc.MediaType)
		}
		return req, err
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("writing %s: %w (interrupted: %v)", tag, ErrNoAnswer, err)
		}
		return fmt.Errorf("writing %s: %w: %v", tag, ErrNoAnswer, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("writing %s: the registry answered %s", tag, registry.Answer(resp))
	}
	return nil
}

// Current reads what tag points at now, with its bytes; ok is false when
// the tag does not exist. The digest is that of the bytes read, never a
// header's word.
func (t *Tagger) Current(ctx context.Context, tag string) (m Manifest, ok bool, err error) {
	named, ref, err := splitTag(tag)
	if err != nil {
		return Manifest{}, false, err
	}
	body, mediaType, err := t.regs.Manifest(ctx, named, ref)
	switch {
	case errors.Is(err, registry.ErrNoManifest):
		return Manifest{}, false, nil
	case err != nil:
		return Manifest{}, false, fmt.Errorf("reading %s: %w", tag, err)
	}
	var fields struct {
		MediaType string `json:"mediaType"`
	}
	if json.Unmarshal(body, &fields) == nil && fields.MediaType != "" {
		mediaType = fields.MediaType
	}
	return Manifest{Desc: ocispecs.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(body), Size: int64(len(body))}, Body: body}, true, nil
}

// splitTag parses tag, which must name a tag.
func splitTag(tag string) (reference.Named, string, error) {
	named, err := reference.ParseNormalizedNamed(tag)
	if err != nil {
		return nil, "", fmt.Errorf("tag %s: %w", tag, err)
	}
	tagged, ok := named.(reference.Tagged)
	if !ok {
		return nil, "", fmt.Errorf("%s has no tag", tag)
	}
	return named, tagged.Tag(), nil
}

// Delete removes tag, not the manifest it points at, which other tags may
// share: DELETE /v2/NAME/manifests/TAG, as the OCI distribution spec allows
// and Distribution v3 implements. A registry that refuses says so in the
// error.
func (t *Tagger) Delete(ctx context.Context, tag string) error {
	named, ref, err := splitTag(tag)
	if err != nil {
		return err
	}
	path := reference.Path(named)
	resp, err := t.regs.Do(ctx, reference.Domain(named), "repository:"+path+":delete", func(base string) (*http.Request, error) {
		return http.NewRequest(http.MethodDelete, base+"/"+path+"/manifests/"+ref, nil)
	})
	if err != nil {
		return fmt.Errorf("deleting %s: %w", tag, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusAccepted, http.StatusOK, http.StatusNotFound:
		return nil
	}
	return fmt.Errorf("deleting %s: the registry answered %s", tag, registry.Answer(resp))
}

// copy puts from@dgst, with everything it refers to, into repository to
// under the same digest: containerd's pusher mounts each blob from the
// source repository where the registry allows it (one request, no data)
// and uploads it from the source otherwise, then pushes the manifests.
func (t *Tagger) copy(ctx context.Context, from, to, dgst string) error {
	src := from + "@" + dgst
	_, desc, err := t.resolver.Resolve(ctx, src)
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	fetcher, err := t.resolver.Fetcher(ctx, src)
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	pusher, err := t.resolver.Pusher(ctx, to+"@"+dgst)
	if err != nil {
		return fmt.Errorf("copying %s to %s: %w", src, to, err)
	}
	fromNamed, err := reference.ParseNormalizedNamed(from)
	if err != nil {
		return err
	}
	toNamed, err := reference.ParseNormalizedNamed(to)
	if err != nil {
		return err
	}
	mountFrom := func(h images.Handler) images.Handler { return h }
	if reference.Domain(fromNamed) == reference.Domain(toNamed) {
		// The annotation containerd's pusher reads to mount a blob.
		key := "containerd.io/distribution.source." + reference.Domain(fromNamed)
		mountFrom = func(h images.Handler) images.Handler {
			return images.HandlerFunc(func(ctx context.Context, d ocispecs.Descriptor) ([]ocispecs.Descriptor, error) {
				children, err := h.Handle(ctx, d)
				for i := range children {
					children[i].Annotations = maps.Clone(children[i].Annotations)
					if children[i].Annotations == nil {
						children[i].Annotations = map[string]string{}
					}
					children[i].Annotations[key] = reference.Path(fromNamed)
				}
				return children, err
			})
		}
	}
	if err := remotes.PushContent(ctx, pusher, desc, contentutil.FromFetcher(fetcher), nil, platforms.All, mountFrom); err != nil {
		return fmt.Errorf("copying %s to %s: %w", src, to, err)
	}
	return nil
}

// fetch reads the manifest or index repo@dgst.
func (t *Tagger) fetch(ctx context.Context, repo, dgst string) (ocispecs.Descriptor, []byte, error) {
	ref := repo + "@" + dgst
	_, desc, err := t.resolver.Resolve(ctx, ref)
	if err != nil {
		return desc, nil, fmt.Errorf("resolving %s: %w", ref, err)
	}
	body, err := t.read(ctx, ref, desc)
	return desc, body, err
}

// read fetches the bytes of desc, resolved from ref, and checks them.
func (t *Tagger) read(ctx context.Context, ref string, desc ocispecs.Descriptor) ([]byte, error) {
	f, err := t.resolver.Fetcher(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", ref, err)
	}
	rc, err := f.Fetch(ctx, desc)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", ref, err)
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", ref, err)
	}
	if digest.FromBytes(body) != desc.Digest {
		return nil, fmt.Errorf("fetching %s: content does not match its digest", ref)
	}
	return body, nil
}

// merge builds one index from the images several nodes pushed.
func (t *Tagger) merge(ctx context.Context, repo string, sources []Source) (ocispecs.Descriptor, []byte, error) {
	idx := ocispecs.Index{MediaType: ocispecs.MediaTypeImageIndex}
	idx.SchemaVersion = 2
	for _, src := range sources {
		d := src.Digest
		desc, body, err := t.fetch(ctx, repo, d)
		if err != nil {
			return desc, nil, err
		}
		switch {
		case images.IsIndexType(desc.MediaType):
			var sub ocispecs.Index
			if err := json.Unmarshal(body, &sub); err != nil {
				return desc, nil, fmt.Errorf("reading %s@%s: %w", repo, d, err)
			}
			idx.Manifests = append(idx.Manifests, sub.Manifests...)
		default:
			// A single-platform build pushes a bare manifest; the plan
			// knows its platform.
			md := ocispecs.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
			if len(src.Platforms) == 1 {
				p, err := platforms.Parse(src.Platforms[0])
				if err != nil {
					return desc, nil, err
				}
				md.Platform = &p
			}
			idx.Manifests = append(idx.Manifests, md)
		}
	}
	if len(idx.Manifests) == 0 {
		return ocispecs.Descriptor{}, nil, errors.New("nothing to publish")
	}
	// Platform order, whatever order the nodes finished in.
	sort.SliceStable(idx.Manifests, func(i, j int) bool {
		return platformKey(idx.Manifests[i]) < platformKey(idx.Manifests[j])
	})
	body, err := json.Marshal(idx)
	if err != nil {
		return ocispecs.Descriptor{}, nil, err
	}
	return ocispecs.Descriptor{MediaType: idx.MediaType, Digest: digest.FromBytes(body), Size: int64(len(body))}, body, nil
}

func platformKey(d ocispecs.Descriptor) string {
	if d.Platform == nil {
		return "~" // attestations and the like go last
	}
	return platforms.Format(*d.Platform)
}
