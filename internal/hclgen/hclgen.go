// Package hclgen writes random HCL (fixed seeds in tests): expressions of
// every kind of node, operator, literal and traversal step HCL's native
// parser makes, with names that are references and names that a for or a
// splat binds, and pieces of a spec made of them. Tests that prove code by
// difference with HCL's own parser or walk feed on it.
package hclgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Piece writes a piece of a spec: top-level attributes and blocks
// (labelled, unlabelled, nested, empty, on one line) whose attributes
// hold generated expressions.
func Piece(rng *rand.Rand) string {
	var b strings.Builder
	for i := range 1 + rng.IntN(3) {
		switch rng.IntN(5) {
		case 0:
			fmt.Fprintf(&b, "top%d = %s\n", i, Expr(rng, 3))
		case 1:
			fmt.Fprintf(&b, "empty \"e\" {}\n")
		case 2:
			fmt.Fprintf(&b, "one { a = %s }\n", Expr(rng, 2))
		default:
			labels := []string{``, ` "app"`, ` "a" "b"`, ` lbl`}[rng.IntN(4)]
			fmt.Fprintf(&b, "target%s {\n", labels)
			for i := range 1 + rng.IntN(4) {
				fmt.Fprintf(&b, "  attr%d = %s\n", i, Expr(rng, 3))
			}
			if rng.IntN(4) == 0 {
				fmt.Fprintf(&b, "  doc = <<-EOT\n    line ${%s}\n    %%{ if true }x%%{ endif }\n  EOT\n", Expr(rng, 2))
			}
			if rng.IntN(3) == 0 {
				fmt.Fprintf(&b, "  # a comment\n  inner \"x\" {\n    deep = %s\n  }\n", Expr(rng, 2))
			}
			b.WriteString("}\n")
		}
	}
	return b.String()
}

// Expr writes an expression of depth at most d using every kind of
// node, operator, literal and traversal step the parser makes.
func Expr(rng *rand.Rand, d int) string {
	if d == 0 {
		return leaf(rng)
	}
	sub := func() string { return Expr(rng, d-1) }
	ops := []string{"||", "&&", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"}
	switch rng.IntN(22) {
	case 0:
		return fmt.Sprintf("\"a-${%s}-b\"", sub())
	case 1:
		return fmt.Sprintf("\"${%s}\"", sub())
	case 2:
		return fmt.Sprintf("[%s, %s]", sub(), sub())
	case 3:
		return fmt.Sprintf("{ k = %s, \"q\" = %s, (x) = 1, v: %s }", sub(), sub(), sub())
	case 4:
		return fmt.Sprintf("upper(%s, %s)", sub(), sub())
	case 5:
		return fmt.Sprintf("concat(%s, %s...)", sub(), sub())
	case 6:
		return fmt.Sprintf("(%s)", sub())
	case 7:
		return fmt.Sprintf("%s ? %s : %s", sub(), sub(), sub())
	case 8:
		return fmt.Sprintf("%s %s %s", sub(), ops[rng.IntN(len(ops))], sub())
	case 9:
		return fmt.Sprintf("!%s", sub())
	case 10:
		return fmt.Sprintf("-%s", sub())
	case 11:
		return fmt.Sprintf("m[%s]", sub())
	case 12:
		return fmt.Sprintf("[for k, v in %s : %s if %s]", sub(), sub(), sub())
	case 13:
		return fmt.Sprintf("{for x in %s : x => %s...}", sub(), sub())
	case 14:
		return []string{"a[*].name", "a[*].b[0]", "a.*.c", "a[*]"}[rng.IntN(4)]
	case 15:
		return fmt.Sprintf("(%s)[*].x", sub())
	case 16:
		return fmt.Sprintf("(%s).attr[0][\"k\"]", sub())
	case 17:
		return fmt.Sprintf("\"%%{ for x in %s }${x}~%%{ endfor }\"", sub())
	case 18:
		return fmt.Sprintf("\"%%{ if %s }y%%{ else }${%s}%%{ endif }\"", sub(), sub())
	case 19:
		return fmt.Sprintf("provider::ns::fn(%s)", sub())
	case 20:
		return fmt.Sprintf("a[%s].b", sub())
	}
	return leaf(rng)
}

// leaf is a literal or a reference: to a variable, a local, a target, or
// a name a for (k, v, x) or nothing binds.
func leaf(rng *rand.Rand) string {
	leaves := []string{
		`"lit"`, `"esc\n\t\"\\ \u00e9 e\u0301 $${x} %%{y}"`, `""`,
		"0", "7", "1.5", "-0.25", "1e300", "3.14159265358979323846264338327950288", "12345678901234567890123",
		"true", "false", "null",
		"var.a", "local.b", "target.app.tags", "x", "k", "v", "each.value", "m", "m.k[2]", `m["s"].t`,
	}
	return leaves[rng.IntN(len(leaves))]
}
