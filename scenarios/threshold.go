package scenarios

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"

	"github.com/sawtooth-dev/sawtooth/internal/units"
)

// MetricKind is what a threshold metric measures, which fixes the units its
// value may be written in and the base unit of Threshold.Value.
type MetricKind int

// The kinds of threshold metrics.
const (
	// KindDuration is a latency: units ns, us (µs), ms, s, m, h; base unit seconds.
	KindDuration MetricKind = iota + 1
	// KindRatio is a fraction: a plain fraction (0.001) or a percentage
	// (0.1%); base unit a fraction.
	KindRatio
	// KindSize is an amount of memory: B, KiB, MiB, GiB, TiB, KB, MB, GB,
	// TB; base unit bytes.
	KindSize
	// KindSlope is memory growth: SIZE/s, SIZE/min, SIZE/h; base unit bytes
	// per minute.
	KindSlope
	// KindCount is a plain number of things.
	KindCount
	// KindRate is a plain number of requests per second.
	KindRate
	// KindLeak is memory retained per request: a size, optionally
	// followed by "/req" (1KiB or 1KiB/req); base unit bytes per request.
	KindLeak
)

// String names the kind.
func (k MetricKind) String() string {
	switch k {
	case KindDuration:
		return "duration"
	case KindRatio:
		return "ratio"
	case KindSize:
		return "size"
	case KindSlope:
		return "slope"
	case KindCount:
		return "count"
	case KindRate:
		return "rate"
	case KindLeak:
		return "size per request"
	}
	return fmt.Sprintf("MetricKind(%d)", int(k))
}

// classMetric gives the kind of each per-class metric suffix
// ("light.p99", "all.rps").
func classMetric(suffix string) (MetricKind, bool) {
	switch suffix {
	case "mean", "p50", "p90", "p99", "p999", "max":
		return KindDuration, true
	case "rps":
		return KindRate, true
	case "errors":
		return KindRatio, true
	case "leak_per_request":
		return KindLeak, true
	case "reuse_failures":
		return KindCount, true
	}
	return 0, false
}

// globalMetric gives the kind of each metric that is not per class.
func globalMetric(name string) (MetricKind, bool) {
	switch name {
	case "errors.ratio", "recycle.window_share", "recycle.in_window.error_ratio", "recycle.out_window.error_ratio", "reuse_failures.ratio":
		return KindRatio, true
	case "errors.count", "reuse_failures.count", "restarts.count", "restarts.max_concurrent", "recycle.in_window.errors", "recycle.out_window.errors",
		"recycle.errors_per_restart":
		return KindCount, true
	case "memory.pss.peak", "memory.rss.peak", "memory.worker_rss.peak", "memory.worker_pss.peak",
		"memory.pss.final", "memory.rss.final":
		return KindSize, true
	case "memory.pss.slope":
		return KindSlope, true
	case "lag.p99", "restarts.replace_mean",
		"recycle.in_window.p50", "recycle.in_window.p99", "recycle.out_window.p50", "recycle.out_window.p99",
		"recycle.delay_per_restart":
		return KindDuration, true
	case "harness.achieved_rate":
		return KindRate, true
	}
	return 0, false
}

// globalMetrics lists the metrics that are not per class, in documentation
// order.
func globalMetrics() []string {
	return []string{"errors.ratio", "errors.count", "reuse_failures.count", "reuse_failures.ratio",
		"memory.pss.peak", "memory.pss.final", "memory.rss.peak", "memory.rss.final",
		"memory.worker_rss.peak", "memory.worker_pss.peak", "memory.pss.slope",
		"restarts.count", "restarts.max_concurrent", "restarts.replace_mean",
		"recycle.window_share", "recycle.in_window.errors", "recycle.in_window.error_ratio", "recycle.in_window.p50", "recycle.in_window.p99",
		"recycle.out_window.errors", "recycle.out_window.error_ratio", "recycle.out_window.p50", "recycle.out_window.p99",
		"recycle.errors_per_restart", "recycle.delay_per_restart",
		"lag.p99", "harness.achieved_rate"}
}

// reservedClassNames are the first elements of the global metrics, which a
// request class may not be named ("all" first).
func reservedClassNames() []string {
	return []string{"all", "errors", "memory", "restarts", "recycle", "lag", "harness", "reuse_failures", "probe"}
}

// Metrics lists every metric name valid for a scenario with the given
// request classes: CLASS.{mean,p50,p90,p99,p999,max,rps,errors,reuse_failures}
// for each class and for "all", then the global metrics.
func Metrics(classes []string) []string {
	var out []string
	for _, c := range append(slices.Clone(classes), "all") {
		for _, s := range classSuffixes {
			out = append(out, c+"."+s)
		}
	}
	return append(out, globalMetrics()...)
}

// classSuffixes are the per-class metric suffixes, in documentation order.
var classSuffixes = []string{"mean", "p50", "p90", "p99", "p999", "max", "rps", "errors", "reuse_failures", "leak_per_request"}

// MetricKindOf returns the kind of a metric name by its shape, accepting
// any class name in CLASS.SUFFIX; KnownMetric also checks the class.
func MetricKindOf(metric string) (MetricKind, bool) {
	if k, ok := globalMetric(metric); ok {
		return k, true
	}
	if isProbeMetric(metric) {
		return probeMetricKind(metric)
	}
	class, suffix, ok := strings.Cut(metric, ".")
	if !ok || class == "" || strings.Contains(suffix, ".") || slices.Contains(reservedClassNames()[1:], class) {
		return 0, false
	}
	return classMetric(suffix)
}

// KnownMetric returns nil when name is a metric of a scenario with the given
// request classes, or an error saying what is valid.
func KnownMetric(name string, classes []string) error {
	if _, ok := globalMetric(name); ok {
		return nil
	}
	class, suffix, ok := strings.Cut(name, ".")
	if ok && !slices.Contains(reservedClassNames()[1:], class) {
		if class != "all" && !slices.Contains(classes, class) {
			return fmt.Errorf("metric %q names request class %q, which the traffic does not define (classes: %s, and all)",
				name, class, strings.Join(classes, ", "))
		}
		if _, ok := classMetric(suffix); ok {
			return nil
		}
	}
	return metricShapeError(name)
}

// metricShapeError says why name is not a metric.
func metricShapeError(name string) error {
	class, _, ok := strings.Cut(name, ".")
	if class == "probe" {
		return fmt.Errorf("unknown metric %q, want probe.NAME.SUFFIX with SUFFIX one of failures, restarts, unready_seconds, longest_failure_run", name)
	}
	if ok && class != "" && !slices.Contains(reservedClassNames(), class) {
		return fmt.Errorf("unknown metric %q, want CLASS.SUFFIX with SUFFIX one of %s", name, strings.Join(classSuffixes, ", "))
	}
	return fmt.Errorf("unknown metric %q, want CLASS.{%s}, all.{...} or one of %s", name, strings.Join(classSuffixes, ","), strings.Join(globalMetrics(), ", "))
}

var thresholdRE = regexp.MustCompile(`^\s*([^\s<>=!]+)\s*(<=|>=|==|!=|<|>)\s*([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*(\S*)\s*$`)

// ParseThreshold parses "METRIC OP VALUE[UNIT]", e.g. "light.p99 < 50ms",
// "errors.ratio <= 0.1%", "memory.pss.slope < 1MiB/min". OP is one of
// <, <=, >, >=, ==, !=. The unit must fit the metric's kind (see
// MetricKind); Value is converted to the kind's base unit. The class of a
// CLASS.SUFFIX metric is not checked here: use KnownMetric.
func ParseThreshold(expr string) (Threshold, error) {
	t := Threshold{Expr: strings.TrimSpace(expr)}
	m := thresholdRE.FindStringSubmatch(expr)
	if m == nil {
		return t, fmt.Errorf("bad threshold %q: want METRIC OP VALUE[UNIT] with OP one of < <= > >= == !=, e.g. \"light.p99 < 50ms\"", t.Expr)
	}
	t.Metric, t.Op, t.Unit = m[1], m[2], m[4]
	kind, ok := MetricKindOf(t.Metric)
	if !ok {
		return t, fmt.Errorf("bad threshold %q: %w", t.Expr, metricShapeError(t.Metric))
	}
	num, ok := new(big.Rat).SetString(m[3])
	if !ok {
		return t, fmt.Errorf("bad threshold %q: bad number %q", t.Expr, m[3])
	}
	v, err := scaleUnit(kind, num, t.Unit)
	if err != nil {
		return t, fmt.Errorf("bad threshold %q: %s is a %s: %w", t.Expr, t.Metric, kind, err)
	}
	t.Value, _ = v.Float64()
	if !finite(t.Value) {
		return t, fmt.Errorf("bad threshold %q: %s is too large, want a finite number", t.Expr, m[3])
	}
	return t, nil
}

// scaleUnit converts num written in unit to kind's base unit.
func scaleUnit(kind MetricKind, num *big.Rat, unit string) (*big.Rat, error) {
	if num.Sign() < 0 && kind != KindSlope && kind != KindLeak {
		return nil, fmt.Errorf("negative value, want a value ≥ 0")
	}
	r := new(big.Rat).Set(num)
	switch kind {
	case KindDuration:
		div := map[string]int64{"ns": 1e9, "us": 1e6, "µs": 1e6, "ms": 1e3, "s": 1}
		switch {
		case unit == "m":
			return r.Mul(r, big.NewRat(60, 1)), nil
		case unit == "h":
			return r.Mul(r, big.NewRat(3600, 1)), nil
		case div[unit] != 0:
			return r.Quo(r, big.NewRat(div[unit], 1)), nil
		case unit == "" && r.Sign() == 0:
			return r, nil
		}
		return nil, fmt.Errorf("unit %q, want one of ns, us, µs, ms, s, m, h (e.g. 50ms)", unit)
	case KindRatio:
		switch unit {
		case "%":
			if r.Cmp(big.NewRat(100, 1)) > 0 {
				return nil, fmt.Errorf("more than 100%%, want a percentage from 0%% to 100%%")
			}
			return r.Quo(r, big.NewRat(100, 1)), nil
		case "":
			if r.Cmp(big.NewRat(1, 1)) > 0 {
				return nil, fmt.Errorf("a fraction above 1, want a fraction from 0 to 1 (0.001) or a percentage (0.1%%)")
			}
			return r, nil
		}
		return nil, fmt.Errorf("unit %q, want %% or a plain fraction (0.1%% or 0.001)", unit)
	case KindSize:
		f, err := sizeFactor(unit)
		if err != nil || (unit == "" && r.Sign() != 0) {
			return nil, fmt.Errorf("unit %q, want one of B, KiB, MiB, GiB, KB, MB, GB (e.g. 300MiB)", unit)
		}
		return r.Mul(r, f), nil
	case KindLeak:
		size, _ := strings.CutSuffix(unit, "/req")
		f, err := sizeFactor(size)
		if err != nil || (size == "" && r.Sign() != 0) {
			return nil, fmt.Errorf("unit %q, want a size per request: B, KiB, MiB, KB, MB, optionally with /req (e.g. 1KiB)", unit)
		}
		return r.Mul(r, f), nil
	case KindSlope:
		size, per, ok := strings.Cut(unit, "/")
		f, err := sizeFactor(size)
		perMin := map[string]*big.Rat{"s": big.NewRat(60, 1), "min": big.NewRat(1, 1), "m": big.NewRat(1, 1), "h": big.NewRat(1, 60)}[per]
		if unit == "" && r.Sign() == 0 {
			return r, nil
		}
		if !ok || err != nil || size == "" || perMin == nil {
			return nil, fmt.Errorf("unit %q, want SIZE/min, SIZE/s or SIZE/h (e.g. 1MiB/min)", unit)
		}
		return r.Mul(r.Mul(r, f), perMin), nil
	case KindCount:
		if unit != "" {
			return nil, fmt.Errorf("unit %q, want a plain number", unit)
		}
		return r, nil
	case KindRate:
		switch unit {
		case "", "/s", "rps", "req/s":
			return r, nil
		}
		return nil, fmt.Errorf("unit %q, want a plain number of requests per second", unit)
	}
	return nil, fmt.Errorf("unknown metric kind")
}

// sizeFactor returns the bytes in one unit ("MiB" → 1048576); "" is bytes.
func sizeFactor(unit string) (*big.Rat, error) {
	if unit == "" {
		return big.NewRat(1, 1), nil
	}
	if strings.ContainsAny(unit, "0123456789. ") {
		return nil, fmt.Errorf("bad unit %q", unit)
	}
	n, err := units.ParseSize("1" + unit)
	if err != nil {
		return nil, err
	}
	return new(big.Rat).SetInt64(n), nil
}

// Holds reports whether a measured value, in the metric's base unit,
// satisfies the threshold.
func (t Threshold) Holds(measured float64) bool {
	switch t.Op {
	case "<":
		return measured < t.Value
	case "<=":
		return measured <= t.Value
	case ">":
		return measured > t.Value
	case ">=":
		return measured >= t.Value
	case "==":
		return measured == t.Value
	case "!=":
		return measured != t.Value
	}
	return false
}

// String returns the threshold as written.
func (t Threshold) String() string { return t.Expr }

// MarshalYAML writes the threshold as its expression.
func (t Threshold) MarshalYAML() (any, error) { return t.Expr, nil }
