package compiler

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/spec"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/zclconf/go-cty/cty"
)

// emulatorInterpreters maps an architecture, as platforms name it, to the
// binfmt_misc entry that QEMU's user-mode emulator registers for it.
var emulatorInterpreters = map[string]string{
	"amd64":    "qemu-x86_64",
	"386":      "qemu-i386",
	"arm64":    "qemu-aarch64",
	"arm":      "qemu-arm",
	"riscv64":  "qemu-riscv64",
	"ppc64le":  "qemu-ppc64le",
	"s390x":    "qemu-s390x",
	"mips64le": "qemu-mips64el",
	"mips64":   "qemu-mips64",
	"mips":     "qemu-mips",
	"mipsle":   "qemu-mipsel",
	"ppc64":    "qemu-ppc64",
	"sparc64":  "qemu-sparc64",
	"loong64":  "qemu-loongarch64",
}

// EmulatorEntry names the binfmt_misc entry that emulates arch, as plans
// record it in host.emulator steps.
func EmulatorEntry(arch string) (string, bool) {
	e, ok := emulatorInterpreters[arch]
	return e, ok
}

// Image store values.
const (
	storeContainerd = "containerd"
	storeAny        = "any"
)

type hostDecl struct {
	imageStore      string // "containerd" or "any"
	imageStoreRange *hcl.Range
	daemonConfig    string
	restartCommand  []string
	emulators       map[string]hcl.Range // arch -> where it is declared
	declRange       *hcl.Range
}

type builderDecl struct {
	name     string
	endpoint string // "" for a pool
	// nodes are a pool's endpoints, in the spec's order; maxSolves bounds
	// each node's concurrent solves (0: no bound).
	nodes     []string
	maxSolves int
	local     bool
	platforms []string // native, normalised, sorted
	declRange *hcl.Range
	native    []platforms.MatchComparer // built on first use from platforms
	tls       *plan.BuilderTLS
}

type registryDecl struct {
	name      string
	host      string
	insecure  bool
	tls       *plan.BuilderTLS
	declRange hcl.Range
}

// localSchemes are endpoints on this host, which can use its emulators.
var endpointSchemes = map[string]bool{ // scheme -> local
	"unix":             true,
	"docker-container": true,
	"tcp":              false,
	"ssh":              false,
	"kube-pod":         false,
}

func (c *compilation) evalHost() hcl.Diagnostics {
	var diags hcl.Diagnostics
	ctx := c.evalCtx(nil)
	c.host = &hostDecl{imageStore: storeAny, emulators: map[string]hcl.Range{}}
	if h := c.spec.Host; h != nil {
		c.host.declRange = h.DeclRange.Ptr()
		diags = append(diags, c.evalDocker(h, ctx)...)
		diags = append(diags, c.evalEmulators(h, ctx)...)
	}
	for _, b := range c.spec.Builders {
		bd, d := c.evalBuilder(b, ctx)
		diags = append(diags, d...)
		c.builders = append(c.builders, bd)
	}
	if len(c.builders) == 0 {
		// The implicit builder: BUILDKIT_HOST, else Docker, on this machine.
		c.builders = []*builderDecl{{name: "default", endpoint: "auto", local: true, platforms: []string{c.native}}}
	}
	return append(diags, c.evalRegistries(ctx)...)
}

// evalDocker reads the host's docker block: the image store, and how to
// switch it (daemon.json, the restart command).
func (c *compilation) evalDocker(h *spec.Host, ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if h.Docker != nil && h.Docker.ImageStore != nil {
		var store string
		d := decodeExpr(h.Docker.ImageStore, ctx, "image_store", &store)
		diags = append(diags, d...)
		if !d.HasErrors() {
			if store != storeContainerd && store != storeAny {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid image store",
					Detail:   fmt.Sprintf("image_store is %q or %q, not %q.", storeContainerd, storeAny, store),
					Subject:  h.Docker.ImageStore.Range().Ptr(),
				})
			} else {
				c.host.imageStore = store
				c.host.imageStoreRange = h.Docker.ImageStore.Range().Ptr()
			}
		}
	}
	if h.Docker != nil && h.Docker.DaemonConfig != nil {
		diags = append(diags, decodeExpr(h.Docker.DaemonConfig, ctx, "daemon_config", &c.host.daemonConfig)...)
	}
	if h.Docker != nil && h.Docker.RestartCommand != nil {
		d := decodeExpr(h.Docker.RestartCommand, ctx, "restart_command", &c.host.restartCommand)
		diags = append(diags, d...)
		if !d.HasErrors() && len(c.host.restartCommand) == 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Empty restart command",
				Detail:   "restart_command is a command and its arguments, like [\"systemctl\", \"restart\", \"docker\"].",
				Subject:  h.Docker.RestartCommand.Range().Ptr(),
			})
		}
	}
	return diags
}

// evalEmulators reads the emulators the host must have, each known and
// listed once.
func (c *compilation) evalEmulators(h *spec.Host, ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if h.Emulators != nil {
		var archs []string
		d := decodeExpr(h.Emulators, ctx, "emulators", &archs)
		diags = append(diags, d...)
		for i, a := range archs {
			rng := elementRange(h.Emulators, i)
			if _, ok := emulatorInterpreters[a]; !ok {
				detail := fmt.Sprintf("%q is not an architecture bakeplan can emulate; known: %s.", a, strings.Join(knownArchs(), ", "))
				if s := suggest(a, knownArchs()); s != "" {
					detail += fmt.Sprintf(" Did you mean %q?", s)
				}
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unknown emulator", Detail: detail, Subject: rng.Ptr()})
				continue
			}
			if prev, dup := c.host.emulators[a]; dup {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Duplicate emulator",
					Detail:   fmt.Sprintf("%q is already listed at %s.", a, prev),
					Subject:  rng.Ptr(),
				})
				continue
			}
			c.host.emulators[a] = rng
		}
	}
	return diags
}

// evalBuilder reads a builder block: its endpoint, TLS and platforms (a
// remote builder must declare them).
func (c *compilation) evalBuilder(b *spec.Builder, ctx *hcl.EvalContext) (*builderDecl, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	bd := &builderDecl{name: b.Name, endpoint: "auto", local: true, declRange: b.DeclRange.Ptr()}
	if b.Endpoint != nil {
		var ep string
		d := decodeExpr(b.Endpoint, ctx, "endpoint", &ep)
		diags = append(diags, d...)
		if !d.HasErrors() {
			local, err := classifyEndpoint(ep)
			if err != nil {
				diags = append(diags, &hcl.Diagnostic{
					Severity: hcl.DiagError,
					Summary:  "Invalid builder endpoint",
					Detail:   err.Error(),
					Subject:  b.Endpoint.Range().Ptr(),
				})
			}
			bd.endpoint, bd.local = ep, local
		}
	}
	if b.Nodes != nil {
		diags = append(diags, c.evalNodes(b, bd, ctx)...)
	}
	if b.MaxSolves != nil {
		diags = append(diags, decodeExpr(b.MaxSolves, ctx, "max_solves", &bd.maxSolves)...)
		if bd.maxSolves < 0 {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid max_solves",
				Detail:   fmt.Sprintf("max_solves is how many builds a node runs at once: 1 or more (or leave it out for no bound), not %d.", bd.maxSolves),
				Subject:  b.MaxSolves.Range().Ptr(),
			})
		}
	}
	if b.TLS != nil {
		eps := bd.nodes
		if len(eps) == 0 {
			eps = []string{bd.endpoint}
		}
		for _, ep := range eps {
			t, d := c.evalTLS(b, ep)
			diags = append(diags, d...)
			bd.tls = t
			if d.HasErrors() {
				break
			}
		}
	}
	if b.Platforms != nil {
		ps, d := c.evalPlatforms(b.Platforms, ctx)
		diags = append(diags, d...)
		bd.platforms = ps
	} else if !bd.local {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Remote builder without platforms",
			Detail:   fmt.Sprintf("builder.%s is reached over %s, so bakeplan cannot assume what it runs on. Declare the platforms it serves natively, like platforms = [\"linux/arm64\"].", b.Name, bd.reach()),
			Subject:  b.DeclRange.Ptr(),
		})
	} else {
		bd.platforms = []string{c.native}
	}
	return bd, diags
}

// evalNodes reads a pool's nodes: BuildKit daemons serving the same
// platforms, each named once, instead of one endpoint. The pool is local
// only when every node is.
func (c *compilation) evalNodes(b *spec.Builder, bd *builderDecl, ctx *hcl.EvalContext) hcl.Diagnostics {
	bad := func(summary, detail string) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: b.Nodes.Range().Ptr()}}
	}
	if b.Endpoint != nil {
		return bad("Both endpoint and nodes", fmt.Sprintf("builder.%s sets endpoint and nodes; endpoint is one node, nodes a pool of them: set one.", b.Name))
	}
	var nodes []string
	if d := decodeExpr(b.Nodes, ctx, "nodes", &nodes); d.HasErrors() {
		return d
	}
	if len(nodes) == 0 {
		return bad("Empty pool", fmt.Sprintf("builder.%s lists no nodes; list at least one endpoint, or leave nodes out for the default builder.", b.Name))
	}
	seen := map[string]bool{}
	local := true
	for _, ep := range nodes {
		if ep == "auto" || ep == "docker" {
			return bad("Invalid pool node", fmt.Sprintf("%q cannot be a pool's node: a pool is BuildKit daemons named by address (unix://, tcp://, ssh://, docker-container://, kube-pod://).", ep))
		}
		l, err := classifyEndpoint(ep)
		if err != nil {
			return bad("Invalid pool node", err.Error())
		}
		if seen[ep] {
			return bad("Duplicate pool node", fmt.Sprintf("builder.%s lists %s twice.", b.Name, ep))
		}
		seen[ep] = true
		local = local && l
	}
	bd.endpoint, bd.nodes, bd.local = "", nodes, local
	return nil
}

// reach says how a builder is reached, for messages.
func (bd *builderDecl) reach() string {
	if len(bd.nodes) > 0 {
		return "its nodes " + strings.Join(bd.nodes, ", ")
	}
	return bd.endpoint
}

// evalRegistries reads the registry blocks: each host valid and declared
// once, with its TLS settings.
func (c *compilation) evalRegistries(ctx *hcl.EvalContext) hcl.Diagnostics {
	var diags hcl.Diagnostics
	hosts := map[string]string{}
	for _, r := range c.spec.Registries {
		rd := &registryDecl{name: r.Name, declRange: r.DeclRange}
		d := decodeExpr(r.Host, ctx, "host", &rd.host)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if err := checkRegistryHost(rd.host); err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid registry host",
				Detail:   err.Error(),
				Subject:  r.Host.Range().Ptr(),
			})
			continue
		}
		if other, dup := hosts[rd.host]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Duplicate registry host",
				Detail:   fmt.Sprintf("registry.%s already declares %s.", other, rd.host),
				Subject:  r.Host.Range().Ptr(),
			})
			continue
		}
		hosts[rd.host] = r.Name
		if r.Insecure != nil {
			diags = append(diags, decodeExpr(r.Insecure, ctx, "insecure", &rd.insecure)...)
		}
		diags = append(diags, c.registryTLS(r, rd)...)
		c.registries = append(c.registries, rd)
	}
	return diags
}

// decodeExpr is gohcl.DecodeExpression for settings the plan records as
// they are: a value from a sensitive variable is refused rather than
// decoded (which cty does not allow).
func decodeExpr(expr hcl.Expression, ctx *hcl.EvalContext, what string, dst any) hcl.Diagnostics {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return diags
	}
	if v.ContainsMarked() {
		return append(diags, sensitiveHere(what, expr.Range()))
	}
	return gohcl.DecodeExpression(expr, ctx, dst)
}

// sensitiveHere is the error for a sensitive value where the plan has to
// show the value itself.
func sensitiveHere(what string, rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Sensitive value not allowed here",
		Detail:   fmt.Sprintf("%s takes its value from a sensitive variable; only args, labels and annotations may, and the plan shows them as %s.", what, plan.Redacted),
		Subject:  rng.Ptr(),
	}
}

// evalTLS reads a builder's tls block. Paths are kept as written (a leading
// ~ is the home directory when bakeplan connects): certificates usually live
// outside the repository.
func (c *compilation) evalTLS(b *spec.Builder, ep string) (*plan.BuilderTLS, hcl.Diagnostics) {
	t, diags := c.decodeTLS(b.TLS.CACert, b.TLS.Cert, b.TLS.Key, b.TLS.ServerName, b.TLS.DeclRange)
	if !strings.HasPrefix(ep, "tcp://") {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "TLS needs a tcp:// endpoint",
			Detail:   fmt.Sprintf("builder.%s is reached over %s; a tls block applies to tcp:// endpoints only.", b.Name, ep),
			Subject:  b.TLS.DeclRange.Ptr(),
		})
	}
	return t, diags
}

// registryTLS reads a registry's ca_cert, cert and key, kept as written
// like a builder's.
func (c *compilation) registryTLS(r *spec.Registry, rd *registryDecl) hcl.Diagnostics {
	if r.CACert == nil && r.Cert == nil && r.Key == nil {
		return nil
	}
	t, diags := c.decodeTLS(r.CACert, r.Cert, r.Key, nil, r.DeclRange)
	if rd.insecure {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Certificates for a plain HTTP registry",
			Detail:   fmt.Sprintf("registry.%s is insecure (plain HTTP), so ca_cert, cert and key would never be used. Drop insecure to speak TLS.", r.Name),
			Subject:  r.DeclRange.Ptr(),
		})
	}
	rd.tls = t
	return diags
}

// decodeTLS reads certificate paths (any expression may be nil) and checks
// that a client certificate comes with its key.
func (c *compilation) decodeTLS(ca, cert, key, serverName hcl.Expression, rng hcl.Range) (*plan.BuilderTLS, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	ctx := c.evalCtx(nil)
	t := &plan.BuilderTLS{}
	for _, f := range []struct {
		name string
		expr hcl.Expression
		dst  *string
	}{{"ca_cert", ca, &t.CACert}, {"cert", cert, &t.Cert}, {"key", key, &t.Key}, {"server_name", serverName, &t.ServerName}} {
		if f.expr != nil {
			diags = append(diags, decodeExpr(f.expr, ctx, f.name, f.dst)...)
		}
	}
	if (t.Cert == "") != (t.Key == "") {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Incomplete client certificate",
			Detail:   "Give cert and key together, or neither.",
			Subject:  rng.Ptr(),
		})
	}
	return t, diags
}

// classifyEndpoint checks an endpoint and says whether it runs on this host.
func classifyEndpoint(ep string) (local bool, err error) {
	switch ep {
	case "auto", "docker":
		return true, nil
	}
	scheme, rest, ok := strings.Cut(ep, "://")
	if !ok || rest == "" {
		return true, fmt.Errorf("%q is not an endpoint; use auto, docker, or one of unix://PATH, tcp://HOST:PORT, ssh://USER@HOST, docker-container://NAME, kube-pod://NAME", ep)
	}
	local, known := endpointSchemes[scheme]
	if !known {
		var schemes []string
		for s := range endpointSchemes {
			schemes = append(schemes, s+"://")
		}
		sort.Strings(schemes)
		return true, fmt.Errorf("unknown endpoint scheme %q; bakeplan knows docker, auto and %s", scheme+"://", strings.Join(schemes, ", "))
	}
	return local, nil
}

func checkRegistryHost(host string) error {
	if host == "" || strings.ContainsAny(host, "/ ") {
		return fmt.Errorf("%q is not a registry host; write host or host:port, like registry.example.com or 127.0.0.1:5000", host)
	}
	named, err := reference.ParseNormalizedNamed(host + "/probe")
	if err != nil || reference.Domain(named) != host {
		return fmt.Errorf("%q is not a registry host; write host or host:port, like registry.example.com or 127.0.0.1:5000", host)
	}
	return nil
}

func knownArchs() []string {
	out := make([]string, 0, len(emulatorInterpreters))
	for a := range emulatorInterpreters {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// elementRange returns the range of the i-th element of a list expression
// written as a literal, or of the whole expression otherwise.
func elementRange(expr hcl.Expression, i int) hcl.Range {
	if exprs, d := hcl.ExprList(expr); !d.HasErrors() && i < len(exprs) {
		return exprs[i].Range()
	}
	return expr.Range()
}

// evalPlatforms evaluates a list of platforms, checks each with containerd's
// parser and returns them normalised, sorted and without duplicates.
func (c *compilation) evalPlatforms(expr hcl.Expression, ctx *hcl.EvalContext) ([]string, hcl.Diagnostics) {
	val, diags := expr.Value(ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	if val.ContainsMarked() {
		return nil, append(diags, sensitiveHere("platforms", expr.Range()))
	}
	var list []string
	if d := decodeStringList(val, expr.Range(), "platforms"); d != nil {
		return nil, append(diags, d)
	}
	for it := val.ElementIterator(); it.Next(); {
		_, v := it.Element()
		list = append(list, v.AsString())
	}
	return c.checkPlatforms(list, expr)
}

func decodeStringList(val cty.Value, rng hcl.Range, what string) *hcl.Diagnostic {
	val, _ = val.Unmark()
	ty := val.Type()
	if val.IsNull() || !(ty.IsListType() || ty.IsTupleType() || ty.IsSetType()) {
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Incorrect attribute value type", Detail: fmt.Sprintf("%s must be a list of strings.", what), Subject: rng.Ptr()}
	}
	for it := val.ElementIterator(); it.Next(); {
		_, v := it.Element()
		if v.IsNull() || v.Type() != cty.String {
			return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Incorrect attribute value type", Detail: fmt.Sprintf("%s must be a list of strings.", what), Subject: rng.Ptr()}
		}
	}
	return nil
}

// EmulatorArchs are the architectures a host block may list in emulators,
// sorted.
func EmulatorArchs() []string {
	return sortedKeys(emulatorInterpreters)
}
