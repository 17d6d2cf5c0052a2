// Package spec reads a bakeplan spec (HCL native or JSON syntax) into typed
// blocks that keep every source range and leave expressions unevaluated.
//
// It checks only what can be known without evaluating anything: syntax,
// block and attribute names, duplicate names, and the shape of static
// references such as depends_on = [target.x]. Evaluation, expansion and every
// other check belong to the compiler.
package spec
