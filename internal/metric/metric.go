// Package metric is the catalogue of sawtooth's named numbers: every
// metric a report emits and a scenario's threshold may name, with its
// unit, its better direction and whether a comparison gates on it, plus
// the names several packages share (the "all" request class, the loop-lag
// histogram, the worker headers).
//
// scenarios reads it to parse thresholds and reserve class names, reports
// to emit, format and compare metrics, and server for the names it
// exports. A metric that is not in Catalogue is neither emitted nor
// accepted as a threshold.
package metric

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// AllClass is the request class that aggregates every class of a run.
const AllClass = "all"

// The loop-lag histogram family: the built-in server exports it, the
// sampler scrapes it by default and reports read the loop lag from it.
const (
	// LoopLag is the name of the built-in server's event-loop lag
	// histogram, in seconds.
	LoopLag = "sawtooth_loop_lag_seconds"
	// LoopLagHint is the part of a histogram's name by which reports
	// recognise another target's loop lag.
	LoopLagHint = "loop_lag"
)

// The response headers by which a worker names itself: its process id
// and the number of requests it has served, this one included.
const (
	HeaderWorkerPid      = "X-Worker-Pid"
	HeaderWorkerRequests = "X-Worker-Requests"
)

// Error kinds, the KIND of errors.KIND. A response with an HTTP status
// outside 200-399 is counted as "http_<code>", e.g. "http_502".
const (
	ErrRefused = "conn_refused" // connection refused: nobody was listening
	ErrReset   = "conn_reset"   // connection reset or broken pipe
	ErrEOF     = "conn_closed"  // the server closed the connection before answering (EOF)
	ErrTimeout = "timeout"      // the client's timeout or deadline passed
	ErrOther   = "other"        // any other transport error
)

// Units of a metric's value (Def.Unit).
const (
	UnitSeconds    = "s"
	UnitRatio      = "ratio"     // a fraction, 0.001 is 0.1%
	UnitBytes      = "B"         // bytes
	UnitBytesMin   = "B/min"     // bytes per minute
	UnitBytesReq   = "B/req"     // bytes per request
	UnitRate       = "req/s"     // requests per second
	UnitCount      = "count"     // a number of things
	UnitR2         = "r2"        // coefficient of determination, 0..1
	UnitPercentCPU = "%cpu"      // percent of one core
	UnitPerRestart = "1/restart" // a number of things per restart
)

// Directions of Def.Better.
const (
	Lower  = "lower"  // smaller values are better
	Higher = "higher" // larger values are better
)

// Kind is what a metric measures, which fixes the units a threshold's
// value may be written in and the base unit it is converted to.
type Kind int

// The kinds of metrics.
const (
	// Duration is a latency: units ns, us (µs), ms, s, m, h; base unit seconds.
	Duration Kind = iota + 1
	// Ratio is a fraction: a plain fraction (0.001) or a percentage
	// (0.1%); base unit a fraction.
	Ratio
	// Size is an amount of memory: B, KiB, MiB, GiB, TiB, KB, MB, GB,
	// TB; base unit bytes.
	Size
	// Slope is memory growth: SIZE/s, SIZE/min, SIZE/h; base unit bytes
	// per minute.
	Slope
	// Count is a plain number of things.
	Count
	// Rate is a plain number of requests per second.
	Rate
	// Leak is memory retained per request: a size, optionally
	// followed by "/req" (1KiB or 1KiB/req); base unit bytes per request.
	Leak
	// Number is a plain number that is not a count (an R², errors per
	// restart).
	Number
	// Percent is a percentage of one CPU core, a plain number or one
	// followed by "%" (80 or 80%); it may exceed 100.
	Percent
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Duration:
		return "duration"
	case Ratio:
		return "ratio"
	case Size:
		return "size"
	case Slope:
		return "slope"
	case Count:
		return "count"
	case Rate:
		return "rate"
	case Leak:
		return "size per request"
	case Number:
		return "number"
	case Percent:
		return "percentage"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// KindOf returns the kind of values in a unit.
func KindOf(unit string) Kind {
	switch unit {
	case UnitSeconds:
		return Duration
	case UnitRatio:
		return Ratio
	case UnitBytes:
		return Size
	case UnitBytesMin:
		return Slope
	case UnitBytesReq:
		return Leak
	case UnitRate:
		return Rate
	case UnitCount:
		return Count
	case UnitR2, UnitPerRestart:
		return Number
	case UnitPercentCPU:
		return Percent
	}
	return 0
}

// Def defines one metric or a family of them.
type Def struct {
	// Name is the metric's name, or a pattern in which an upper-case
	// element stands for any name of its sort: CLASS (a request class,
	// or all), KIND (an error kind) or REASON (a restart reason).
	Name string
	// Unit is the base unit of the value (UnitSeconds, ...).
	Unit string
	// Better is Lower or Higher when a change is an improvement or a
	// regression, "" for numbers that only describe the run.
	Better string
	// Gated is true when a regression can fail a comparison: the median
	// and the p99 of every request class, the error ratio, peak memory
	// and loop lag. Means, p90 and throughput move with those (a gate
	// that tests correlated numbers twice spends its alpha twice);
	// maxima, p99.9 and the restart breakdown are too noisy to gate on.
	Gated bool
	// Key is true when the metric belongs in the compact terminal table;
	// the Markdown and HTML reports show every metric.
	Key bool
}

// Kind returns the kind of the metric's values.
func (d Def) Kind() Kind { return KindOf(d.Unit) }

// Catalogue returns every metric, in documentation order: per class
// first, then errors, memory, restarts, the cost of recycling, loop lag
// and the harness's own health.
func Catalogue() []Def { return slices.Clone(catalogue) }

// catalogue is Catalogue's table; nothing writes to it.
var catalogue = []Def{
	{Name: "CLASS.count", Unit: UnitCount},
	{Name: "CLASS.rps", Unit: UnitRate, Better: Higher, Key: true},
	{Name: "CLASS.errors", Unit: UnitRatio, Better: Lower, Key: true},
	{Name: "CLASS.mean", Unit: UnitSeconds, Better: Lower},
	{Name: "CLASS.p50", Unit: UnitSeconds, Better: Lower, Gated: true, Key: true},
	{Name: "CLASS.p90", Unit: UnitSeconds, Better: Lower},
	{Name: "CLASS.p99", Unit: UnitSeconds, Better: Lower, Gated: true, Key: true},
	{Name: "CLASS.p999", Unit: UnitSeconds, Better: Lower},
	{Name: "CLASS.max", Unit: UnitSeconds, Better: Lower},
	{Name: "CLASS.reuse_failures", Unit: UnitCount, Better: Lower},
	{Name: "CLASS.leak_per_request", Unit: UnitBytesReq, Better: Lower},

	{Name: "errors.count", Unit: UnitCount, Better: Lower, Key: true},
	{Name: "errors.ratio", Unit: UnitRatio, Better: Lower, Gated: true},
	{Name: "errors.KIND", Unit: UnitCount, Better: Lower, Key: true},
	{Name: "reuse_failures.count", Unit: UnitCount, Better: Lower, Key: true},
	{Name: "reuse_failures.ratio", Unit: UnitRatio, Better: Lower},

	{Name: "memory.pss.peak", Unit: UnitBytes, Better: Lower, Gated: true, Key: true},
	{Name: "memory.pss.final", Unit: UnitBytes, Better: Lower, Key: true},
	{Name: "memory.pss.slope", Unit: UnitBytesMin, Better: Lower, Key: true},
	{Name: "memory.pss.slope_r2", Unit: UnitR2},
	{Name: "memory.rss.peak", Unit: UnitBytes, Better: Lower, Key: true},
	{Name: "memory.rss.final", Unit: UnitBytes, Better: Lower},
	{Name: "memory.worker_rss.peak", Unit: UnitBytes, Better: Lower, Gated: true, Key: true},
	{Name: "memory.worker_pss.peak", Unit: UnitBytes, Better: Lower},
	{Name: "memory.worker_rss.per_request", Unit: UnitBytesReq, Better: Lower, Key: true},
	{Name: "memory.worker_rss.per_request_r2", Unit: UnitR2},

	{Name: "restarts.count", Unit: UnitCount, Key: true},
	{Name: "restarts.max_concurrent", Unit: UnitCount, Better: Lower, Key: true},
	{Name: "restarts.replace_mean", Unit: UnitSeconds, Better: Lower, Key: true},
	{Name: "restarts.replace_max", Unit: UnitSeconds, Better: Lower},
	{Name: "restarts.reason.REASON", Unit: UnitCount},

	{Name: "recycle.window_share", Unit: UnitRatio, Key: true},
	{Name: "recycle.in_window.count", Unit: UnitCount},
	{Name: "recycle.in_window.errors", Unit: UnitCount, Better: Lower, Key: true},
	{Name: "recycle.in_window.error_ratio", Unit: UnitRatio, Better: Lower},
	{Name: "recycle.in_window.p50", Unit: UnitSeconds, Better: Lower},
	{Name: "recycle.in_window.p99", Unit: UnitSeconds, Better: Lower, Key: true},
	{Name: "recycle.out_window.count", Unit: UnitCount},
	{Name: "recycle.out_window.errors", Unit: UnitCount, Better: Lower},
	{Name: "recycle.out_window.error_ratio", Unit: UnitRatio, Better: Lower},
	{Name: "recycle.out_window.p50", Unit: UnitSeconds, Better: Lower},
	{Name: "recycle.out_window.p99", Unit: UnitSeconds, Better: Lower, Key: true},
	{Name: "recycle.errors_per_restart", Unit: UnitPerRestart, Better: Lower, Key: true},
	{Name: "recycle.delay_per_restart", Unit: UnitSeconds, Better: Lower, Key: true},

	{Name: "lag.p99", Unit: UnitSeconds, Better: Lower, Gated: true, Key: true},
	{Name: "lag.mean", Unit: UnitSeconds, Better: Lower},

	{Name: "harness.requested_rate", Unit: UnitRate},
	{Name: "harness.achieved_rate", Unit: UnitRate, Key: true},
	{Name: "harness.send_lag_p99", Unit: UnitSeconds},
	{Name: "harness.cpu_percent", Unit: UnitPercentCPU},

	{Name: "probe.PROBE.failures", Unit: UnitCount, Better: Lower, Key: true},
	{Name: "probe.PROBE.longest_failure_run", Unit: UnitCount, Better: Lower},
	{Name: "probe.PROBE.restarts", Unit: UnitCount, Better: Lower, Key: true},
	{Name: "probe.PROBE.unready_seconds", Unit: UnitSeconds, Better: Lower, Key: true},
}

// Placeholders of Def.Name patterns.
const (
	PlaceholderClass  = "CLASS"
	PlaceholderKind   = "KIND"
	PlaceholderReason = "REASON"
	PlaceholderProbe  = "PROBE"
)

// index holds the catalogue's plain names; patterns are matched in order.
var index = func() map[string]Def {
	m := map[string]Def{}
	for _, d := range catalogue {
		if m[d.Name].Name != "" {
			panic("metric: " + d.Name + " defined twice")
		}
		m[d.Name] = d
	}
	return m
}()

// Lookup returns the definition of a metric name ("light.p99",
// "errors.timeout", "memory.pss.peak"). Any first element that is not
// reserved (ReservedClassNames) is taken for a class name; KnownClass
// checks it against a scenario's classes.
func Lookup(name string) (Def, bool) {
	if d, ok := index[name]; ok {
		return d, true
	}
	parts := strings.Split(name, ".")
	for _, d := range catalogue {
		if matches(strings.Split(d.Name, "."), parts) {
			return d, true
		}
	}
	return Def{}, false
}

// matches reports whether the elements of a name fit those of a pattern.
func matches(pattern, parts []string) bool {
	if len(pattern) != len(parts) {
		return false
	}
	for i, p := range pattern {
		switch p {
		case PlaceholderClass:
			if parts[i] == "" || (parts[i] != AllClass && slices.Contains(ReservedClassNames(), parts[i])) {
				return false
			}
		case PlaceholderKind:
			if !IsErrorKind(parts[i]) {
				return false
			}
		case PlaceholderReason, PlaceholderProbe:
			if parts[i] == "" {
				return false
			}
		default:
			if parts[i] != p {
				return false
			}
		}
	}
	return true
}

var httpKind = regexp.MustCompile(`^http_[0-9]+$`)

// IsErrorKind reports whether s is an error kind: one of the Err
// constants, or http_CODE.
func IsErrorKind(s string) bool {
	switch s {
	case ErrRefused, ErrReset, ErrEOF, ErrTimeout, ErrOther:
		return true
	}
	return httpKind.MatchString(s)
}

// ReservedClassNames are the names a request class may not take: all,
// then the first elements of the metrics that are not per class.
func ReservedClassNames() []string { return reserved }

var reserved = func() []string {
	out := []string{AllClass}
	for _, d := range catalogue {
		first, _, _ := strings.Cut(d.Name, ".")
		if first != PlaceholderClass && !slices.Contains(out, first) {
			out = append(out, first)
		}
	}
	return out
}()

// PerClass reports whether a definition is of a per-class metric
// (CLASS.SUFFIX) and returns the suffix.
func (d Def) PerClass() (suffix string, ok bool) {
	return strings.CutPrefix(d.Name, PlaceholderClass+".")
}

// ClassSuffixes lists the suffixes of the per-class metrics, in
// documentation order.
func ClassSuffixes() []string {
	var out []string
	for _, d := range catalogue {
		if s, ok := d.PerClass(); ok {
			out = append(out, s)
		}
	}
	return out
}

// Globals lists the names and patterns of the metrics that are not per
// class, in documentation order.
func Globals() []string {
	var out []string
	for _, d := range catalogue {
		if _, ok := d.PerClass(); !ok {
			out = append(out, d.Name)
		}
	}
	return out
}

// IsPattern reports whether a catalogue name has a placeholder element.
func IsPattern(name string) bool {
	for _, p := range strings.Split(name, ".") {
		if p == PlaceholderClass || p == PlaceholderKind || p == PlaceholderReason || p == PlaceholderProbe {
			return true
		}
	}
	return false
}
