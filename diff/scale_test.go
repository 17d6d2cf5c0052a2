package diff_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/bakeplan/bakeplan/diff"
	"github.com/bakeplan/bakeplan/diff/render"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"
)

// monorepo is a spec of n targets, each pushing its own repository with a
// version tag and an IDX arg; head bumps the tag and the arg everywhere,
// adds a platform to every 50th target (a change a few share) and an arg
// of its own to every 100th (a change no other target has).
func monorepo(n int, head bool) string {
	var b strings.Builder
	for i := range n {
		tag, idx, plats := "v1", "1", `"linux/amd64"`
		if head {
			tag, idx = "v2", "2"
			if i%50 == 7 {
				plats = `"linux/amd64", "linux/arm64"`
			}
		}
		note := ""
		if head && i%100 == 3 {
			note = fmt.Sprintf(", NOTE = \"only svc-%04d\"", i)
		}
		fmt.Fprintf(&b, "target \"svc-%04d\" {\n  args = { IDX = %q%s }\n  platforms = [%s]\n  tags = [\"registry.example.com/team/svc-%04d:%s\"]\n}\n", i, idx, note, plats, i, tag)
	}
	return b.String()
}

// TestMarkdownAtScale renders the review of 1, 30, 300 and 3,000 changed
// targets with a real GitHub-flavoured Markdown renderer: it fits the
// comment limit, every table keeps its columns, every <details> and code
// block is closed, the shared change is written once with its count, and
// what was cut is said. The 300-target comment is a golden file.
func TestMarkdownAtScale(t *testing.T) {
	files := map[string]string{"Dockerfile": "FROM scratch\nARG IDX\n"}
	for _, n := range []int{1, 30, 300, 3000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			bp, _ := side{src: monorepo(n, false), files: files}.compile(t)
			hp, _ := side{src: monorepo(n, true), files: files}.compile(t)
			d := diff.Compute(bp, hp, diff.Options{BaseLabel: "main", HeadLabel: "pr"})
			var md bytes.Buffer
			if err := render.Markdown(&md, d, render.MarkdownOptions{MaxBytes: render.DefaultMaxBytes}); err != nil {
				t.Fatal(err)
			}
			s := md.String()
			if len(s) > render.DefaultMaxBytes {
				t.Errorf("%d bytes, over the limit of %d", len(s), render.DefaultMaxBytes)
			}
			if !strings.HasPrefix(s, render.Marker+"\n") {
				t.Errorf("no marker first")
			}
			if n > 1 && !strings.Contains(s, fmt.Sprintf("**%d targets**: ~ build `tags`: +…:v2, -…:v1", n)) {
				t.Errorf("the shared tag change is not written once for all %d targets:\n%.3000s", n, s)
			}
			if n > 1 && strings.Count(s, "…:v2") > 2 {
				t.Errorf("the shared tag change is repeated %d times", strings.Count(s, "…:v2"))
			}
			checkRendered(t, md.Bytes())
			// The full diff of 3,000 targets cannot fit; that of 30 can.
			if cut := strings.Contains(s, "_Cut to fit"); (n >= 3000) != cut && n != 300 {
				t.Errorf("%d targets: cut %t", n, cut)
			}
			if n == 300 {
				golden(t, "markdown-300", s)
			}
		})
	}
}

// checkRendered renders md as GitHub does (CommonMark with its GFM
// extensions, raw HTML allowed for <details>) and checks the structure.
func checkRendered(t *testing.T, md []byte) {
	t.Helper()
	var html bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe())).Convert(md, &html); err != nil {
		t.Fatal(err)
	}
	h := html.String()
	for _, table := range strings.Split(h, "<table>")[1:] {
		rows := strings.Split(table, "<tr>")[1:]
		want := strings.Count(rows[0], "<th")
		for _, row := range rows {
			if got := strings.Count(row, "<td") + strings.Count(row, "<th"); got != want {
				t.Errorf("a table row with %d cells, its header %d: %s", got, want, row)
				return
			}
		}
	}
	if open, closed := strings.Count(h, "<details>"), strings.Count(h, "</details>"); open != closed {
		t.Errorf("%d <details> opened, %d closed", open, closed)
	}
	if open, closed := strings.Count(h, "<pre><code"), strings.Count(h, "</code></pre>"); open != closed {
		t.Errorf("%d code blocks opened, %d closed", open, closed)
	}
	// Markdown inside <details> must still render (a blank line after the
	// summary), not show as literal text.
	if strings.Contains(h, "<summary>") && strings.Contains(h, "**") {
		t.Errorf("bold markup left unrendered:\n%.2000s", h)
	}
}

// TestMarkdownParts: split into parts of 16 KiB, every part fits, renders
// as valid GitHub Markdown and carries its own marker; together they hold
// every shared change, every target name and every target's own changes.
func TestMarkdownParts(t *testing.T) {
	files := map[string]string{"Dockerfile": "FROM scratch\nARG IDX\n"}
	for _, n := range []int{1, 300, 3000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			bp, _ := side{src: monorepo(n, false), files: files}.compile(t)
			hp, _ := side{src: monorepo(n, true), files: files}.compile(t)
			d := diff.Compute(bp, hp, diff.Options{BaseLabel: "main", HeadLabel: "pr"})
			const limit = 16384
			parts := render.MarkdownParts(d, limit)
			all := strings.Join(parts, "")
			for i, p := range parts {
				if len(p) > limit {
					t.Errorf("part %d: %d bytes, over %d", i+1, len(p), limit)
				}
				marker := render.Marker
				if i > 0 {
					marker = fmt.Sprintf("<!-- bakeplan-diff part %d -->", i+1)
				}
				if !strings.HasPrefix(p, marker+"\n") || !strings.Contains(p, fmt.Sprintf("_Part %d of %d._", i+1, len(parts))) {
					t.Errorf("part %d lacks its marker or its number:\n%.300s", i+1, p)
				}
				checkRendered(t, []byte(p))
			}
			for i := range n {
				if !strings.Contains(all, fmt.Sprintf("`svc-%04d`", i)) && !strings.Contains(all, fmt.Sprintf("##### svc-%04d", i)) {
					t.Errorf("svc-%04d is in no part", i)
					break
				}
				if i%100 == 3 && !strings.Contains(all, fmt.Sprintf("##### svc-%04d", i)) {
					t.Errorf("the own change of svc-%04d is in no part", i)
					break
				}
			}
			if n == 3000 && (len(parts) < 3 || !strings.Contains(all, "too large for a part")) {
				t.Errorf("3,000 targets in %d parts; the full diff should be left out, saying so", len(parts))
			}
		})
	}
}
