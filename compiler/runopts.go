package compiler

import (
	"fmt"
	"net"
	"slices"
	"strings"

	units "github.com/docker/go-units"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// entitlementNames are the entitlements a build may ask for.
var entitlementNames = []string{"network.host", "security.insecure", "device"}

// resolveRunOptions reads a target's options for its RUN steps: shm_size,
// ulimits, extra_hosts, no_cache_filter and entitlements, as bake takes
// them, each checked now rather than by BuildKit mid-build.
func (c *compilation) resolveRunOptions(r *resolved) hcl.Diagnostics {
	var diags hcl.Diagnostics
	in, obj := r.in, r.obj
	bad := func(attr, format string, args ...any) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid " + attr, Detail: fmt.Sprintf(format, args...), Subject: c.declRange(in, attr).Ptr()})
	}
	if s := strAttr(obj, "shm_size", ""); s != "" {
		n, err := units.RAMInBytes(s)
		if err != nil || n <= 0 {
			bad("shm_size", "shm_size is a size such as 64m or 1g, not %q.", s)
		} else {
			r.build.ShmSize = n
		}
	}
	if v := obj.GetAttr("ulimits"); !v.IsNull() {
		for _, s := range bakeList(v) {
			u, err := units.ParseUlimit(s)
			if err != nil {
				bad("ulimits", "%q is not a ulimit (name=soft[:hard], such as nofile=1024:1024): %v.", s, err)
				continue
			}
			r.build.Ulimits = append(r.build.Ulimits, u.String())
		}
	}
	if v := obj.GetAttr("extra_hosts"); !v.IsNull() {
		hosts, _, _ := sensitiveMap(v, "extra_hosts")
		for _, h := range sortedKeys(hosts) {
			for _, ip := range strings.Split(hosts[h], ",") {
				ip = strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")
				if net.ParseIP(ip) == nil {
					bad("extra_hosts", "extra_hosts maps %s to %q, which is not an IP address.", h, hosts[h])
				}
			}
		}
		if len(hosts) > 0 {
			r.build.ExtraHosts = hosts
		}
	}
	if v := obj.GetAttr("no_cache_filter"); !v.IsNull() {
		r.build.NoCacheFilter = bakeList(v)
	}
	if v := obj.GetAttr("entitlements"); !v.IsNull() {
		for _, e := range bakeList(v) {
			if !slices.Contains(entitlementNames, e) {
				bad("entitlements", "an entitlement is %s, not %q.", strings.Join(entitlementNames, ", "), e)
				continue
			}
			if !slices.Contains(r.build.Entitlements, e) {
				r.build.Entitlements = append(r.build.Entitlements, e)
			}
		}
		slices.Sort(r.build.Entitlements)
	}
	return diags
}

// bakeList is a list attribute as bake normalises it: empty strings and
// repeats dropped, the first of each kept.
func bakeList(v cty.Value) []string {
	var out []string
	for _, s := range strList(v) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
