package analysis

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/sawtooth-dev/sawtooth/reports/stats"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// memorySeries groups memory samples into the total per sample time and
// each worker's own series.
func memorySeries(mem []rundir.MemorySample, roles map[int]string) ([]memPoint, map[int][]memPoint) {
	var total []memPoint
	workers := map[int][]memPoint{}
	for i := 0; i < len(mem); {
		j := i
		p := memPoint{T: mem[i].T}
		for ; j < len(mem) && mem[j].T == mem[i].T; j++ {
			m := mem[j]
			p.RSS += m.RSS
			if m.PSS < 0 || p.PSS < 0 {
				p.PSS = -1
			} else {
				p.PSS += m.PSS
			}
			if m.Role == "worker" {
				workers[m.PID] = append(workers[m.PID], memPoint{T: m.T, RSS: m.RSS, PSS: m.PSS})
			}
		}
		total = append(total, p)
		i = j
	}
	return total, workers
}

// memoryStats computes the memory numbers from the series.
func memoryStats(total []memPoint, workers map[int][]memPoint, events []rundir.Event, rs RestartStats, load []rundir.TimelineRow, served map[int][]servedPoint, stop float64) MemoryStats {
	ms := MemoryStats{Samples: len(total), Workers: len(workers)}
	var xs, ys []float64
	ms.PSSAvailable = len(total) > 0
	for _, p := range total {
		if p.PSS < 0 {
			ms.PSSAvailable = false
		}
	}
	for _, p := range total {
		ms.PeakRSS = max(ms.PeakRSS, p.RSS)
		ms.FinalRSS = p.RSS
		if ms.PSSAvailable {
			ms.PeakPSS = max(ms.PeakPSS, p.PSS)
			ms.FinalPSS = p.PSS
			xs = append(xs, p.T/60)
			ys = append(ys, float64(p.PSS))
		}
	}
	ms.PSSSlope = stats.LinearFit(xs, ys)
	for _, ser := range workers {
		for _, p := range ser {
			ms.PeakWorkerRSS = max(ms.PeakWorkerRSS, p.RSS)
			ms.PeakWorkerPSS = max(ms.PeakWorkerPSS, p.PSS)
		}
	}
	ms.WorkerRSSPerRequest, ms.RequestsMethod = perRequestFit(workers, events, rs, load, served, stop)
	return ms
}

// perRequestFit fits worker RSS against requests served. A worker's
// requests served at a memory sample's time come, best first:
//
//   - "headers": from the responses' X-Worker-Pid and X-Worker-Requests
//     headers, the worker's count interpolated between the completion
//     times of its responses (samples before its first response are left
//     out);
//   - "exit_events": with the count R of its exit event, R × (requests
//     sent by everyone from its spawn, or its first sample, up to t) /
//     (the same up to its exit);
//   - "load_share": each interval's requests shared evenly among the
//     workers alive then.
//
// The last two follow the load by send time, so they over-count requests
// served when the target falls behind. Each worker's points are centred
// on its own means, so that the fit is one common slope however different
// the workers' base sizes. Samples after a worker's exit or after stop
// (seconds since the start) are left out: a worker tearing down frees
// memory. The method returned names those used, joined by "+".
func perRequestFit(workers map[int][]memPoint, events []rundir.Event, rs RestartStats, load []rundir.TimelineRow, served map[int][]servedPoint, stop float64) (stats.Fit, string) {
	if len(workers) == 0 {
		return stats.Fit{}, ""
	}
	c := requestCounter{lc: newLoadCurve(load, workers), load: load, served: served, stop: stop,
		exitAt: map[int]Exit{}, spawnAt: map[int]float64{}}
	for _, x := range rs.Exits {
		c.exitAt[x.PID] = x
	}
	for _, e := range events {
		if e.Event == "spawn" && e.PID != 0 {
			if _, ok := c.spawnAt[e.PID]; !ok {
				c.spawnAt[e.PID] = e.T
			}
		}
	}
	used := map[string]bool{}
	var xs, ys []float64
	pids := make([]int, 0, len(workers))
	for pid := range workers {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	for _, pid := range pids {
		ser, reqs, method := c.samples(pid, workers[pid])
		if method == "" {
			continue
		}
		used[method] = true
		var mx, my float64
		for i, p := range ser {
			mx += reqs[i]
			my += float64(p.RSS)
		}
		mx /= float64(len(ser))
		my /= float64(len(ser))
		for i, p := range ser {
			xs = append(xs, reqs[i]-mx)
			ys = append(ys, float64(p.RSS)-my)
		}
	}
	if len(xs) == 0 {
		return stats.Fit{}, ""
	}
	var methods []string
	for _, m := range []string{"headers", "exit_events", "load_share"} {
		if used[m] {
			methods = append(methods, m)
		}
	}
	return stats.LinearFit(xs, ys), strings.Join(methods, "+")
}

// requestCounter knows how many requests each worker of a run had
// served at each of its memory samples (see MemoryStats.RequestsMethod).
type requestCounter struct {
	lc      *loadCurve
	load    []rundir.TimelineRow
	served  map[int][]servedPoint
	exitAt  map[int]Exit
	spawnAt map[int]float64
	stop    float64
}

// samples returns the memory samples of worker pid that the fit uses,
// the requests it had served at each, and how those were known
// ("headers", "exit_events" or "load_share"; "" when the worker is left
// out of the fit).
func (c *requestCounter) samples(pid int, all []memPoint) ([]memPoint, []float64, string) {
	// Samples after the worker's exit (it may linger, freeing memory as
	// it tears down) or after the target was stopped are left out.
	end := c.stop
	x, haveExit := c.exitAt[pid]
	if haveExit {
		end = math.Min(end, x.T)
	}
	var ser []memPoint
	for _, p := range all {
		if p.T <= end {
			ser = append(ser, p)
		}
	}
	if len(ser) < 2 {
		return nil, nil, ""
	}
	// Requests are counted from the worker's spawn when it was recorded,
	// since the exit's count includes those served before the first
	// sample.
	t0 := ser[0].T
	if t, ok := c.spawnAt[pid]; ok && t < t0 {
		t0 = t
	}
	var reqs []float64
	lc := c.lc
	switch {
	case len(c.served[pid]) > 0:
		var kept []memPoint
		for _, p := range ser {
			if n, ok := servedBy(c.served[pid], p.T); ok {
				kept = append(kept, p)
				reqs = append(reqs, n)
			}
		}
		if len(kept) < 2 {
			return nil, nil, ""
		}
		return kept, reqs, "headers"
	case len(c.load) == 0:
		return nil, nil, ""
	case haveExit && x.Requests > 0 && lc.cum(x.T)-lc.cum(t0) > 0:
		scale := float64(x.Requests) / (lc.cum(x.T) - lc.cum(t0))
		for _, p := range ser {
			reqs = append(reqs, scale*(lc.cum(p.T)-lc.cum(t0)))
		}
		return ser, reqs, "exit_events"
	}
	return ser, lc.shares(t0, ser), "load_share"
}

// loadCurve answers, for the per-request fit, how many requests the
// load had sent by a time, in all and per live worker, from the
// timeline's rows of class "all". Each answer costs a binary search (or,
// for a worker's series, one walk over the rows of its life), not a pass
// over the whole run, so that a long soak's report is not quadratic in
// its length.
type loadCurve struct {
	rows []rundir.TimelineRow // sorted by T, not overlapping
	// done[i] is the requests of rows[:i], summed in order.
	done []float64
	// starts and ends are the first and last sample times of every
	// worker, each sorted: the workers alive at t are those with
	// start ≤ t ≤ end.
	starts, ends []float64
}

func newLoadCurve(load []rundir.TimelineRow, workers map[int][]memPoint) *loadCurve {
	lc := &loadCurve{rows: slices.Clone(load)}
	slices.SortStableFunc(lc.rows, func(a, b rundir.TimelineRow) int { return cmp.Compare(a.T, b.T) })
	lc.done = make([]float64, len(lc.rows)+1)
	for i, row := range lc.rows {
		lc.done[i+1] = lc.done[i] + float64(row.Count)
	}
	for _, ser := range workers {
		lc.starts = append(lc.starts, ser[0].T)
		lc.ends = append(lc.ends, ser[len(ser)-1].T)
	}
	sort.Float64s(lc.starts)
	sort.Float64s(lc.ends)
	return lc
}

// cum returns the requests sent by t, linear within an interval.
func (lc *loadCurve) cum(t float64) float64 {
	// Rows that ended by t count whole; the one t falls in, in part.
	k := sort.Search(len(lc.rows), func(i int) bool { return lc.rows[i].T+lc.rows[i].Interval > t })
	c := lc.done[k]
	if k < len(lc.rows) && t > lc.rows[k].T {
		row := lc.rows[k]
		c += float64(row.Count) * (t - row.T) / row.Interval
	}
	return c
}

// alive returns the number of workers alive at t.
func (lc *loadCurve) alive(t float64) int {
	started := sort.Search(len(lc.starts), func(i int) bool { return lc.starts[i] > t })
	ended := sort.Search(len(lc.ends), func(i int) bool { return lc.ends[i] >= t })
	return started - ended
}

// share returns one worker's share of the requests of row from lo to hi
// (within the row): its requests divided evenly among the workers alive
// in the middle of that span.
func (lc *loadCurve) share(row rundir.TimelineRow, lo, hi float64) float64 {
	if n := lc.alive((lo + hi) / 2); n > 0 {
		return float64(row.Count) * (hi - lo) / row.Interval / float64(n)
	}
	return 0
}

// shares returns, for each point of a worker's series (in time order),
// its share of the requests sent from t0 to the point's time.
func (lc *loadCurve) shares(t0 float64, ser []memPoint) []float64 {
	out := make([]float64, 0, len(ser))
	// whole is the shares of rows[first:i], which end by the point.
	first := sort.Search(len(lc.rows), func(i int) bool { return lc.rows[i].T+lc.rows[i].Interval > t0 })
	i, whole := first, 0.0
	for _, p := range ser {
		for ; i < len(lc.rows) && lc.rows[i].T+lc.rows[i].Interval <= p.T; i++ {
			row := lc.rows[i]
			if lo, hi := math.Max(t0, row.T), row.T+row.Interval; hi > lo {
				whole += lc.share(row, lo, hi)
			}
		}
		c := whole
		if i < len(lc.rows) {
			row := lc.rows[i]
			if lo, hi := math.Max(t0, row.T), math.Min(p.T, row.T+row.Interval); hi > lo {
				c += lc.share(row, lo, hi)
			}
		}
		out = append(out, c)
	}
	return out
}
