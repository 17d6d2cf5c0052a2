package compiler

// Sequential is opts with every target evaluated one by one, as the
// compiler did before it evaluated independent targets on every core:
// tests compile both ways and compare.
func Sequential(opts Options) Options {
	opts.sequentialEval = true
	return opts
}
