package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeFirstExample: the README's first spec, copied as shown beside
// a Dockerfile with one RUN, plans offline, and every line of the output
// the README shows is in what bakeplan prints.
func TestReadmeFirstExample(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	spec := between(t, readme, "```hcl\n", "```\n")
	shown := between(t, readme[strings.Index(readme, spec):], "```text\n", "```\n")
	dir := t.TempDir()
	writeFile(t, dir, "Dockerfile", "FROM busybox\nRUN true\n")
	file := writeFile(t, dir, "bakeplan.hcl", spec)
	out, errOut, code := bakeplan(t, "plan", "--offline", "-f", file)
	if code != 0 {
		t.Fatalf("the README's example does not plan: exit %d\n%s%s", code, out, errOut)
	}
	for _, line := range strings.Split(shown, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "$ ") {
			continue
		}
		if !strings.Contains(out, line) {
			t.Errorf("the README shows %q, which the plan does not print:\n%s", line, out)
		}
	}
}

// between is the text of s from the first from to the next to after it.
func between(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.Index(s, from)
	if i < 0 {
		t.Fatalf("no %q", from)
	}
	rest := s[i+len(from):]
	j := strings.Index(rest, to)
	if j < 0 {
		t.Fatalf("no %q after %q", to, from)
	}
	return rest[:j]
}
