package bakeimport

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/consts"
	"github.com/compose-spec/compose-go/v2/loader"
	composetypes "github.com/compose-spec/compose-go/v2/types"
	"github.com/hashicorp/hcl/v2"
	"go.yaml.in/yaml/v3"
)

// isCompose says whether a file is a compose file, by its name.
func isCompose(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".yml") || strings.HasSuffix(n, ".yaml")
}

// composeToHCL writes the build sections of a compose file as the bake
// HCL bake reads them as (buildx v0.38.2, bake/compose.go): a target per
// service that builds, named by the service (dots become underscores), and
// a default group of them all. compose-go loads the file, as bake does, so
// ${VAR:-default} is interpolated here, from env; origin maps each written
// block to its service's line.
func composeToHCL(ctx context.Context, f File, env map[string]string) ([]byte, map[int]hcl.Pos, hcl.Diagnostics) {
	fail := func(err error) ([]byte, map[int]hcl.Pos, hcl.Diagnostics) {
		return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid compose file", Detail: err.Error(),
			Subject: &hcl.Range{Filename: f.Name, Start: hcl.InitialPos, End: hcl.InitialPos}}}
	}
	project, err := loadCompose(ctx, f, env)
	if err != nil {
		return fail(err)
	}
	w := &hclWriter{data: f.Data, lines: lineIndex(f.Data), origin: map[int]hcl.Pos{}, line: 1}
	var names []string
	for _, name := range slices.Sorted(maps.Keys(project.Services)) {
		s := project.Services[name]
		if s.Build == nil {
			continue
		}
		target := strings.ReplaceAll(name, ".", "_")
		names = append(names, target)
		w.mark(serviceOffset(f.Data, name))
		body, err := composeTarget(s, project.Secrets)
		if err != nil {
			return fail(fmt.Errorf("service %s: %w", name, err))
		}
		w.printf("target %s {\n%s}\n", jsonString(target), body)
	}
	if len(names) == 0 {
		return fail(fmt.Errorf("no service has a build section, which is all bake reads of a compose file"))
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = jsonString(n)
	}
	w.printf("group \"default\" {\n  targets = [%s]\n}\n", strings.Join(quoted, ", "))
	return w.buf.Bytes(), w.origin, nil
}

// loadCompose loads the parts of a compose file bake reads (each service's
// image, build and environment; the secrets), as bake loads them.
func loadCompose(ctx context.Context, f File, env map[string]string) (_ *composetypes.Project, err error) {
	// compose-go panics on some malformed files (a build context of
	// null): that is the file's error, not a crash of bakeplan.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the compose file cannot be read: %v", r)
		}
	}()
	if env == nil {
		env = map[string]string{}
	}
	details := composetypes.ConfigDetails{
		ConfigFiles: []composetypes.ConfigFile{{Filename: f.Name, Content: f.Data}},
		Environment: env,
	}
	name := env[consts.ComposeProjectName]
	if name == "" {
		name = "bake"
	}
	raw, err := loader.LoadModelWithContext(ctx, details, func(o *loader.Options) {
		o.SetProjectName(name, false)
		o.SkipNormalization = true
		o.SkipValidation = true
		o.SkipConsistencyCheck = true
	})
	if err != nil {
		return nil, err
	}
	filtered := map[string]any{}
	if services, ok := raw["services"].(map[string]any); ok {
		kept := map[string]any{}
		for n, svc := range services {
			m, _ := svc.(map[string]any)
			k := map[string]any{}
			for _, field := range []string{"image", "build", "environment", "env_file"} {
				if v, ok := m[field]; ok {
					k[field] = v
				}
			}
			kept[n] = k
		}
		filtered["services"] = kept
	}
	if v, ok := raw["secrets"]; ok {
		filtered["secrets"] = v
	}
	if len(filtered) == 0 {
		return nil, fmt.Errorf("the compose file has no services")
	}
	return loader.ModelToProject(filtered, loader.ToOptions(&details, []func(*loader.Options){func(o *loader.Options) {
		o.SkipNormalization = true
		o.Profiles = []string{"*"}
	}}), details)
}

// composeTarget is a service's build section as a bake target's body.
func composeTarget(s composetypes.ServiceConfig, secrets composetypes.Secrets) (string, error) {
	b := s.Build
	var out strings.Builder
	attr := func(name, value string) { fmt.Fprintf(&out, "  %s = %s\n", name, value) }
	str := func(name, v string) {
		if v != "" {
			attr(name, quote(v))
		}
	}
	strs := func(name string, vs []string) {
		if len(vs) > 0 {
			q := make([]string, len(vs))
			for i, v := range vs {
				q[i] = quote(v)
			}
			attr(name, "["+strings.Join(q, ", ")+"]")
		}
	}
	strMap := func(name string, m map[string]string) {
		if len(m) > 0 {
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(m)) {
				parts = append(parts, quote(k)+" = "+quote(m[k]))
			}
			attr(name, "{\n    "+strings.Join(parts, "\n    ")+"\n  }")
		}
	}
	x, err := xBake(b.Extensions)
	if err != nil {
		return "", err
	}
	str("context", b.Context)
	str("dockerfile", b.Dockerfile)
	str("dockerfile-inline", b.DockerfileInline)
	str("target", b.Target)
	contexts := map[string]string{}
	for k, v := range b.AdditionalContexts {
		contexts[k] = namedContext(v)
	}
	for k, v := range x.Contexts {
		contexts[k] = namedContext(v)
	}
	strMap("contexts", contexts)
	args := map[string]string{}
	for k, v := range b.Args.Resolve(func(name string) (string, bool) {
		if v, ok := s.Environment[name]; ok && v != nil {
			return *v, true
		}
		return "", false
	}) {
		if v != nil { // bake drops an arg without a value
			args[k] = *v
		}
	}
	strMap("args", args)
	strMap("labels", b.Labels)
	// The image names the result only when neither the build section
	// nor x-bake gives tags, as in bake.
	tags := appendNew(slices.Clone([]string(b.Tags)), x.Tags...)
	if len(tags) == 0 && s.Image != "" {
		tags = []string{s.Image}
	}
	strs("tags", tags)
	strs("platforms", appendNew(slices.Clone([]string(b.Platforms)), x.Platforms...))
	strs("cache-from", appendNew(slices.Clone([]string(b.CacheFrom)), x.CacheFrom...))
	strs("cache-to", appendNew(slices.Clone([]string(b.CacheTo)), x.CacheTo...))
	str("network", b.Network)
	var ssh []string
	for _, k := range b.SSH {
		e := k.ID
		if k.Path != "" {
			e += "=" + k.Path
		}
		ssh = append(ssh, e)
	}
	slices.Sort(ssh)
	strs("ssh", appendNew(ssh, x.SSH...))
	var secret []string
	for _, ref := range b.Secrets {
		def := secrets[ref.Source]
		if def.External {
			return "", fmt.Errorf("secret %s is external, which bake does not read", ref.Source)
		}
		e := "id=" + ref.Source
		switch {
		case def.File != "":
			e += ",src=" + def.File
		case def.Environment != "":
			e += ",env=" + def.Environment
		}
		secret = append(secret, e)
	}
	strs("secret", appendNew(secret, x.Secrets...))
	if b.ShmSize > 0 {
		str("shm-size", strconv.FormatInt(int64(b.ShmSize), 10))
	}
	var ulimits []string
	for _, n := range slices.Sorted(maps.Keys(b.Ulimits)) {
		u := b.Ulimits[n]
		soft, hard := u.Soft, u.Hard
		if u.Single != 0 {
			soft, hard = u.Single, u.Single
		}
		ulimits = append(ulimits, fmt.Sprintf("%s=%d:%d", n, soft, hard))
	}
	strs("ulimits", ulimits)
	hosts := map[string]string{}
	for h, ips := range b.ExtraHosts {
		hosts[h] = strings.Join(ips, ",")
	}
	strMap("extra-hosts", hosts)
	var attest []string
	for _, a := range [][2]string{{"sbom", b.SBOM}, {"provenance", b.Provenance}} {
		switch v := a[1]; {
		case v == "":
		case v == "true" || v == "false" || v == "1" || v == "0":
			on, _ := strconv.ParseBool(v)
			attest = append(attest, fmt.Sprintf("type=%s,disabled=%t", a[0], !on))
		default:
			attest = append(attest, fmt.Sprintf("type=%s,%s", a[0], v))
		}
	}
	strs("attest", attest)
	strs("output", x.Outputs)
	strs("no-cache-filter", appendNew(slices.Clone([]string(b.NoCacheFilter)), x.NoCacheFilter...))
	noCache := b.NoCache
	if x.NoCache != nil {
		noCache = *x.NoCache
	}
	if noCache {
		attr("no-cache", "true")
	}
	pull := b.Pull
	if x.Pull != nil {
		pull = *x.Pull
	}
	if pull {
		attr("pull", "true")
	}
	return out.String(), nil
}

// namedContext is an additional context as bake reads it: service:NAME
// (or target:NAME) is the target built for that service.
func namedContext(v string) string {
	for _, p := range []string{"service:", "target:"} {
		if name, ok := strings.CutPrefix(v, p); ok {
			return "target:" + strings.ReplaceAll(name, ".", "_")
		}
	}
	return v
}

func appendNew(list []string, more ...string) []string {
	for _, m := range more {
		if !slices.Contains(list, m) {
			list = append(list, m)
		}
	}
	return list
}

// xbake is bake's x-bake extension of a compose build section.
type xbake struct {
	Tags          stringList        `yaml:"tags,omitempty"`
	CacheFrom     stringList        `yaml:"cache-from,omitempty"`
	CacheTo       stringList        `yaml:"cache-to,omitempty"`
	Secrets       stringList        `yaml:"secret,omitempty"`
	SSH           stringList        `yaml:"ssh,omitempty"`
	Platforms     stringList        `yaml:"platforms,omitempty"`
	Outputs       stringList        `yaml:"output,omitempty"`
	Pull          *bool             `yaml:"pull,omitempty"`
	NoCache       *bool             `yaml:"no-cache,omitempty"`
	NoCacheFilter stringList        `yaml:"no-cache-filter,omitempty"`
	Contexts      map[string]string `yaml:"contexts,omitempty"`
}

// stringList is a list, or one string of space-separated items, as bake
// reads x-bake's lists.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	var many []string
	if err := n.Decode(&many); err == nil {
		*l = many
		return nil
	}
	var one string
	if err := n.Decode(&one); err != nil {
		return err
	}
	*l = strings.Fields(one)
	return nil
}

func xBake(ext map[string]any) (xbake, error) {
	var x xbake
	v, ok := ext["x-bake"]
	if !ok || v == nil {
		return x, nil
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return x, err
	}
	if err := yaml.Unmarshal(b, &x); err != nil {
		return x, fmt.Errorf("x-bake: %w", err)
	}
	return x, nil
}

// serviceOffset is where a service's key is in the file, for warnings; the
// start of the file when it cannot be found.
func serviceOffset(data []byte, name string) int {
	re := regexp.MustCompile(`(?m)^[ \t]+["']?` + regexp.QuoteMeta(name) + `["']?[ \t]*:`)
	if loc := re.FindIndex(data); loc != nil {
		return loc[0]
	}
	return 0
}
