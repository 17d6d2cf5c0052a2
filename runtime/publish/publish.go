// Package publish writes tags in a registry for images that builds already
// pushed by digest. Writing a tag is one small manifest upload, so a run can
// build and push everything first and move tags only once every build
// succeeded.
package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Tagger writes tags.
type Tagger struct {
	resolver remotes.Resolver
}

// New returns a Tagger that reads credentials from the Docker config file and
// speaks plain HTTP to localhost and to the given hosts.
func New(insecureHosts map[string]bool) *Tagger {
	cfg := config.LoadDefaultConfigFile(io.Discard)
	auth := docker.NewDockerAuthorizer(docker.WithAuthCreds(func(host string) (string, string, error) {
		if host == "registry-1.docker.io" {
			host = "https://index.docker.io/v1/"
		}
		ac, err := cfg.GetAuthConfig(host)
		if err != nil {
			return "", "", err
		}
		if ac.IdentityToken != "" {
			return "", ac.IdentityToken, nil
		}
		return ac.Username, ac.Password, nil
	}))
	hosts := docker.ConfigureDefaultRegistries(
		docker.WithAuthorizer(auth),
		docker.WithPlainHTTP(func(host string) (bool, error) {
			if insecureHosts[host] {
				return true, nil
			}
			return docker.MatchLocalhost(host)
		}),
	)
	return &Tagger{resolver: docker.NewResolver(docker.ResolverOptions{Hosts: hosts})}
}

// Source is one pushed image and the platforms it holds.
type Source struct {
	Digest    string
	Platforms []string
}

// Tag points tag at a pushed image in the tag's repository. With several
// sources (a target split across builder nodes) it writes one index holding
// the manifests of all of them.
func (t *Tagger) Tag(ctx context.Context, tag string, sources []Source) (string, error) {
	named, err := reference.ParseNormalizedNamed(tag)
	if err != nil {
		return "", fmt.Errorf("tag %s: %w", tag, err)
	}
	repo := named.Name()
	var desc ocispecs.Descriptor
	var body []byte
	if len(sources) == 1 {
		desc, body, err = t.fetch(ctx, repo, sources[0].Digest)
		if err != nil {
			return "", err
		}
	} else {
		desc, body, err = t.merge(ctx, repo, sources)
		if err != nil {
			return "", err
		}
	}
	pusher, err := t.resolver.Pusher(ctx, tag)
	if err != nil {
		return "", fmt.Errorf("tag %s: %w", tag, err)
	}
	w, err := pusher.Push(ctx, desc)
	if errdefs.IsAlreadyExists(err) {
		return desc.Digest.String(), nil
	}
	if err != nil {
		return "", fmt.Errorf("tag %s: %w", tag, err)
	}
	defer w.Close()
	if _, err := w.Write(body); err != nil {
		return "", fmt.Errorf("tag %s: %w", tag, err)
	}
	if err := w.Commit(ctx, desc.Size, desc.Digest); err != nil && !errdefs.IsAlreadyExists(err) {
		return "", fmt.Errorf("tag %s: %w", tag, err)
	}
	return desc.Digest.String(), nil
}

// fetch reads the manifest or index repo@dgst.
func (t *Tagger) fetch(ctx context.Context, repo, dgst string) (ocispecs.Descriptor, []byte, error) {
	ref := repo + "@" + dgst
	_, desc, err := t.resolver.Resolve(ctx, ref)
	if err != nil {
		return desc, nil, fmt.Errorf("resolving %s: %w", ref, err)
	}
	f, err := t.resolver.Fetcher(ctx, ref)
	if err != nil {
		return desc, nil, fmt.Errorf("fetching %s: %w", ref, err)
	}
	rc, err := f.Fetch(ctx, desc)
	if err != nil {
		return desc, nil, fmt.Errorf("fetching %s: %w", ref, err)
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, 4<<20))
	if err != nil {
		return desc, nil, fmt.Errorf("fetching %s: %w", ref, err)
	}
	if digest.FromBytes(body) != desc.Digest {
		return desc, nil, fmt.Errorf("fetching %s: content does not match its digest", ref)
	}
	return desc, body, nil
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
		switch desc.MediaType {
		case ocispecs.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
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
