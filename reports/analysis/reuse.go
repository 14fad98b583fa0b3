package analysis

import (
	"fmt"
)

// Reuse failures are requests with an attempt that failed on a reused
// keep-alive connection before any response byte: the server (a worker
// being recycled, a keep-alive timeout) closed the connection under the
// client. Go's net/http, and so vegeta, re-sends such a request when it
// deems that safe, and the re-send usually succeeds; a client that does
// not retry (wrk, most SDKs, a proxy forwarding a POST) loses it. The
// runner counts them per interval and class in timeline.csv whatever the
// client model; with retry off each is also an error.

// addReuse sets the reuse failures of each class of r from its timeline,
// when the run measured them (its run.json records a client model).
func (r *run) addReuse() {
	if r.info.Client == nil {
		return
	}
	for class, rows := range r.timeline {
		var n int64
		for _, row := range rows {
			n += row.ReuseFailures
		}
		cs := r.classes[class]
		if cs == nil {
			cs = &sample{}
			r.classes[class] = cs
		}
		cs.reuse += n
	}
	for _, cs := range r.classes {
		cs.reuseMeasured = true
	}
}

// reuseMetrics returns CLASS.reuse_failures for each class measured and,
// for "all", reuse_failures.count and reuse_failures.ratio.
func reuseMetrics(classes []ClassStats) []Metric {
	var out []Metric
	for _, c := range classes {
		if c.ReuseFailures == nil {
			continue
		}
		n := float64(*c.ReuseFailures)
		out = append(out, measure(c.Class+".reuse_failures", n))
		if c.Class == AllClass {
			out = append(out, measure("reuse_failures.count", n))
			if c.Count > 0 {
				out = append(out, measure("reuse_failures.ratio", n/float64(c.Count)))
			}
		}
	}
	return out
}

// retried reports whether any run of v let net/http re-send requests.
func (v *VariantSummary) retried() bool {
	for _, r := range v.Runs {
		if r.Client != nil && r.Client.Retry {
			return true
		}
	}
	return false
}

// hiddenErrors says, for each variant whose client retried and had reuse
// failures, how many requests a client that does not retry would have
// lost: the sentence every report leads with.
func hiddenErrors(variants []VariantSummary) []string {
	var out []string
	for i := range variants {
		v := &variants[i]
		m, ok := v.Metric("reuse_failures.count")
		if !ok || m.Value == 0 || !v.retried() {
			continue
		}
		ratio := Unmeasured
		if r, ok := v.Metric("reuse_failures.ratio"); ok {
			ratio = FormatPercent(r.Value)
		}
		per := ""
		if v.Repeats > 1 {
			per = " per repeat"
		}
		out = append(out, fmt.Sprintf("%s: %s requests%s (%s) failed on a reused keep-alive connection before any response byte; Go/vegeta re-sent them, so they are not errors here, but a client that does not retry (wrk, most SDKs, a proxy forwarding a POST) would have lost them (client.retry: false measures that).",
			v.Name, FormatValue(m.Value, UnitCount), per, ratio))
	}
	return out
}
