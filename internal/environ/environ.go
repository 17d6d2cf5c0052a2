// Package environ reads an environment given as KEY=VALUE strings, as
// requests carry it, rather than the process's own: a test or a saved
// plan's check can hand any environment in.
package environ

import "strings"

// Lookup is KEY's value in env, as os.LookupEnv reads the process's.
func Lookup(env []string, key string) (string, bool) {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v, true
		}
	}
	return "", false
}
