package scenarios

import (
	"fmt"
	"sort"
	"strings"

	"github.com/sawtooth-dev/sawtooth/server/serveflags"
)

// builtinFlag returns the flag of "sawtooth serve" a scenario may set
// under the underscore name key (serveflags describes them all).
func builtinFlag(key string) (serveflags.Flag, bool) {
	f, ok := serveflags.Lookup(key)
	return f, ok && f.Scenario && f.Key() == key
}

// BuiltinFlags returns the names of the "sawtooth serve" flags a scenario's
// builtin target, variants and --set may use, sorted (underscore form).
func BuiltinFlags() []string {
	var names []string
	for _, f := range serveflags.List() {
		if f.Scenario {
			names = append(names, f.Key())
		}
	}
	sort.Strings(names)
	return names
}

// DefaultWorkerModel is the worker_model of a builtin target that sets none
// ("sawtooth serve --worker-model" defaults to it too).
const DefaultWorkerModel = serveflags.DefaultWorkerModel

// LoopOnlyFlag reports whether the builtin flag name is valid only with
// worker_model loop ("sawtooth serve" refuses it with another model).
func LoopOnlyFlag(name string) bool {
	f, ok := builtinFlag(name)
	return ok && f.LoopOnly
}

// CheckBuiltinFlag reports whether value is valid for the built-in server
// flag name, with an error saying what was expected.
func CheckBuiltinFlag(name, value string) error {
	f, ok := builtinFlag(name)
	if !ok {
		return fmt.Errorf("unknown flag of the built-in server, want one of %s", strings.Join(BuiltinFlags(), ", "))
	}
	if msg := f.Check(value); msg != "" {
		return fmt.Errorf("got %q, want %s", value, msg)
	}
	return nil
}

// BuiltinArgs turns resolved builtin flags (a Variant's Set for a builtin
// target) into "sawtooth serve" arguments such as "--max-requests=100",
// sorted by flag name.
func BuiltinArgs(set map[string]string) []string {
	names := make([]string, 0, len(set))
	for k := range set {
		names = append(names, k)
	}
	sort.Strings(names)
	args := make([]string, len(names))
	for i, k := range names {
		args[i] = "--" + strings.ReplaceAll(k, "_", "-") + "=" + strings.TrimSpace(set[k])
	}
	return args
}
