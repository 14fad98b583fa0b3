package integration

import (
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// Real gunicorn gthread workers recycled with --max-requests 50 close
// keep-alive connections under the client. With the client's retry on
// (Go's default) net/http re-sends the GETs that hit a closing connection,
// so they are reuse failures, not errors; with retry off, as wrk, each is
// an error.
func TestGunicornReuseFailures(t *testing.T) {
	requireTargets(t, gunicorn)
	s := loadShipped(t, "gunicorn-recycling", "leak=0")
	constantLoad(s, 100, 8*time.Second)
	set := map[string]string{"worker_class": "gthread", "threads": "4", "max_requests": "50"}
	off := false
	s.Variants = []scenarios.Variant{
		{Name: "retry", Set: set},
		{Name: "no-retry", Set: set, Client: &scenarios.Client{Retry: &off}},
	}
	s.Thresholds = nil
	rep, _ := run(t, s)

	get := func(v, name string) float64 {
		m, ok := variant(t, rep, v).Metric(name)
		if !ok {
			t.Fatalf("%s: %s not measured", v, name)
		}
		return m.Value
	}
	for _, v := range []string{"retry", "no-retry"} {
		t.Logf("%s: %v requests, %v restarts, %v reuse failures, %v errors (%v)", v, get(v, "all.count"), get(v, "restarts.count"),
			get(v, "reuse_failures.count"), get(v, "errors.count"), class(t, variant(t, rep, v), "all").Errors)
		if get(v, "restarts.count") < 5 {
			t.Fatalf("%s: %v restarts, want at least 5 for --max-requests 50", v, get(v, "restarts.count"))
		}
	}
	if n := get("retry", "reuse_failures.count"); n <= 0 {
		t.Errorf("retry on: %v reuse failures, want > 0", n)
	}
	reuse, errs := get("no-retry", "reuse_failures.count"), get("no-retry", "errors.count")
	if reuse <= 0 || errs < reuse {
		t.Errorf("retry off: %v reuse failures and %v errors, want errors >= reuse failures > 0", reuse, errs)
	}
	if len(rep.Summary.HiddenErrors) != 1 {
		t.Errorf("hidden errors = %q, want one sentence, for variant retry", rep.Summary.HiddenErrors)
	}
}
