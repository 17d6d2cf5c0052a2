package bakeimport

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/interpolation"
	"github.com/docker/go-units"
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
// a default group of them all. The file is interpolated as compose does
// (compose-go's interpolation: ${VAR:-default}, $$), from env; origin maps
// each written block to its service's line.
//
// compose-go's loader would read the file as bake does, but it compiles a
// JSON schema when bakeplan starts (11 ms on every command), so the few
// fields bake reads are decoded here.
func composeToHCL(ctx context.Context, f File, env map[string]string) ([]byte, map[int]hcl.Pos, hcl.Diagnostics) {
	fail := func(err error) ([]byte, map[int]hcl.Pos, hcl.Diagnostics) {
		return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid compose file", Detail: err.Error(),
			Subject: &hcl.Range{Filename: f.Name, Start: hcl.InitialPos, End: hcl.InitialPos}}}
	}
	model, err := readCompose(f.Data, env)
	if err != nil {
		return fail(err)
	}
	services, err := mapping(model["services"], "services")
	if err != nil {
		return fail(err)
	}
	secrets, err := mapping(model["secrets"], "secrets")
	if err != nil {
		return fail(err)
	}
	w := &hclWriter{data: f.Data, lines: lineIndex(f.Data), origin: map[int]hcl.Pos{}, line: 1}
	var names []string
	for _, name := range slices.Sorted(maps.Keys(services)) {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		svc, err := mapping(services[name], "service "+name)
		if err != nil {
			return fail(err)
		}
		if svc["build"] == nil {
			continue
		}
		body, err := composeTarget(svc, secrets)
		if err != nil {
			return fail(fmt.Errorf("service %s: %w", name, err))
		}
		target := strings.ReplaceAll(name, ".", "_")
		names = append(names, target)
		w.mark(serviceOffset(f.Data, name))
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

// readCompose decodes a compose file and interpolates it from env.
func readCompose(data []byte, env map[string]string) (map[string]any, error) {
	var model map[string]any
	if err := yaml.Unmarshal(data, &model); err != nil {
		return nil, err
	}
	if model == nil {
		return nil, fmt.Errorf("the compose file is empty")
	}
	return interpolation.Interpolate(model, interpolation.Options{LookupValue: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
}

// composeTarget is a service's build section as a bake target's body, as
// bake maps it.
func composeTarget(svc, secrets map[string]any) (string, error) {
	b, err := buildSection(svc["build"])
	if err != nil {
		return "", err
	}
	x, err := xBake(b["x-bake"])
	if err != nil {
		return "", err
	}
	t := &targetWriter{}
	for _, write := range []func() error{
		func() error { return t.composeWhat(svc, b, x) },
		func() error { return t.composeLists(svc, b, x) },
		func() error { return t.composeSession(b, x, secrets) },
		func() error { return t.runOptions(b) },
		func() error { return t.composeAttest(b) },
	} {
		if err := write(); err != nil {
			return "", err
		}
	}
	t.strs("output", x.Outputs)
	noCacheFilter, _ := strings_(b["no_cache_filter"], "no_cache_filter") // checked by composeLists
	t.strs("no-cache-filter", appendNew(noCacheFilter, x.NoCacheFilter...))
	for _, k := range []string{"no_cache", "pull"} {
		on := b[k] == true
		if xv := map[string]*bool{"no_cache": x.NoCache, "pull": x.Pull}[k]; xv != nil {
			on = *xv
		}
		if on {
			t.attr(strings.ReplaceAll(k, "_", "-"), "true")
		}
	}
	return t.String(), nil
}

// composeWhat writes what a service builds: the context, Dockerfile and
// stage, named contexts, args (one named alone takes the service's
// environment) and labels.
func (t *targetWriter) composeWhat(svc, b map[string]any, x xbake) error {
	for _, k := range []string{"context", "dockerfile", "dockerfile_inline", "target"} {
		v, err := scalar(b[k], k)
		if err != nil {
			return err
		}
		t.str(strings.ReplaceAll(k, "_", "-"), v)
	}
	contexts, err := keyValues(b["additional_contexts"], "additional_contexts")
	if err != nil {
		return err
	}
	for k, v := range x.Contexts {
		contexts[k] = &v
	}
	t.strMap("contexts", contexts, namedContext)
	env, err := keyValues(svc["environment"], "environment")
	if err != nil {
		return err
	}
	args, err := keyValues(b["args"], "args")
	if err != nil {
		return err
	}
	for k, v := range args {
		if v == nil { // an arg named alone takes the service's environment
			args[k] = env[k]
		}
	}
	t.strMap("args", args, nil)
	labels, err := keyValues(b["labels"], "labels")
	if err != nil {
		return err
	}
	t.strMap("labels", labels, nil)
	return nil
}

// composeLists writes tags (the image names the result only when neither
// the build section nor x-bake gives tags, as in bake), platforms and
// caches.
func (t *targetWriter) composeLists(svc, b map[string]any, x xbake) error {
	var err error
	lists := map[string][]string{}
	for _, k := range []string{"tags", "platforms", "cache_from", "cache_to", "no_cache_filter"} {
		if lists[k], err = strings_(b[k], k); err != nil {
			return err
		}
	}
	// The image names the result only when neither the build section
	// nor x-bake gives tags, as in bake.
	tags := appendNew(lists["tags"], x.Tags...)
	if image, _ := scalar(svc["image"], "image"); len(tags) == 0 && image != "" {
		tags = []string{image}
	}
	t.strs("tags", tags)
	t.strs("platforms", appendNew(lists["platforms"], x.Platforms...))
	t.strs("cache-from", appendNew(lists["cache_from"], x.CacheFrom...))
	t.strs("cache-to", appendNew(lists["cache_to"], x.CacheTo...))
	return nil
}

// composeSession writes the network, SSH agents and secrets.
func (t *targetWriter) composeSession(b map[string]any, x xbake, secrets map[string]any) error {
	network, err := scalar(b["network"], "network")
	if err != nil {
		return err
	}
	t.str("network", network)
	ssh, err := composeSSH(b["ssh"])
	if err != nil {
		return err
	}
	t.strs("ssh", appendNew(ssh, x.SSH...))
	secret, err := composeSecrets(b["secrets"], secrets)
	if err != nil {
		return err
	}
	t.strs("secret", appendNew(secret, x.Secrets...))
	return nil
}

// composeAttest writes compose's sbom and provenance as attestations.
func (t *targetWriter) composeAttest(b map[string]any) error {
	var attest []string
	for _, kind := range []string{"sbom", "provenance"} {
		v, err := scalar(b[kind], kind)
		if err != nil {
			return err
		}
		switch on, err := strconv.ParseBool(v); {
		case v == "":
		case err == nil:
			attest = append(attest, fmt.Sprintf("type=%s,disabled=%t", kind, !on))
		default:
			attest = append(attest, fmt.Sprintf("type=%s,%s", kind, v))
		}
	}
	t.strs("attest", attest)
	return nil
}

// runOptions writes shm_size, ulimits and extra_hosts.
func (t *targetWriter) runOptions(b map[string]any) error {
	if v, err := scalar(b["shm_size"], "shm_size"); err != nil {
		return err
	} else if v != "" {
		n, err := units.RAMInBytes(v)
		if err != nil {
			return fmt.Errorf("shm_size: %w", err)
		}
		t.str("shm-size", strconv.FormatInt(n, 10))
	}
	ulimits, err := mapping(b["ulimits"], "ulimits")
	if err != nil {
		return err
	}
	var list []string
	for _, n := range slices.Sorted(maps.Keys(ulimits)) {
		soft, hard := ulimits[n], ulimits[n]
		if m, ok := ulimits[n].(map[string]any); ok {
			soft, hard = m["soft"], m["hard"]
		}
		list = append(list, fmt.Sprintf("%s=%v:%v", n, soft, hard))
	}
	t.strs("ulimits", list)
	hosts, err := extraHosts(b["extra_hosts"])
	if err != nil {
		return err
	}
	t.strMap("extra-hosts", hosts, nil)
	return nil
}

// buildSection is a service's build: a context path, or the section.
func buildSection(v any) (map[string]any, error) {
	if s, ok := v.(string); ok {
		return map[string]any{"context": s}, nil
	}
	return mapping(v, "build")
}

func composeSSH(v any) ([]string, error) {
	if m, ok := v.(map[string]any); ok {
		var out []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			p, err := scalar(m[k], "ssh")
			if err != nil {
				return nil, err
			}
			out = append(out, strings.TrimSuffix(k+"="+p, "="))
		}
		return out, nil
	}
	list, err := strings_(v, "ssh")
	slices.Sort(list)
	return list, err
}

// composeSecrets are a build's secrets, by the top-level definitions they
// name: a file (src) or an environment variable (env).
func composeSecrets(v any, defs map[string]any) ([]string, error) {
	refs, ok := v.([]any)
	if v != nil && !ok {
		return nil, fmt.Errorf("secrets is a list")
	}
	var out []string
	for _, r := range refs {
		source, _ := r.(string)
		if m, ok := r.(map[string]any); ok {
			source, _ = m["source"].(string)
		}
		if source == "" {
			return nil, fmt.Errorf("a secret names its source")
		}
		def, _ := defs[source].(map[string]any)
		if def["external"] == true {
			return nil, fmt.Errorf("secret %s is external, which bake does not read", source)
		}
		e := "id=" + source
		if file, _ := def["file"].(string); file != "" {
			e += ",src=" + file
		} else if env, _ := def["environment"].(string); env != "" {
			e += ",env=" + env
		}
		out = append(out, e)
	}
	return out, nil
}

// extraHosts reads host=ip (or host:ip) entries, or a map of host to one
// or several addresses.
func extraHosts(v any) (map[string]*string, error) {
	out := map[string]*string{}
	if m, ok := v.(map[string]any); ok {
		for h, ips := range m {
			list, err := strings_(ips, "extra_hosts")
			if err != nil {
				return nil, err
			}
			s := strings.Join(list, ",")
			out[h] = &s
		}
		return out, nil
	}
	list, err := strings_(v, "extra_hosts")
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		h, ip, ok := strings.Cut(e, "=")
		if !ok {
			h, ip, ok = strings.Cut(e, ":")
		}
		if !ok {
			return nil, fmt.Errorf("extra_hosts: %q is not host=ip", e)
		}
		out[h] = &ip
	}
	return out, nil
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

// targetWriter writes a bake target's attributes.
type targetWriter struct{ strings.Builder }

func (t *targetWriter) attr(name, value string) { fmt.Fprintf(t, "  %s = %s\n", name, value) }

func (t *targetWriter) str(name, v string) {
	if v != "" {
		t.attr(name, quote(v))
	}
}

func (t *targetWriter) strs(name string, vs []string) {
	if len(vs) > 0 {
		q := make([]string, len(vs))
		for i, v := range vs {
			q[i] = quote(v)
		}
		t.attr(name, "["+strings.Join(q, ", ")+"]")
	}
}

// strMap writes the entries with a value (bake drops the others), each
// through conv when given.
func (t *targetWriter) strMap(name string, m map[string]*string, conv func(string) string) {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] == nil {
			continue
		}
		v := *m[k]
		if conv != nil {
			v = conv(v)
		}
		parts = append(parts, quote(k)+" = "+quote(v))
	}
	if len(parts) > 0 {
		t.attr(name, "{\n    "+strings.Join(parts, "\n    ")+"\n  }")
	}
}

// mapping is v as a YAML mapping; nil is an empty one.
func mapping(v any, what string) (map[string]any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is a mapping, not %T", what, v)
	}
	return m, nil
}

// scalar is a string, number or bool value as a string; "" for nil.
func scalar(v any, what string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case int, int64, uint64, float64, bool:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("%s is a string, not %T", what, v)
}

// strings_ is a list of scalars (or one scalar) as strings.
func strings_(v any, what string) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		s, err := scalar(v, what)
		if err != nil || s == "" {
			return nil, err
		}
		return []string{s}, nil
	}
	var out []string
	for _, e := range list {
		s, err := scalar(e, what)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// keyValues reads a mapping, or a list of KEY=VALUE (KEY alone has no
// value), as compose writes args, labels and environment.
func keyValues(v any, what string) (map[string]*string, error) {
	out := map[string]*string{}
	if m, ok := v.(map[string]any); ok {
		for k, e := range m {
			if e == nil {
				out[k] = nil
				continue
			}
			s, err := scalar(e, what)
			if err != nil {
				return nil, err
			}
			out[k] = &s
		}
		return out, nil
	}
	list, err := strings_(v, what)
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		k, val, ok := strings.Cut(e, "=")
		if ok {
			out[k] = &val
		} else {
			out[k] = nil
		}
	}
	return out, nil
}

// xbake is bake's x-bake extension of a compose build section; its lists
// may be one space-separated string.
type xbake struct {
	Tags, CacheFrom, CacheTo, Secrets, SSH, Platforms, Outputs, NoCacheFilter []string
	Pull, NoCache                                                             *bool
	Contexts                                                                  map[string]string
}

func xBake(v any) (xbake, error) {
	var x xbake
	m, err := mapping(v, "x-bake")
	if err != nil {
		return x, err
	}
	for key, dst := range map[string]*[]string{"tags": &x.Tags, "cache-from": &x.CacheFrom, "cache-to": &x.CacheTo,
		"secret": &x.Secrets, "ssh": &x.SSH, "platforms": &x.Platforms, "output": &x.Outputs, "no-cache-filter": &x.NoCacheFilter} {
		if s, ok := m[key].(string); ok {
			*dst = strings.Fields(s)
		} else if *dst, err = strings_(m[key], "x-bake "+key); err != nil {
			return x, err
		}
	}
	for key, dst := range map[string]**bool{"pull": &x.Pull, "no-cache": &x.NoCache} {
		if b, ok := m[key].(bool); ok {
			*dst = &b
		}
	}
	contexts, err := mapping(m["contexts"], "x-bake contexts")
	if err != nil {
		return x, err
	}
	x.Contexts = map[string]string{}
	for k, v := range contexts {
		if x.Contexts[k], err = scalar(v, "x-bake contexts"); err != nil {
			return x, err
		}
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
