package analysis

import (
	"maps"
	"slices"
	"sort"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

// ClassSeries is one request class of one run over time.
type ClassSeries struct {
	Class string
	// T is each interval's middle in seconds; P50 and P99 latencies are
	// seconds; OK and Errors are responses per second.
	T, P50, P99, OK, Errors []float64
}

// WorkerSeries is one worker process's memory over its life.
type WorkerSeries struct {
	PID int
	T   []float64 // seconds
	RSS []float64 // bytes
}

// Series is what the charts show of one variant: the time series of its
// first repeat and numbers merged over repeats.
type Series struct {
	Name   string
	Params map[string]string
	// Classes over time, "all" included.
	Classes []ClassSeries
	// Exits are worker exit times in seconds.
	Exits []float64
	// Marks are other moments to mark on the timelines (probe verdicts).
	Marks []Marks
	// MemT and Mem are total memory (PSS, or RSS when MemLabel says so)
	// over time, seconds and bytes.
	MemT, Mem []float64
	MemLabel  string
	Workers   []WorkerSeries
	// LagT, LagP99 and LagMean are the loop lag per scrape interval in
	// seconds (empty when none was scraped).
	LagT, LagP99, LagMean []float64
	// Percentiles are latencies (all classes, seconds) at the
	// percentiles of PercentilePoints.
	Percentiles []float64
	// ClassP99 is the p99 latency per class (seconds), PeakMem the peak
	// total memory (bytes).
	ClassP99 map[string]float64
	PeakMem  float64
}

// PercentilePoints are the percentiles of Series.Percentiles.
var PercentilePoints = []float64{50, 90, 99, 99.9, 99.99}

// Marks are moments to mark on the timeline charts with one label, such
// as the times a liveness probe would have had the container restarted.
type Marks struct {
	Label string
	T     []float64 // seconds since the start
}

// Series returns what the charts show of every variant: the first
// repeat's series and numbers merged over its repeats (the percentiles
// pool every repeat's requests).
func (r *Report) Series() []Series {
	var out []Series
	for i := range r.Summary.Variants {
		v := &r.Summary.Variants[i]
		runs := r.runs[v.Name]
		if len(runs) == 0 {
			continue
		}
		first := runs[0]
		pv := Series{Name: v.Name, Params: v.Params, ClassP99: map[string]float64{},
			Classes: classSeries(first.timeline), Marks: probeMarks(first.info.Probes), Workers: workerSeries(first.workers)}
		for _, x := range first.exits {
			pv.Exits = append(pv.Exits, x.T)
		}
		pv.MemLabel, pv.MemT, pv.Mem = totalSeries(first)
		for _, p := range first.lag {
			pv.LagT = append(pv.LagT, p.T)
			pv.LagP99 = append(pv.LagP99, p.P99)
			pv.LagMean = append(pv.LagMean, p.Mean)
		}
		all := r.pooled[v.Name]
		if all == nil {
			all = &sample{}
		}
		for _, p := range PercentilePoints {
			pv.Percentiles = append(pv.Percentiles, all.quantile(p/100))
		}
		for _, c := range v.Classes {
			pv.ClassP99[c.Class] = c.Latency.P99
		}
		if m, ok := v.Metric("memory.pss.peak"); ok {
			pv.PeakMem = m.Value
		} else if m, ok := v.Metric("memory.rss.peak"); ok {
			pv.PeakMem = m.Value
		}
		out = append(out, pv)
	}
	return out
}

// classSeries turns a timeline's rows into per-second rates at each
// interval's middle, class "all" first and the others by name.
func classSeries(timeline map[string][]rundir.TimelineRow) []ClassSeries {
	classes := make([]string, 0, len(timeline))
	for c := range timeline {
		classes = append(classes, c)
	}
	sort.Slice(classes, func(i, j int) bool {
		if (classes[i] == AllClass) != (classes[j] == AllClass) {
			return classes[i] == AllClass
		}
		return classes[i] < classes[j]
	})
	var out []ClassSeries
	for _, c := range classes {
		cs := ClassSeries{Class: c}
		for _, row := range timeline[c] {
			iv := row.Interval
			if iv <= 0 {
				iv = 1
			}
			cs.T = append(cs.T, row.T+iv/2)
			cs.P50 = append(cs.P50, row.P50)
			cs.P99 = append(cs.P99, row.P99)
			cs.OK = append(cs.OK, float64(row.OK)/iv)
			cs.Errors = append(cs.Errors, float64(row.Errors)/iv)
		}
		out = append(out, cs)
	}
	return out
}

// totalSeries is a run's total memory over time: PSS, or RSS when PSS
// could not be read.
func totalSeries(r *run) (label string, ts, mem []float64) {
	usePSS := r.summary.Memory.PSSAvailable
	label = "total PSS"
	if !usePSS {
		label = "total RSS"
	}
	for _, p := range r.total {
		ts = append(ts, p.T)
		if usePSS {
			mem = append(mem, float64(p.PSS))
		} else {
			mem = append(mem, float64(p.RSS))
		}
	}
	return label, ts, mem
}

// workerSeries is each worker's RSS over its life, by pid (not in map
// order: the charts must not change from one report to the next).
func workerSeries(workers map[int][]memPoint) []WorkerSeries {
	var out []WorkerSeries
	for _, pid := range slices.Sorted(maps.Keys(workers)) {
		ws := WorkerSeries{PID: pid}
		for _, p := range workers[pid] {
			ws.T = append(ws.T, p.T)
			ws.RSS = append(ws.RSS, float64(p.RSS))
		}
		out = append(out, ws)
	}
	return out
}

// probeMarks are the verdicts of a run's probes as marks on the
// timeline: liveness restarts and the starts of readiness outages.
func probeMarks(ps []rundir.ProbeStats) []Marks {
	var out []Marks
	for _, p := range ps {
		switch {
		case len(p.Restarts) > 0:
			out = append(out, Marks{Label: p.Name + " restart (liveness)", T: p.Restarts})
		case len(p.Unready) > 0:
			m := Marks{Label: p.Name + " out of rotation (readiness)"}
			for _, iv := range p.Unready {
				m.T = append(m.T, iv.From)
			}
			out = append(out, m)
		}
	}
	return out
}
