package scenarios

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"

	"github.com/sawtooth-dev/sawtooth/internal/metric"
	"github.com/sawtooth-dev/sawtooth/internal/units"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// MetricKind is what a threshold metric measures, which fixes the units its
// value may be written in and the base unit of Threshold.Value. The
// catalogue of metrics (internal/metric) gives each metric its kind.
type MetricKind = metric.Kind

// The kinds of threshold metrics (see metric.Kind).
const (
	KindDuration = metric.Duration
	KindRatio    = metric.Ratio
	KindSize     = metric.Size
	KindSlope    = metric.Slope
	KindCount    = metric.Count
	KindRate     = metric.Rate
	KindLeak     = metric.Leak
	KindNumber   = metric.Number
	KindPercent  = metric.Percent
)

// reservedClassNames are the first elements of the global metrics, which a
// request class may not be named ("all" first).
func reservedClassNames() []string { return metric.ReservedClassNames() }

// Metrics lists every metric name valid for a scenario with the given
// request classes: CLASS.SUFFIX for each class and for "all", then the
// global metrics (the families errors.KIND and restarts.reason.REASON
// are left out: their names depend on the run).
func Metrics(classes []string) []string {
	var out []string
	for _, c := range append(slices.Clone(classes), metric.AllClass) {
		for _, s := range metric.ClassSuffixes() {
			out = append(out, c+"."+s)
		}
	}
	for _, g := range metric.Globals() {
		if !metric.IsPattern(g) {
			out = append(out, g)
		}
	}
	return out
}

// MetricKindOf returns the kind of a metric name by its shape, accepting
// any class name in CLASS.SUFFIX; KnownMetric also checks the class.
func MetricKindOf(name string) (MetricKind, bool) {
	d, ok := metric.Lookup(name)
	return d.Kind(), ok
}

// KnownMetric returns nil when name is a metric of a scenario with the given
// request classes, or an error saying what is valid.
func KnownMetric(name string, classes []string) error {
	class, _, ok := strings.Cut(name, ".")
	if ok && !slices.Contains(reservedClassNames(), class) && !slices.Contains(classes, class) {
		return fmt.Errorf("metric %q names request class %q, which the traffic does not define (classes: %s, and all)",
			name, class, strings.Join(classes, ", "))
	}
	if _, ok := metric.Lookup(name); ok {
		return nil
	}
	return metricShapeError(name)
}

// metricShapeError says why name is not a metric.
func metricShapeError(name string) error {
	suffixes := metric.ClassSuffixes()
	class, _, ok := strings.Cut(name, ".")
	if class == "probe" {
		return fmt.Errorf("unknown metric %q, want probe.NAME.SUFFIX with SUFFIX one of failures, restarts, unready_seconds, longest_failure_run", name)
	}
	if ok && class != "" && !slices.Contains(reservedClassNames(), class) {
		return fmt.Errorf("unknown metric %q, want CLASS.SUFFIX with SUFFIX one of %s", name, strings.Join(suffixes, ", "))
	}
	return fmt.Errorf("unknown metric %q, want CLASS.{%s}, all.{...} or one of %s", name, strings.Join(suffixes, ","), strings.Join(metric.Globals(), ", "))
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
		return scaleDuration(r, unit)
	case KindRatio:
		return scaleRatio(r, unit)
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
		return scaleSlope(r, unit)
	case KindCount, KindNumber:
		if unit != "" {
			return nil, fmt.Errorf("unit %q, want a plain number", unit)
		}
		return r, nil
	case KindPercent:
		if unit != "" && unit != "%" {
			return nil, fmt.Errorf("unit %q, want a plain number or %% of one core (80 or 80%%)", unit)
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

// scaleDuration converts a duration in unit to seconds.
func scaleDuration(r *big.Rat, unit string) (*big.Rat, error) {
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
}

// scaleRatio converts a percentage (unit "%") or a plain fraction to a
// fraction from 0 to 1.
func scaleRatio(r *big.Rat, unit string) (*big.Rat, error) {
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
}

// scaleSlope converts a size per second, minute or hour to bytes per
// minute.
func scaleSlope(r *big.Rat, unit string) (*big.Rat, error) {
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
func (t Threshold) Holds(measured float64) bool { return t.Recorded().Holds(measured) }

// Recorded returns the threshold as a run directory records it
// (thresholds.json), which reports evaluate without this parser.
func (t Threshold) Recorded() rundir.Threshold {
	return rundir.Threshold{Expr: t.Expr, Metric: t.Metric, Op: t.Op, Limit: t.Value}
}

// RecordedThresholds returns ths as a run directory records them.
func RecordedThresholds(ths []Threshold) []rundir.Threshold {
	out := make([]rundir.Threshold, 0, len(ths))
	for _, t := range ths {
		out = append(out, t.Recorded())
	}
	return out
}

// String returns the threshold as written.
func (t Threshold) String() string { return t.Expr }

// MarshalYAML writes the threshold as its expression.
func (t Threshold) MarshalYAML() (any, error) { return t.Expr, nil }
