package reports

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/internal/hist"
	"github.com/sawtooth-dev/sawtooth/reports/stats"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// AllClass is the name of the pseudo-class that aggregates every class.
const AllClass = "all"

// LagMetric is the loop-lag histogram of the built-in server. Other
// targets' histograms are used when their name contains "loop_lag".
const LagMetric = "sawtooth_loop_lag_seconds"

// ClassStats are the request numbers of one request class (or "all").
// Latencies are seconds and include failed requests, as vegeta's do.
type ClassStats struct {
	Class string `json:"class"`
	Count int64  `json:"count"`
	OK    int64  `json:"ok"`
	// Rate is requests sent per second of load; Throughput is successful
	// responses per second of load.
	Rate       float64 `json:"rate"`
	Throughput float64 `json:"throughput"`
	// SuccessRatio and ErrorRatio are fractions of Count.
	SuccessRatio float64 `json:"success_ratio"`
	ErrorRatio   float64 `json:"error_ratio"`
	// Errors counts failures by kind: "http_<status>", "conn_refused",
	// "conn_reset", "conn_closed", "timeout", "other".
	Errors  map[string]int64 `json:"errors,omitempty"`
	Latency Latency          `json:"latency"`
	// ReuseFailures counts requests with an attempt that failed on a
	// reused keep-alive connection before any response byte (reuse.go);
	// absent when the run did not measure them.
	ReuseFailures *int64 `json:"reuse_failures,omitempty"`
}

// Latency summarises a latency sample, in seconds. Percentiles use the
// nearest-rank method over a histogram of logarithmic buckets: within 1%
// of the exact value from 1 µs to 1 h. Mean and Max are exact.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// MemoryStats are the memory numbers of one run. Totals are sums over
// every process of the target's tree at one sample; sizes are bytes.
type MemoryStats struct {
	Samples  int   `json:"samples"`
	PeakPSS  int64 `json:"peak_pss"`
	FinalPSS int64 `json:"final_pss"`
	PeakRSS  int64 `json:"peak_rss"`
	FinalRSS int64 `json:"final_rss"`
	// PSSAvailable is false when smaps_rollup could not be read; PSS
	// numbers are then 0.
	PSSAvailable bool `json:"pss_available"`
	// PeakWorkerRSS and PeakWorkerPSS are the largest single worker.
	PeakWorkerRSS int64 `json:"peak_worker_rss"`
	PeakWorkerPSS int64 `json:"peak_worker_pss"`
	Workers       int   `json:"workers"`
	// PSSSlope fits total PSS (bytes) against time (minutes): Slope is
	// bytes per minute.
	PSSSlope stats.Fit `json:"pss_slope"`
	// WorkerRSSPerRequest fits each worker's RSS (bytes) against the
	// requests it had served, one common slope for all workers (each
	// worker centred on its own means): Slope is bytes per request.
	WorkerRSSPerRequest stats.Fit `json:"worker_rss_per_request"`
	// RequestsMethod says how requests served were known: "headers"
	// (each response's X-Worker-Pid and X-Worker-Requests headers: the
	// worker's own count, by completion time), "exit_events" (the exit
	// event's request count, spread over the worker's life in proportion
	// to the load), "load_share" (the load divided evenly among live
	// workers, for workers without an exit count, e.g. those alive at the
	// end), several of them joined by "+" in that order when workers
	// needed different ones (e.g. "exit_events+load_share"), or "" (no
	// worker samples).
	RequestsMethod string `json:"requests_method,omitempty"`
}

// Exit is one worker exit from the start of the attack until the target
// was stopped.
type Exit struct {
	T        float64 `json:"t"`
	PID      int     `json:"pid"`
	Reason   string  `json:"reason"`
	Requests int64   `json:"requests,omitempty"`
	// Source is the most precise source that saw the exit ("server",
	// "log", "tree" or "prometheus"), whose time T is.
	Source string `json:"source,omitempty"`
	// Replacement is the pid that replaced it (0 if none was seen) and
	// ReadyAfter the seconds from the exit until the replacement was
	// ready (0 when it was ready before the exit, as with --overlap).
	Replacement int     `json:"replacement,omitempty"`
	ReadyAfter  float64 `json:"ready_after"`
}

// RestartStats are the worker restarts of one run.
type RestartStats struct {
	Count    int            `json:"count"`
	ByReason map[string]int `json:"by_reason,omitempty"`
	// MaxConcurrent is the most workers restarting at once. A worker is
	// restarting from its retiring event (or its exit when none was
	// recorded) until its replacement is ready.
	MaxConcurrent int `json:"max_concurrent"`
	// ReplaceMean and ReplaceMax are seconds from an exit to the
	// replacement being ready, over exits that were replaced.
	ReplaceMean float64 `json:"replace_mean"`
	ReplaceMax  float64 `json:"replace_max"`
	// Source is the most precise event source that saw any of the exits:
	// "server", "log", "tree" or "prometheus". The sources are merged: an exit seen by
	// several is counted once, at the time of the most precise.
	Source string `json:"source,omitempty"`
	Exits  []Exit `json:"exits,omitempty"`
	// Windows are the restart windows, one per exit (see RestartWindow).
	Windows []RestartWindow `json:"windows,omitempty"`
}

// GroupStats are the requests inside or outside the restart windows.
type GroupStats struct {
	Count      int64            `json:"count"`
	Errors     int64            `json:"errors"`
	ErrorRatio float64          `json:"error_ratio"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	Latency    Latency          `json:"latency"`
}

// LagStats is the event-loop lag from the scraped histogram, in seconds,
// over the whole run (bucket increases between the first and last scrape).
type LagStats struct {
	Metric string  `json:"metric"`
	Count  float64 `json:"count"`
	Mean   float64 `json:"mean"`
	P50    float64 `json:"p50"`
	P99    float64 `json:"p99"`
}

// RunSummary is the numbers of one variant and repeat; it is what the
// per-run summary.json holds.
type RunSummary struct {
	Variant string            `json:"variant"`
	Repeat  int               `json:"repeat"`
	Params  map[string]string `json:"params,omitempty"`
	Partial bool              `json:"partial,omitempty"`
	Error   string            `json:"error,omitempty"`
	// Duration is the seconds of load; rates divide by it.
	Duration float64 `json:"duration"`
	// ClosedModel is true when a phase used a fixed concurrency, whose
	// latencies hide queueing delay.
	ClosedModel bool           `json:"closed_model,omitempty"`
	Classes     []ClassStats   `json:"classes"`
	Memory      MemoryStats    `json:"memory"`
	Restarts    RestartStats   `json:"restarts"`
	Recycling   RecyclingCost  `json:"recycling"`
	Lag         *LagStats      `json:"lag,omitempty"`
	Harness     rundir.Harness `json:"harness"`
	// Probes are the health probes' results and verdicts (run.json's).
	Probes []rundir.ProbeStats `json:"probes,omitempty"`
	// Leak splits worker memory growth by request class (leakfit.go);
	// absent when no response named its worker.
	Leak *LeakStats `json:"leak,omitempty"`
	// Client is the client model of the run, from run.json.
	Client *rundir.ClientInfo `json:"client,omitempty"`
}

// sample accumulates requests for latency statistics in constant memory:
// latencies go into a histogram (quantiles to within 1%), their sum and
// the count stay exact.
type sample struct {
	lat    hist.Histogram
	sum    float64
	count  int64
	ok     int64
	errors map[string]int64
	// reuse counts reuse failures when reuseMeasured (reuse.go).
	reuse         int64
	reuseMeasured bool
}

func (s *sample) add(lat time.Duration, kind string) {
	s.lat.Record(lat)
	s.sum += lat.Seconds()
	s.count++
	if kind == "" {
		s.ok++
		return
	}
	if s.errors == nil {
		s.errors = map[string]int64{}
	}
	s.errors[kind]++
}

func (s *sample) merge(o *sample) {
	s.lat.Merge(&o.lat)
	s.sum += o.sum
	s.count += o.count
	s.ok += o.ok
	s.reuse += o.reuse
	s.reuseMeasured = s.reuseMeasured || o.reuseMeasured
	for k, v := range o.errors {
		if s.errors == nil {
			s.errors = map[string]int64{}
		}
		s.errors[k] += v
	}
}

// quantile returns the q-quantile of the latencies in seconds.
func (s *sample) quantile(q float64) float64 { return s.lat.Quantile(q).Seconds() }

func (s *sample) latency() Latency {
	l := Latency{
		P50:  s.quantile(0.50),
		P90:  s.quantile(0.90),
		P99:  s.quantile(0.99),
		P999: s.quantile(0.999),
		Max:  s.lat.Max().Seconds(),
	}
	if s.count > 0 {
		l.Mean = s.sum / float64(s.count)
	}
	return l
}

func (s *sample) classStats(class string, duration float64) ClassStats {
	c := ClassStats{Class: class, Count: s.count, OK: s.ok, Errors: copyCounts(s.errors), Latency: s.latency()}
	if s.reuseMeasured {
		n := s.reuse
		c.ReuseFailures = &n
	}
	if duration > 0 {
		c.Rate = float64(s.count) / duration
		c.Throughput = float64(s.ok) / duration
	}
	if s.count > 0 {
		c.SuccessRatio = float64(s.ok) / float64(s.count)
		c.ErrorRatio = 1 - c.SuccessRatio
	}
	return c
}

func (s *sample) group() GroupStats {
	g := GroupStats{Count: s.count, Errors: s.count - s.ok, ErrorKinds: copyCounts(s.errors), Latency: s.latency()}
	if s.count > 0 {
		g.ErrorRatio = float64(g.Errors) / float64(s.count)
	}
	return g
}

func copyCounts(m map[string]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]int64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// run is one variant and repeat as read from its directory: its summary,
// the raw samples that pool across repeats, and the series the plots draw.
type run struct {
	info    rundir.RunInfo
	summary RunSummary
	classes map[string]*sample // by class, including AllClass
	in      *sample            // requests in flight during a restart window
	out     *sample            // the others

	timeline map[string][]rundir.TimelineRow // by class
	total    []memPoint                      // total memory per sample
	workers  map[int][]memPoint              // worker memory per pid
	exits    []Exit
	lag      []lagPoint
	lives    []leakLife // for the per-class leak fit
}

type memPoint struct {
	T        float64
	RSS, PSS int64
}

type lagPoint struct {
	T         float64
	Mean, P99 float64
}

// readRun reads and analyses one variant and repeat of d; lo says how
// the per-class leak fit reads it.
func readRun(d *rundir.Dir, ref rundir.RunRef, lo leakOptions) (*run, error) {
	pidHeader := lo.header
	info, err := d.RunInfo(ref)
	if err != nil {
		return nil, err
	}
	r := &run{info: info, classes: map[string]*sample{}, in: &sample{}, out: &sample{},
		timeline: map[string][]rundir.TimelineRow{}, workers: map[int][]memPoint{}}
	s := &r.summary
	s.Variant, s.Repeat, s.Params, s.Partial, s.Error, s.Harness = ref.Variant, ref.Repeat, info.Params, info.Partial, info.Error, info.Harness
	s.Client = info.Client
	s.Duration = loadDuration(info)
	for _, p := range info.Phases {
		if p.Concurrency > 0 {
			s.ClosedModel = true
		}
	}

	if err := optional(rundir.EachTimeline(d.File(ref, rundir.TimelineFile), func(row rundir.TimelineRow) error {
		r.timeline[row.Class] = append(r.timeline[row.Class], row)
		return nil
	})); err != nil {
		return nil, err
	}
	var events []rundir.Event
	if err := optional(rundir.EachEvent(d.File(ref, rundir.EventsFile), func(e rundir.Event) error {
		events = append(events, e)
		return nil
	})); err != nil {
		return nil, err
	}
	var mem []rundir.MemorySample
	if err := optional(rundir.EachMemory(d.File(ref, rundir.MemoryFile), func(m rundir.MemorySample) error {
		mem = append(mem, m)
		return nil
	})); err != nil {
		return nil, err
	}
	var metrics []rundir.MetricSample
	if err := optional(rundir.EachMetric(d.File(ref, rundir.MetricsFile), func(m rundir.MetricSample) error {
		metrics = append(metrics, m)
		return nil
	})); err != nil {
		return nil, err
	}

	roles := pidRoles(mem)
	stop := stopTime(info, events)
	s.Restarts = restarts(events, roles, mem, stop)
	r.exits = s.Restarts.Exits
	windows := unionWindows(s.Restarts.Windows, math.Min(stop, s.Duration))

	start := info.Start
	served := servedLog{pidHeader: pidHeader}
	perClass := newClassLog(pidHeader)
	s.Probes = info.Probes
	probes := probeNames(info)
	if err := optional(rundir.EachResult(d.File(ref, rundir.ResultsFile), func(res *vegeta.Result) error {
		if probes[res.Attack] {
			return nil // a probe's result: not traffic (see Probes)
		}
		class := res.Attack
		if class == "" {
			class = "default"
		}
		kind := errorKind(res)
		for _, c := range []string{class, AllClass} {
			cs := r.classes[c]
			if cs == nil {
				cs = &sample{}
				r.classes[c] = cs
			}
			cs.add(res.Latency, kind)
		}
		lat := res.Latency.Seconds()
		t0 := res.Timestamp.Sub(start).Seconds()
		served.add(res, t0+lat)
		perClass.add(res, class, t0+lat)
		if inWindow(windows, t0, t0+lat) {
			r.in.add(res.Latency, kind)
		} else {
			r.out.add(res.Latency, kind)
		}
		return nil
	})); err != nil {
		return nil, err
	}
	r.addReuse()
	s.Classes = classList(r.classes, s.Duration)
	s.Recycling = recyclingCost(r.in, r.out, s.Restarts.Count, covered(windows), s.Duration)

	r.total, r.workers = memorySeries(mem, roles)
	s.Memory = memoryStats(r.total, r.workers, events, s.Restarts, r.timeline[AllClass], served.series(), stop)
	s.Lag, r.lag = loopLag(metrics)
	r.lives = leakLives(r.workers, perClass.series(), r.exits, lo.warmup, stop)
	return r, nil
}

// optional treats a missing file as empty: a partial run may lack some.
func optional(err error) error {
	if err != nil && isNotExist(err) {
		return nil
	}
	return err
}

// loadDuration returns the seconds of load of a run: the end of its last
// phase, or its start to end when no phases were recorded, whichever is
// shorter when both are known (an interrupted run ends early).
func loadDuration(info rundir.RunInfo) float64 {
	var d float64
	for _, p := range info.Phases {
		d = math.Max(d, p.End)
	}
	if !info.End.IsZero() && !info.Start.IsZero() {
		wall := info.End.Sub(info.Start).Seconds()
		if d == 0 || (wall > 0 && wall < d) {
			d = wall
		}
	}
	return d
}

// classList returns the classes sorted by name with AllClass last.
func classList(m map[string]*sample, duration float64) []ClassStats {
	names := make([]string, 0, len(m))
	for c := range m {
		if c != AllClass {
			names = append(names, c)
		}
	}
	sort.Strings(names)
	names = append(names, AllClass)
	out := make([]ClassStats, 0, len(names))
	for _, c := range names {
		if s := m[c]; s != nil {
			out = append(out, s.classStats(c, duration))
		} else {
			out = append(out, (&sample{}).classStats(c, duration))
		}
	}
	return out
}

// pidRoles maps each sampled pid to its role.
func pidRoles(mem []rundir.MemorySample) map[int]string {
	roles := map[int]string{}
	for _, m := range mem {
		roles[m.PID] = m.Role
	}
	return roles
}

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
	lc := newLoadCurve(load, workers)
	exitAt := map[int]Exit{}
	for _, x := range rs.Exits {
		exitAt[x.PID] = x
	}
	spawnAt := map[int]float64{}
	for _, e := range events {
		if e.Event == "spawn" && e.PID != 0 {
			if _, ok := spawnAt[e.PID]; !ok {
				spawnAt[e.PID] = e.T
			}
		}
	}
	var byHeaders, byExit, byShare bool
	var xs, ys []float64
	pids := make([]int, 0, len(workers))
	for pid := range workers {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	for _, pid := range pids {
		// Samples after the worker's exit (it may linger, freeing memory
		// as it tears down) or after the target was stopped are left out.
		end := stop
		if x, ok := exitAt[pid]; ok {
			end = math.Min(end, x.T)
		}
		var ser []memPoint
		for _, p := range workers[pid] {
			if p.T <= end {
				ser = append(ser, p)
			}
		}
		if len(ser) < 2 {
			continue
		}
		// Requests are counted from the worker's spawn when it was
		// recorded, since the exit's count includes those served before
		// the first sample.
		t0 := ser[0].T
		if t, ok := spawnAt[pid]; ok && t < t0 {
			t0 = t
		}
		x, haveExit := exitAt[pid]
		var reqs []float64
		if pts := served[pid]; len(pts) > 0 {
			var kept []memPoint
			for _, p := range ser {
				if n, ok := servedBy(pts, p.T); ok {
					kept = append(kept, p)
					reqs = append(reqs, n)
				}
			}
			if len(kept) < 2 {
				continue
			}
			byHeaders = true
			ser = kept
		} else if len(load) == 0 {
			continue
		} else if haveExit && x.Requests > 0 && lc.cum(x.T)-lc.cum(t0) > 0 {
			byExit = true
			scale := float64(x.Requests) / (lc.cum(x.T) - lc.cum(t0))
			for _, p := range ser {
				reqs = append(reqs, scale*(lc.cum(p.T)-lc.cum(t0)))
			}
		} else {
			byShare = true
			reqs = lc.shares(t0, ser)
		}
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
	for _, m := range []struct {
		used bool
		name string
	}{{byHeaders, "headers"}, {byExit, "exit_events"}, {byShare, "load_share"}} {
		if m.used {
			methods = append(methods, m.name)
		}
	}
	method := strings.Join(methods, "+")
	return stats.LinearFit(xs, ys), method
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

// loopLag computes lag statistics from a scraped histogram: the increase
// of each bucket between the first and last scrape (a counter that drops
// is taken to have restarted from zero, as a recycled worker's does), and
// per scrape interval the mean and p99 for the plot.
func loopLag(metrics []rundir.MetricSample) (*LagStats, []lagPoint) {
	family := ""
	for _, m := range metrics {
		if name, ok := strings.CutSuffix(m.Metric, "_bucket"); ok {
			if name == LagMetric {
				family = name
				break
			}
			if family == "" && strings.Contains(name, "loop_lag") {
				family = name
			}
		}
	}
	if family == "" {
		return nil, nil
	}
	type key struct{ series, le string }
	last := map[key]float64{}
	born := map[string]float64{} // when each series was first scraped
	var firstT = math.NaN()
	// increases per scrape time: le -> delta, plus sum and count.
	type step struct {
		t          float64
		buckets    map[string]float64
		sum, count float64
	}
	var steps []*step
	cur := func(t float64) *step {
		if n := len(steps); n > 0 && steps[n-1].t == t {
			return steps[n-1]
		}
		s := &step{t: t, buckets: map[string]float64{}}
		steps = append(steps, s)
		return s
	}
	for _, m := range metrics {
		var le string
		series := m.Labels
		switch m.Metric {
		case family + "_bucket":
			le, series = splitLE(m.Labels)
		case family + "_sum", family + "_count":
		default:
			continue
		}
		if math.IsNaN(firstT) {
			firstT = m.T
		}
		k := key{m.Metric + "{" + series + "}", le}
		prev, had := last[k]
		last[k] = m.Value
		if _, ok := born[k.series]; !ok {
			born[k.series] = m.T
		}
		var inc float64
		switch {
		case had && m.Value >= prev:
			inc = m.Value - prev
		case had: // reset
			inc = m.Value
		case born[k.series] == firstT:
			continue // the baseline
		default: // a series born during the run, e.g. a new worker
			inc = m.Value
		}
		st := cur(m.T)
		switch m.Metric {
		case family + "_bucket":
			st.buckets[le] += inc
		case family + "_sum":
			st.sum += inc
		case family + "_count":
			st.count += inc
		}
	}
	total := map[string]float64{}
	var sum, count float64
	var points []lagPoint
	for _, st := range steps {
		for le, v := range st.buckets {
			total[le] += v
		}
		sum += st.sum
		count += st.count
		p := lagPoint{T: st.t, P99: histogramQuantile(0.99, st.buckets)}
		if st.count > 0 {
			p.Mean = st.sum / st.count
		}
		points = append(points, p)
	}
	ls := &LagStats{Metric: family, Count: count, P50: histogramQuantile(0.5, total), P99: histogramQuantile(0.99, total)}
	if count > 0 {
		ls.Mean = sum / count
	}
	return ls, points
}

// splitLE removes the le label from a sorted label set in text form and
// returns its value and the remaining labels.
func splitLE(labels string) (le, rest string) {
	var keep []string
	for _, part := range splitLabels(labels) {
		if v, ok := strings.CutPrefix(part, "le="); ok {
			le = strings.Trim(v, `"`)
			continue
		}
		keep = append(keep, part)
	}
	return le, strings.Join(keep, ",")
}

// splitLabels splits `a="1",b="x,y"` at the commas between labels.
func splitLabels(s string) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// histogramQuantile estimates the q-quantile from cumulative bucket
// counts keyed by their upper bound, interpolating linearly inside the
// bucket as Prometheus's histogram_quantile does. It returns 0 when the
// histogram is empty, and the largest finite bound when the quantile
// falls in the +Inf bucket.
func histogramQuantile(q float64, buckets map[string]float64) float64 {
	type b struct{ le, n float64 }
	var bs []b
	for le, n := range buckets {
		v, err := strconv.ParseFloat(le, 64)
		if err != nil {
			continue
		}
		bs = append(bs, b{v, n})
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	if len(bs) == 0 || bs[len(bs)-1].n <= 0 {
		return 0
	}
	rank := q * bs[len(bs)-1].n
	lower, below := 0.0, 0.0
	for i, x := range bs {
		if x.n >= rank {
			if math.IsInf(x.le, 1) {
				if i == 0 {
					return 0
				}
				return bs[i-1].le
			}
			if x.n == below {
				return x.le
			}
			return lower + (x.le-lower)*(rank-below)/(x.n-below)
		}
		lower, below = x.le, x.n
	}
	return lower
}

func (r *run) String() string { return fmt.Sprintf("%s/%d", r.summary.Variant, r.summary.Repeat) }

// replaced is the number of exits whose replacement was seen, over which
// ReplaceMean and ReplaceMax are taken.
func (r RestartStats) replaced() int {
	n := 0
	for _, x := range r.Exits {
		if x.Replacement != 0 {
			n++
		}
	}
	return n
}

// MarshalJSON leaves out replace_mean and replace_max when no exit was
// replaced: they were not measured, which is not 0.
func (r RestartStats) MarshalJSON() ([]byte, error) {
	type plain RestartStats
	out := struct {
		plain
		ReplaceMean *float64 `json:"replace_mean,omitempty"`
		ReplaceMax  *float64 `json:"replace_max,omitempty"`
	}{plain: plain(r)}
	if r.replaced() > 0 {
		out.ReplaceMean, out.ReplaceMax = &r.ReplaceMean, &r.ReplaceMax
	}
	return json.Marshal(out)
}

// MarshalJSON leaves out error_ratio and latency when the group has no
// requests.
func (g GroupStats) MarshalJSON() ([]byte, error) {
	type plain GroupStats
	out := struct {
		plain
		ErrorRatio *float64 `json:"error_ratio,omitempty"`
		Latency    *Latency `json:"latency,omitempty"`
	}{plain: plain(g)}
	if g.Count > 0 {
		out.ErrorRatio, out.Latency = &g.ErrorRatio, &g.Latency
	}
	return json.Marshal(out)
}

// measured reports whether loop lag was scraped and observed anything.
func (l *LagStats) measured() bool { return l != nil && l.Count > 0 }

// MarshalJSON leaves out mean, p50 and p99 when the histogram observed
// nothing.
func (l LagStats) MarshalJSON() ([]byte, error) {
	type plain LagStats
	out := struct {
		plain
		Mean *float64 `json:"mean,omitempty"`
		P50  *float64 `json:"p50,omitempty"`
		P99  *float64 `json:"p99,omitempty"`
	}{plain: plain(l)}
	if l.Count > 0 {
		out.Mean, out.P50, out.P99 = &l.Mean, &l.P50, &l.P99
	}
	return json.Marshal(out)
}
