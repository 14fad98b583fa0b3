package scenarios

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sawtooth-dev/sawtooth/internal/units"
)

// flagKind is the type of a built-in server flag's value.
type flagKind int

const (
	flagInt flagKind = iota
	flagEnum
	flagSize
	flagDuration
	flagBool
)

// builtinFlag describes one flag of "sawtooth serve" a scenario may set.
type builtinFlag struct {
	kind   flagKind
	min    int64         // for flagInt
	max    int64         // for flagInt; 0 means no upper bound
	minDur time.Duration // for flagDuration
	enum   []string      // for flagEnum
	// loopOnly flags are an error unless worker_model is loop.
	loopOnly bool
}

// builtinFlags returns the flags of "sawtooth serve" that a scenario may
// set, by their underscore names. (A function, not a variable, so there
// is no package-level mutable state.)
func builtinFlags() map[string]builtinFlag {
	return map[string]builtinFlag{
		"workers":             {kind: flagInt, min: 1},
		"worker_model":        {kind: flagEnum, enum: []string{"sync", "threads", "loop"}},
		"threads":             {kind: flagInt, min: 1},
		"max_requests":        {kind: flagInt, min: 0},
		"max_requests_jitter": {kind: flagInt, min: 0},
		"max_rss":             {kind: flagSize},
		"max_lifetime":        {kind: flagDuration},
		"max_lifetime_jitter": {kind: flagDuration},
		"timeout":             {kind: flagDuration},
		"graceful_timeout":    {kind: flagDuration},
		"overlap":             {kind: flagBool},
		"leak_per_request":    {kind: flagSize},
		"seed":                {kind: flagInt, min: -1 << 63},
		"offload":             {kind: flagEnum, enum: []string{"none", "threads", "processes"}, loopOnly: true},
		"offload_workers":     {kind: flagInt, min: 1, max: 256, loopOnly: true},
		"switch_interval":     {kind: flagDuration, minDur: time.Nanosecond, loopOnly: true},
		"gil":                 {kind: flagBool, loopOnly: true},
		"lag_interval":        {kind: flagDuration, minDur: time.Millisecond, loopOnly: true},
		"lag_threshold":       {kind: flagDuration, minDur: time.Nanosecond, loopOnly: true},
		"lose_context":        {kind: flagBool, loopOnly: true},
	}
}

// BuiltinFlags returns the names of the "sawtooth serve" flags a scenario's
// builtin target, variants and --set may use, sorted (underscore form).
func BuiltinFlags() []string {
	names := make([]string, 0, 32)
	for name := range builtinFlags() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// DefaultWorkerModel is the worker_model of a builtin target that sets none
// ("sawtooth serve --worker-model" defaults to it too).
const DefaultWorkerModel = "sync"

// LoopOnlyFlag reports whether the builtin flag name is valid only with
// worker_model loop ("sawtooth serve" refuses it with another model).
func LoopOnlyFlag(name string) bool { return builtinFlags()[name].loopOnly }

// CheckBuiltinFlag reports whether value is valid for the built-in server
// flag name, with an error saying what was expected.
func CheckBuiltinFlag(name, value string) error {
	f, ok := builtinFlags()[name]
	if !ok {
		return fmt.Errorf("unknown flag of the built-in server, want one of %s", strings.Join(BuiltinFlags(), ", "))
	}
	if msg := f.check(value); msg != "" {
		return fmt.Errorf("got %q, want %s", value, msg)
	}
	return nil
}

// check returns "" when value fits f, or what was expected.
func (f builtinFlag) check(value string) string {
	v := strings.TrimSpace(value)
	switch f.kind {
	case flagInt:
		want := fmt.Sprintf("an integer ≥ %d", f.min)
		if f.min == -1<<63 {
			want = "an integer"
		}
		if f.max > 0 {
			want = fmt.Sprintf("an integer in [%d, %d]", f.min, f.max)
		}
		i, err := strconv.ParseInt(v, 10, 64)
		if err != nil || i < f.min || (f.max > 0 && i > f.max) {
			return want
		}
	case flagEnum:
		if !slices.Contains(f.enum, v) {
			return "one of " + strings.Join(f.enum, ", ")
		}
	case flagSize:
		if _, err := units.ParseSize(v); err != nil {
			return "a size such as 256MiB, 64KiB or 1GB (0 disables)"
		}
	case flagDuration:
		d, err := parseDuration(v)
		want := "a duration such as 500ms, 30s or 10m (0 disables)"
		switch {
		case f.minDur == time.Nanosecond:
			want = "a duration > 0 such as 5ms"
		case f.minDur > 0:
			want = fmt.Sprintf("a duration of at least %v such as 5ms", f.minDur)
		}
		if err != nil || time.Duration(d) < f.minDur {
			return want
		}
	case flagBool:
		if _, err := strconv.ParseBool(v); err != nil {
			return "true or false"
		}
	}
	return ""
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
