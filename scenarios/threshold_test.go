package scenarios

import (
	"strings"
	"testing"
)

func TestParseThresholdUnits(t *testing.T) {
	cases := []struct {
		expr   string
		metric string
		op     string
		value  float64
		unit   string
	}{
		{"light.p99 < 50ms", "light.p99", "<", 0.05, "ms"},
		{"light.p50<=250us", "light.p50", "<=", 0.00025, "us"},
		{"light.p90 <= 250µs", "light.p90", "<=", 0.00025, "µs"},
		{"all.max < 2s", "all.max", "<", 2, "s"},
		{"all.mean < 1.5m", "all.mean", "<", 90, "m"},
		{"heavy.p999 >= 100 ms", "heavy.p999", ">=", 0.1, "ms"},
		{"lag.p99 < 100ms", "lag.p99", "<", 0.1, "ms"},
		{"errors.ratio < 0.1%", "errors.ratio", "<", 0.001, "%"},
		{"errors.ratio <= 0.001", "errors.ratio", "<=", 0.001, ""},
		{"light.errors == 0", "light.errors", "==", 0, ""},
		{"memory.pss.peak < 300MiB", "memory.pss.peak", "<", 300 << 20, "MiB"},
		{"memory.rss.peak < 1.5GiB", "memory.rss.peak", "<", 1.5 * (1 << 30), "GiB"},
		{"memory.worker_rss.peak < 512KiB", "memory.worker_rss.peak", "<", 512 << 10, "KiB"},
		{"memory.worker_rss.peak < 4096B", "memory.worker_rss.peak", "<", 4096, "B"},
		{"memory.pss.peak < 2GB", "memory.pss.peak", "<", 2e9, "GB"},
		{"memory.pss.peak < 20MB", "memory.pss.peak", "<", 20e6, "MB"},
		{"memory.pss.peak < 20KB", "memory.pss.peak", "<", 20e3, "KB"},
		{"memory.pss.slope < 1MiB/min", "memory.pss.slope", "<", 1 << 20, "MiB/min"},
		{"memory.pss.slope < 1KiB/s", "memory.pss.slope", "<", 60 << 10, "KiB/s"},
		{"memory.pss.slope < 60MiB/h", "memory.pss.slope", "<", 1 << 20, "MiB/h"},
		{"memory.pss.slope > -1MiB/min", "memory.pss.slope", ">", -(1 << 20), "MiB/min"},
		{"restarts.count != 3", "restarts.count", "!=", 3, ""},
		{"restarts.max_concurrent <= 1", "restarts.max_concurrent", "<=", 1, ""},
		{"errors.count == 0", "errors.count", "==", 0, ""},
		{"all.rps > 400", "all.rps", ">", 400, ""},
		// Metrics the report emitted that thresholds once rejected.
		{"memory.worker_rss.per_request < 1KiB", "memory.worker_rss.per_request", "<", 1 << 10, "KiB"},
		{"memory.worker_rss.per_request < 1KiB/req", "memory.worker_rss.per_request", "<", 1 << 10, "KiB/req"},
		{"lag.mean < 5ms", "lag.mean", "<", 0.005, "ms"},
		{"restarts.replace_max < 2s", "restarts.replace_max", "<", 2, "s"},
		{"harness.cpu_percent < 80", "harness.cpu_percent", "<", 80, ""},
		{"harness.cpu_percent < 150%", "harness.cpu_percent", "<", 150, "%"},
		{"memory.pss.slope_r2 > 0.9", "memory.pss.slope_r2", ">", 0.9, ""},
		{"errors.conn_reset == 0", "errors.conn_reset", "==", 0, ""},
		{"errors.http_502 < 3", "errors.http_502", "<", 3, ""},
		{"restarts.reason.max_requests >= 1", "restarts.reason.max_requests", ">=", 1, ""},
		{"light.count > 100", "light.count", ">", 100, ""},
		{"recycle.in_window.p99 < 100ms", "recycle.in_window.p99", "<", 0.1, "ms"},
		{"recycle.window_share < 50%", "recycle.window_share", "<", 0.5, "%"},
		{"memory.pss.final < 1GiB", "memory.pss.final", "<", 1 << 30, "GiB"},
		{"restarts.replace_mean < 500ms", "restarts.replace_mean", "<", 0.5, "ms"},
		{"harness.achieved_rate >= 99", "harness.achieved_rate", ">=", 99, ""},
		{"light.rps > 400", "light.rps", ">", 400, ""},
	}
	for _, c := range cases {
		th, err := ParseThreshold(c.expr)
		if err != nil {
			t.Errorf("ParseThreshold(%q): %v", c.expr, err)
			continue
		}
		if th.Metric != c.metric || th.Op != c.op || th.Value != c.value || th.Unit != c.unit || th.Expr != c.expr {
			t.Errorf("ParseThreshold(%q) = %+v, want metric %s op %s value %v unit %q", c.expr, th, c.metric, c.op, c.value, c.unit)
		}
	}
}

// TestThresholdAtLimit checks that a value written with a unit converts to
// exactly the float a measurement of the same quantity would be, so a value
// at the limit compares as equal.
func TestThresholdAtLimit(t *testing.T) {
	cases := []struct {
		expr     string
		measured float64
		holds    bool
	}{
		{"light.p99 <= 50ms", 0.05, true},
		{"light.p99 < 50ms", 0.05, false},
		{"light.p99 < 50ms", 0.049999, true},
		{"errors.ratio <= 0.1%", 0.001, true},
		{"errors.ratio < 0.1%", 0.001, false},
		{"errors.ratio >= 0.3%", 0.003, true},
		{"memory.pss.peak <= 300MiB", 300 * 1024 * 1024, true},
		{"memory.pss.peak < 300MiB", 300 * 1024 * 1024, false},
		{"memory.pss.slope <= 1MiB/min", 1048576, true},
		{"restarts.max_concurrent <= 1", 1, true},
		{"restarts.max_concurrent < 1", 1, false},
		{"restarts.count == 4", 4, true},
		{"restarts.count != 4", 4, false},
		{"all.rps > 400", 400, false},
		{"all.rps >= 400", 400, true},
		{"lag.p99 < 0.1s", 0.1, false},
	}
	for _, c := range cases {
		th, err := ParseThreshold(c.expr)
		if err != nil {
			t.Fatalf("ParseThreshold(%q): %v", c.expr, err)
		}
		if got := th.Holds(c.measured); got != c.holds {
			t.Errorf("%q.Holds(%v) = %v, want %v (value %v)", c.expr, c.measured, got, c.holds, th.Value)
		}
	}
}

func TestParseThresholdErrors(t *testing.T) {
	cases := []struct{ expr, msg string }{
		{"light.p99", "METRIC OP VALUE"},
		{"light.p99 < ", "METRIC OP VALUE"},
		{"light.p99 =< 5ms", "METRIC OP VALUE"},
		{"light.p99 < fast", "METRIC OP VALUE"},
		{"light.p99 < 50", `unit ""`},
		{"light.p99 < 50MiB", "is a duration"},
		{"light.p99 < -5ms", "negative"},
		{"errors.ratio < 5ms", "is a ratio"},
		{"errors.ratio < 2", "fraction above 1"},
		{"errors.ratio < 120%", "more than 100%"},
		{"memory.pss.peak < 300", "is a size"},
		{"memory.pss.peak < 300parsecs", "is a size"},
		{"memory.pss.slope < 1MiB", "SIZE/min"},
		{"memory.pss.slope < 1MiB/week", "SIZE/min"},
		{"restarts.count < 3ms", "plain number"},
		{"all.rps < 3MiB", "requests per second"},
		{"light.p98 < 5ms", "unknown metric"},
		{"memory.vms.peak < 5MiB", "unknown metric"},
		{"p99 < 5ms", "unknown metric"},
		{"errors.p99 < 5ms", "unknown metric"},
		{"errors.nosuchkind < 5", "unknown metric"},
		{"harness.cpu_percent < 80ms", "plain number or %"},
	}
	for _, c := range cases {
		_, err := ParseThreshold(c.expr)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseThreshold(%q) = %v, want an error containing %q", c.expr, err, c.msg)
		}
	}
}

func TestKnownMetric(t *testing.T) {
	classes := []string{"light", "heavy"}
	for _, m := range Metrics(classes) {
		if err := KnownMetric(m, classes); err != nil {
			t.Errorf("KnownMetric(%q): %v", m, err)
		}
		if _, ok := MetricKindOf(m); !ok {
			t.Errorf("MetricKindOf(%q) not ok", m)
		}
	}
	for _, m := range []string{"medium.p99", "light.p98", "memory.pss", "lag.p50", "errors"} {
		if KnownMetric(m, classes) == nil {
			t.Errorf("KnownMetric(%q) = nil, want an error", m)
		}
	}
	if k, _ := MetricKindOf("memory.pss.slope"); k != KindSlope || k.String() != "slope" {
		t.Errorf("kind of memory.pss.slope = %v", k)
	}
}
