package views

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/bakeplan/bakeplan/internal/escape"
	"github.com/bakeplan/bakeplan/plan"
	"github.com/bakeplan/bakeplan/runtime/endpoint"
	"github.com/bakeplan/bakeplan/runtime/solve"
)

// DryRun writes, for every step, exactly what apply.Apply would send: endpoints,
// frontend attributes, local directories, exports, caches, secrets and
// tags. It connects to nothing and changes nothing. Sensitive values are
// shown redacted.
func DryRun(w io.Writer, p *plan.Plan, reqs []*solve.Request, env endpoint.Env) error {
	byStep := map[string]*solve.Request{}
	for _, r := range reqs {
		byStep[r.Step] = r
	}
	printf(w, "Dry run: nothing is solved, pushed, tagged or changed.\n")
	for _, st := range p.Steps {
		printf(w, "\n%s %s\n", st.Action, st.ID)
		switch {
		case st.Builder != nil:
			for _, n := range endpoint.Nodes(st.Builder) {
				ep := endpoint.ForNode(st.Builder, n, env)
				printf(w, "  connect  %s, and check that BuildKit answers before any solve\n", ep)
				if t := ep.TLS; t != nil {
					printf(w, "  tls      ca_cert=%s cert=%s key=%s server_name=%s\n", t.CACert, t.Cert, t.Key, t.ServerName)
				}
			}
		case st.Build != nil:
			dryBuild(w, byStep[st.ID])
		case st.Publish != nil:
			var from []string
			for _, e := range st.Needs {
				if e.Kind == plan.EdgeBuild {
					from = append(from, e.Step)
				}
			}
			for _, t := range st.Publish.Tags {
				printf(w, "  tag      %s -> the digest pushed by %s, once every build succeeded\n", t, strings.Join(from, " + "))
			}
		default:
			switch {
			case st.Change != nil:
				printf(w, "  change   %s %s (made after approval, before any build)\n", st.Change.Symbol, st.Change.Summary)
			case st.Observed != nil:
				printf(w, "  matches  the host as probed; nothing to do\n")
			default:
				printf(w, "  not probed (--offline): neither checked nor changed\n")
			}
		}
	}
	return nil
}

func dryBuild(w io.Writer, r *solve.Request) {
	printf(w, "  endpoint %s\n", r.Endpoint)
	printf(w, "  frontend %s\n", r.Frontend)
	for _, k := range sortedKeys(r.FrontendAttrs) {
		v := r.FrontendAttrs[k]
		if r.Sensitive[k] {
			v = plan.Redacted
		}
		printf(w, "    %s=%s\n", k, v)
	}
	for _, k := range sortedKeys(r.LocalDirs) {
		printf(w, "  local    %s=%s\n", k, r.LocalDirs[k])
	}
	if r.ClampMtime != 0 && len(r.LocalDirs) > 0 {
		printf(w, "  local    sent with SOURCE_DATE_EPOCH %d as every modification time, modes as git records them (0644, 0755), owned by root; no cached step reused\n", r.ClampMtime)
	}
	if r.InlineDockerfile != "" {
		printf(w, "  local    dockerfile=(inline, %d bytes)\n", len(r.InlineDockerfile))
	}
	for _, e := range r.Exports {
		var attrs []string
		for _, k := range sortedKeys(e.Attrs) {
			v := e.Attrs[k]
			if r.Sensitive["export:"+k] {
				v = plan.Redacted
			}
			attrs = append(attrs, k+"="+v)
		}
		line := "type=" + e.Type
		if len(attrs) > 0 {
			line += "," + strings.Join(attrs, ",")
		}
		switch {
		case e.Load:
			line += " -> docker load"
		case e.Dest != "":
			line += " -> " + e.Dest
		}
		printf(w, "  export   %s\n", line)
	}
	for _, c := range r.CacheImports {
		printf(w, "  cache-from type=%s %s\n", c.Type, kv(c.Attrs))
	}
	for _, c := range r.CacheExports {
		printf(w, "  cache-to type=%s %s\n", c.Type, kv(c.Attrs))
	}
	for _, s := range r.Secrets {
		if s.Env != "" {
			printf(w, "  secret   %s from env %s\n", s.ID, s.Env)
		} else {
			printf(w, "  secret   %s from file %s\n", s.ID, s.File)
		}
	}
	for _, s := range r.SSH {
		printf(w, "  ssh      %s %s\n", s.ID, strings.Join(s.Paths, ","))
	}
}

func kv(m map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// printf formats for a terminal: every string argument is data from the
// spec or the plan and is escaped onto one visible line (control
// characters, newlines, bidi overrides); structure comes from the format.
func printf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, format, escape.TerminalArgs(args)...)
}
