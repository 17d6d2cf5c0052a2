// Package targetattr is the one list of a target's attributes: for each,
// its name and type in the spec, how --set and bake spell it, the field of
// the plan's build step it becomes, whether the build's input digest
// covers it (and why not, when it does not), and the frontend option that
// carries it to BuildKit.
//
// The spec's schema, the --set keys and their hint, and the names bake
// import translates are derived from this list; so are, for an attribute
// whose field is of a plain kind, its value on the build step, its JSON,
// its part of the input digest, its line in the text plan and its part of
// the BuildKit request (plan.AttrFields). Tests that set each field and
// compare hold every place, and docs/, to the list.
// docs/architecture.md walks through adding an attribute.
package targetattr

import (
	"fmt"
	"strings"
)

// SetForm is how --set PATTERN.KEY=VALUE writes an attribute.
type SetForm int

const (
	// NoSet: --set does not take the attribute.
	NoSet SetForm = iota
	// String replaces the value.
	String
	// Bool replaces the value with true/false (or 1/0).
	Bool
	// Named sets one entry of a map: KEY.NAME=VALUE.
	Named
	// Pairs adds one NAME=VALUE entry to a map per --set (+= too).
	Pairs
	// List replaces a list with the value, or appends with +=.
	List
	// CommaList is a List whose value is comma-separated.
	CommaList
	// CSV is a List of objects, each in bake's CSV form (type=registry,ref=…).
	CSV
)

// IsList says whether += may append to the attribute.
func (f SetForm) IsList() bool { return f == List || f == CommaList || f == CSV || f == Pairs }

// Attr is one target attribute.
type Attr struct {
	// Name is the attribute's name in a spec.
	Name string
	// Type is its HCL type constraint; "" for a structural attribute,
	// which the compiler reads without converting (references, a matrix).
	Type string
	// Doc says what it is, in a phrase.
	Doc string

	// Set is how --set writes it; SetNames are the further spellings it
	// accepts there (bake's singular and dashed forms).
	Set      SetForm
	SetNames []string

	// Bake is its name in a docker-bake file ("" when bake has none).
	Bake string

	// Frontend is the Dockerfile frontend's option that carries the field
	// to BuildKit as it is (a list comma-separated); "" when the request
	// is made from it by code of its own, or BuildKit never sees it.
	Frontend string

	// Field is the field of plan.Build it becomes ("" when it becomes none:
	// it steers the compiler, as inherits or allow_external_paths do).
	Field string
	// NotInput is, for an attribute with a Field, why the build's input
	// digest does not cover that field; "" means it does. A test sets each
	// field and compares digests, so this cannot drift from the digest.
	NotInput string

	// Check, for an attribute the compiler converts by its field's kind,
	// checks a string value (each item of a list); its error says what is
	// wrong, and the plan stops at the attribute's line.
	Check func(string) error

	// MayBeSensitive: a sensitive value may be given (args, labels and
	// annotations show it as (sensitive), through a fingerprint). In any
	// other attribute a sensitive value is an error: the plan would show it.
	MayBeSensitive bool
}

// Structural says whether the compiler reads the attribute without
// evaluating it to a typed value.
func (a Attr) Structural() bool { return a.Type == "" }

// All lists every target attribute, in the order docs/spec.md gives them.
var All = []Attr{
	{Name: "description", Type: "string", Doc: "a free-text description", Bake: "description", MayBeSensitive: true},
	{Name: "context", Type: "string", Doc: "the build context directory, relative to the spec (default \".\")",
		Set: String, Bake: "context", Field: "Context",
		NotInput: "the path is not an input; the files BuildKit receives from it are (inputs)"},
	{Name: "dockerfile", Type: "string", Doc: "the Dockerfile, relative to the context (default \"Dockerfile\")",
		Set: String, Bake: "dockerfile", Field: "Dockerfile",
		NotInput: "the path is not an input; the file's bytes are (inputs)"},
	{Name: "dockerfile_inline", Type: "string", Doc: "the Dockerfile's text, instead of a file",
		Bake: "dockerfile-inline", Field: "DockerfileInline"},
	{Name: "target", Type: "string", Doc: "the Dockerfile stage to build",
		Set: String, Bake: "target", Field: "Stage", Frontend: "target"},
	{Name: "platforms", Type: "list(string)", Doc: "the platforms to build (default: the native platform)",
		Set: CommaList, SetNames: []string{"platform"}, Bake: "platforms", Field: "Platforms"},
	{Name: "args", Type: "map(string)", Doc: "build arguments",
		Set: Named, SetNames: []string{"arg"}, Bake: "args", Field: "Args", MayBeSensitive: true},
	{Name: "labels", Type: "map(string)", Doc: "image labels",
		Set: Named, SetNames: []string{"label"}, Bake: "labels", Field: "Labels", MayBeSensitive: true},
	{Name: "annotations", Type: "map(string)", Doc: "OCI annotations; a key may start with index:, manifest:, manifest-descriptor: or index-descriptor:",
		Set: Pairs, SetNames: []string{"annotation"}, Bake: "annotations", Field: "Annotations", MayBeSensitive: true},
	{Name: "tags", Type: "list(string)", Doc: "image references to tag",
		Set: List, SetNames: []string{"tag"}, Bake: "tags", Field: "Tags",
		NotInput: "tags say where the image goes, not what it is"},
	{Name: "push", Type: "bool", Doc: "push the tags to their registry",
		Set: Bool, Field: "Push",
		NotInput: "push says where the image goes, not what it is"},
	{Name: "output", Type: "list(map(string))", Doc: "outputs: registry, oci, local, docker, with their exporter attributes",
		Set: CSV, Bake: "output", Field: "Outputs"},
	{Name: "cache_from", Type: "list(map(string))", Doc: "cache sources, as BuildKit attributes",
		Set: CSV, SetNames: []string{"cache-from"}, Bake: "cache-from", Field: "CacheFrom",
		NotInput: "the cache does not change a result"},
	{Name: "cache_to", Type: "list(map(string))", Doc: "cache exports, as BuildKit attributes",
		Set: CSV, SetNames: []string{"cache-to"}, Bake: "cache-to", Field: "CacheTo",
		NotInput: "the cache does not change a result"},
	{Name: "secret", Type: "list(object({id=string, env=optional(string), file=optional(string)}))", Doc: "build secrets, named by where their value is read at build time",
		Set: CSV, SetNames: []string{"secrets"}, Bake: "secret", Field: "Secrets",
		NotInput: "a secret's value never reaches the plan, only where it is read"},
	{Name: "ssh", Type: "list(object({id=string, paths=optional(list(string))}))", Doc: "SSH agent sockets or keys forwarded to the build",
		Set: CSV, Bake: "ssh", Field: "SSH",
		NotInput: "an SSH agent is how a build authenticates, and its keys never reach the plan"},
	{Name: "no_cache", Type: "bool", Doc: "ignore the build cache",
		Set: Bool, SetNames: []string{"no-cache"}, Bake: "no-cache", Field: "NoCache"},
	{Name: "network", Type: "string", Doc: "network mode for RUN: default, none or host",
		Set: String, Bake: "network", Field: "Network"},
	{Name: "allow_external_paths", Type: "bool", Doc: "allow context, dockerfile and contexts paths outside the spec's directory"},
	{Name: "shm_size", Type: "string", Doc: "size of /dev/shm for RUN, such as 128m",
		Set: String, SetNames: []string{"shm-size"}, Bake: "shm-size", Field: "ShmSize", Frontend: "shm-size"},
	{Name: "ulimits", Type: "list(string)", Doc: "ulimits for RUN, as name=soft[:hard], such as nofile=1024:1024",
		Set: List, SetNames: []string{"ulimit"}, Bake: "ulimits", Field: "Ulimits", Frontend: "ulimit"},
	{Name: "hostname", Type: "string", Doc: "the host name RUN sees (default: BuildKit's)",
		Set: String, Field: "Hostname", Frontend: "hostname", Check: checkHostname},
	{Name: "extra_hosts", Type: "map(string)", Doc: "extra /etc/hosts entries for RUN: host name to IP address",
		Bake: "extra-hosts", Field: "ExtraHosts"},
	{Name: "no_cache_filter", Type: "list(string)", Doc: "Dockerfile stages built without the cache",
		Set: CommaList, SetNames: []string{"no-cache-filter"}, Bake: "no-cache-filter", Field: "NoCacheFilter"},
	{Name: "entitlements", Type: "list(string)", Doc: "privileges RUN may use: network.host, security.insecure (the builder must allow them)",
		Set: CommaList, SetNames: []string{"entitlement"}, Bake: "entitlements", Field: "Entitlements"},
	{Name: "release", Type: "bool", Doc: "build reproducibly under the release block (default true when the spec has one; false opts out)",
		Field: "Release"},
	{Name: "call", Type: "string", Doc: "run a frontend subrequest instead of the build: check (the Dockerfile's checks and lint), outline or targets; default build",
		Set: String, Bake: "call", Field: "Call"},
	{Name: "attest", Type: "list(map(string))", Doc: "attestations pushed with the image: {type = \"sbom\"}, {type = \"provenance\", mode = \"max\"} (BuildKit's attest:* attributes)",
		Set: CSV, Bake: "attest", Field: "Attest"},

	// Structural: read as references or per matrix row, never converted.
	{Name: "inherits", Doc: "targets whose attributes this one starts from", Bake: "inherits"},
	{Name: "depends_on", Doc: "targets that must build first"},
	{Name: "contexts", Doc: "named contexts: a target, a directory or an image", Bake: "contexts", Field: "Contexts"},
	{Name: "builder", Doc: "the builder to build on",
		Field:    "Builder",
		NotInput: "which node builds it does not change the result; the platforms and how each is built are inputs"},
	{Name: "matrix", Doc: "values this block is repeated over", Bake: "matrix"},
	{Name: "name", Doc: "the name of each matrix row's target", Bake: "name"},
}

// Lookup is the attribute named name in a spec, or false.
func Lookup(name string) (Attr, bool) {
	for _, a := range All {
		if a.Name == name {
			return a, true
		}
	}
	return Attr{}, false
}

// SetKeys maps every spelling --set accepts to the attribute's name.
func SetKeys() map[string]string {
	keys := map[string]string{}
	for _, a := range All {
		if a.Set == NoSet {
			continue
		}
		keys[a.Name] = a.Name
		for _, n := range a.SetNames {
			keys[n] = a.Name
		}
	}
	return keys
}

// SetHint lists the keys --set takes, as its error message names them.
func SetHint() []string {
	var out []string
	for _, a := range All {
		switch a.Set {
		case NoSet:
		case Named:
			out = append(out, a.Name+".NAME")
		default:
			out = append(out, a.Name)
		}
	}
	return out
}

// checkHostname accepts what the kernel and RFC 1123 both take as a host
// name: dot-separated labels of letters, digits and inner hyphens, at most
// 64 bytes in all (the kernel's limit).
func checkHostname(s string) error {
	if len(s) > 64 {
		return fmt.Errorf("a host name is at most 64 characters, not %d", len(s))
	}
	for _, label := range strings.Split(s, ".") {
		ok := label != "" && label[0] != '-' && label[len(label)-1] != '-'
		for _, r := range label {
			ok = ok && (r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}
		if !ok {
			return fmt.Errorf("%q is not a host name: its labels are letters, digits and inner hyphens, separated by dots", s)
		}
	}
	return nil
}
