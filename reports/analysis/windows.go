package analysis

import (
	"math"
	"sort"
)

// RestartWindow is one worker restart on the run's timeline, in seconds
// from the start of the attack: from the worker's retirement decision
// (its retiring event), or its exit where no decision was seen (a crash,
// a kill, a target that does not report one), until its replacement was
// ready (its ready event, else its spawn), or the exit when no
// replacement was seen. With --overlap the replacement is ready before
// the old worker exits, and the window ends at the exit.
type RestartWindow struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	PID   int     `json:"pid"`
	// From is what opened the window, "retiring" or "exit"; To what
	// closed it, "ready", "spawn" or "exit".
	From string `json:"from"`
	To   string `json:"to"`
}

// RecyclingCost is what the restarts of a run (or a variant's repeats
// pooled) cost: the requests in flight during a restart window against
// the others, and the excess per restart.
type RecyclingCost struct {
	// Restarts is the number of restarts (windows).
	Restarts int `json:"restarts"`
	// Covered is the seconds of load inside at least one window, and
	// Share that as a fraction of the load's duration.
	Covered float64 `json:"covered"`
	Share   float64 `json:"share"`
	// InWindow are the requests in flight at any moment of a window,
	// OutWindow all others.
	InWindow  GroupStats `json:"in_window"`
	OutWindow GroupStats `json:"out_window"`
	// ErrorsPerRestart is the errors inside windows beyond what the
	// outside error ratio predicts for as many requests, per restart;
	// DelayPerRestart the request-seconds of latency inside windows beyond
	// what as many requests outside take on average, per restart. Both
	// are nil without restarts or without requests outside the windows.
	ErrorsPerRestart *float64 `json:"errors_per_restart,omitempty"`
	DelayPerRestart  *float64 `json:"delay_per_restart,omitempty"`
}

// NotAContrast is the window share above which inside against outside
// is no longer a contrast: most requests are "inside".
const NotAContrast = 0.5

// unionWindows returns the union of ws, clipped to [0, end], as sorted
// disjoint intervals; windows that touch merge. A zero-length window
// stays, so that requests in flight at an exit without a replacement
// count as inside.
func unionWindows(ws []RestartWindow, end float64) []RestartWindow {
	var out []RestartWindow
	sorted := append([]RestartWindow(nil), ws...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })
	for _, w := range sorted {
		w.Start, w.End = math.Max(0, w.Start), math.Min(end, w.End)
		if w.End < w.Start {
			continue
		}
		if n := len(out); n > 0 && w.Start <= out[n-1].End {
			out[n-1].End = math.Max(out[n-1].End, w.End)
			continue
		}
		out = append(out, w)
	}
	return out
}

// covered returns the total length of disjoint intervals.
func covered(union []RestartWindow) float64 {
	var s float64
	for _, w := range union {
		s += w.End - w.Start
	}
	return s
}

// inWindow reports whether a request in flight from start to end
// overlaps a window of the sorted disjoint union.
func inWindow(union []RestartWindow, start, end float64) bool {
	i := sort.Search(len(union), func(i int) bool { return union[i].End >= start })
	return i < len(union) && union[i].Start <= end
}

// recyclingCost computes the cost of restarts from the requests inside
// and outside the windows, the number of restarts, the seconds covered
// and the load's duration.
func recyclingCost(in, out *sample, restarts int, cov, duration float64) RecyclingCost {
	c := RecyclingCost{Restarts: restarts, Covered: cov, InWindow: in.group(), OutWindow: out.group()}
	if duration > 0 {
		c.Share = math.Min(1, cov/duration)
	}
	if restarts > 0 && out.count > 0 {
		n := float64(in.count)
		errs := (float64(in.count-in.ok) - n*float64(out.count-out.ok)/float64(out.count)) / float64(restarts)
		delay := (in.sum - n*out.sum/float64(out.count)) / float64(restarts)
		c.ErrorsPerRestart, c.DelayPerRestart = &errs, &delay
	}
	return c
}

// windowMetrics returns the recycle.* metrics of a recycling cost.
func windowMetrics(rec RecyclingCost) []Metric {
	var out []Metric
	add := func(name string, v float64) { out = append(out, measure(name, v)) }
	add("recycle.window_share", rec.Share)
	for _, side := range []struct {
		name string
		g    GroupStats
	}{{"in_window", rec.InWindow}, {"out_window", rec.OutWindow}} {
		p := "recycle." + side.name + "."
		g := side.g
		add(p+"count", float64(g.Count))
		if g.Count == 0 {
			// No request was in flight during a window (or every one
			// was): nothing to say about that side.
			continue
		}
		add(p+"errors", float64(g.Errors))
		add(p+"error_ratio", g.ErrorRatio)
		add(p+"p50", g.Latency.P50)
		add(p+"p99", g.Latency.P99)
	}
	if rec.ErrorsPerRestart != nil {
		add("recycle.errors_per_restart", *rec.ErrorsPerRestart)
		add("recycle.delay_per_restart", *rec.DelayPerRestart)
	}
	return out
}
