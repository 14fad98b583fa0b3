package promsrc

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/common/model"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

// Result is what a run's range of Prometheus data gives.
type Result struct {
	// Memory are memory.csv rows, role worker, sorted by time then pid,
	// with T in seconds since the start given to Fetch. PSS is -1 (not
	// known) and CPU 0.
	Memory []rundir.MemorySample
	// Events are spawns and exits (Source EventSource), in time order.
	Events []rundir.Event
	// Series is the number of worker series the memory query returned.
	Series int
	// Labels maps a pid of Memory to its worker label's value, when the
	// values are not pids themselves and were numbered.
	Labels map[int]string
	// Restarts is the counter's rise over the range (-1 without a
	// restarts query); Unmatched of them ended no worker series.
	Restarts, Unmatched int
	// Jobs are the "job" labels of the memory series.
	Jobs []string
}

// Fetch queries the memory and restarts over [start, end] and turns them
// into rows and events. Times are relative to start.
func (s *Source) Fetch(ctx context.Context, start, end time.Time) (*Result, error) {
	mem, err := s.queryRange(ctx, "memory", s.cfg.Memory, start, end)
	if err != nil {
		return nil, err
	}
	res := &Result{Restarts: -1, Jobs: jobs(mem)}
	workers := s.group(mem)
	res.Series = len(workers)
	pids, labels := pidsOf(workers)
	if len(labels) > 0 {
		res.Labels = labels
	}
	rel := func(t model.Time) float64 { return t.Time().Sub(start).Seconds() }
	var ends []exitAt
	for _, w := range workers {
		pid := pids[w.label]
		for _, p := range w.points {
			res.Memory = append(res.Memory, rundir.MemorySample{T: rel(p.t), PID: pid, Role: "worker", RSS: int64(p.v), PSS: -1})
		}
		first, last := w.points[0], w.points[len(w.points)-1]
		res.Events = append(res.Events, rundir.Event{Time: first.t.Time(), Source: EventSource, Event: "spawn", PID: pid, RSS: int64(first.v),
			Message: fmt.Sprintf("series %s=%q appeared", s.cfg.Worker, w.label)})
		// A series that stops before the end of the range is a worker
		// that exited by the next step.
		if at := last.t.Time().Add(s.cfg.Step); !at.After(end) {
			ends = append(ends, exitAt{t: at, pid: pid, rss: int64(last.v), label: w.label})
		}
	}
	sort.SliceStable(res.Memory, func(i, j int) bool {
		a, b := res.Memory[i], res.Memory[j]
		if a.T != b.T {
			return a.T < b.T
		}
		return a.PID < b.PID
	})
	var rises []rise
	if s.cfg.Restarts != "" {
		cnt, err := s.queryRange(ctx, "restarts", s.cfg.Restarts, start, end)
		if err != nil {
			return nil, err
		}
		rises = counterRises(cnt, start, s.cfg.Worker)
		res.Restarts = len(rises)
	}
	res.Events = append(res.Events, s.exits(ends, rises, pids, &res.Unmatched)...)
	sort.SliceStable(res.Events, func(i, j int) bool { return res.Events[i].Time.Before(res.Events[j].Time) })
	return res, nil
}

// point is one value of a series.
type point struct {
	t model.Time
	v float64
}

// worker is the points of one worker label value, its series summed.
type worker struct {
	label  string
	points []point
}

// group sums the series of each worker label value (a pod's containers)
// per timestamp, in order of first appearance.
func (s *Source) group(m model.Matrix) []*worker {
	byLabel := map[string]map[model.Time]float64{}
	firstAt := map[string]model.Time{}
	for _, ss := range m {
		label := string(ss.Metric[model.LabelName(s.cfg.Worker)])
		if byLabel[label] == nil {
			byLabel[label] = map[model.Time]float64{}
		}
		for _, p := range ss.Values {
			if math.IsNaN(float64(p.Value)) || math.IsInf(float64(p.Value), 0) {
				continue
			}
			byLabel[label][p.Timestamp] += float64(p.Value)
			if t, ok := firstAt[label]; !ok || p.Timestamp < t {
				firstAt[label] = p.Timestamp
			}
		}
	}
	var out []*worker
	for label, pts := range byLabel {
		if len(pts) == 0 {
			continue
		}
		w := &worker{label: label}
		for t, v := range pts {
			w.points = append(w.points, point{t, v})
		}
		sort.Slice(w.points, func(i, j int) bool { return w.points[i].t < w.points[j].t })
		out = append(out, w)
	}
	sort.Slice(out, func(i, j int) bool {
		if firstAt[out[i].label] != firstAt[out[j].label] {
			return firstAt[out[i].label] < firstAt[out[j].label]
		}
		return out[i].label < out[j].label
	})
	return out
}

// pidsOf gives each worker a pid: its label's value when every value is
// a positive integer, else 1, 2, ... in order of appearance, returned
// with the labels they stand for.
func pidsOf(ws []*worker) (map[string]int, map[int]string) {
	pids := map[string]int{}
	numeric := true
	for _, w := range ws {
		n, err := strconv.Atoi(w.label)
		if err != nil || n <= 0 || n > math.MaxInt32 {
			numeric = false
			break
		}
		pids[w.label] = n
	}
	if numeric {
		return pids, nil
	}
	labels := map[int]string{}
	for i, w := range ws {
		pids[w.label] = i + 1
		labels[i+1] = w.label
	}
	return pids, labels
}

// rise is one increment of the restarts counter.
type rise struct {
	t      time.Time
	reason string
	worker string // the counter's worker label, "" when it has none
}

// exitAt is a worker series that ended.
type exitAt struct {
	t     time.Time
	pid   int
	rss   int64
	label string
}

// counterRises returns one rise per unit the counter's series went up,
// at the step where it did. A drop is a reset (counted from 0, as
// Prometheus's increase does); a series that appears after start rose
// from 0 (a counter with labels has no series until its first increment).
func counterRises(m model.Matrix, start time.Time, workerLabel string) []rise {
	var out []rise
	startT := model.TimeFromUnixNano(start.UnixNano())
	for _, ss := range m {
		reason := string(ss.Metric["reason"])
		worker := string(ss.Metric[model.LabelName(workerLabel)])
		prev := math.NaN()
		for i, p := range ss.Values {
			v := float64(p.Value)
			var inc float64
			switch {
			case i == 0 && p.Timestamp > startT:
				inc = v
			case i == 0:
			case v < prev:
				inc = v
			default:
				inc = v - prev
			}
			prev = v
			for n := int(math.Round(inc)); n > 0; n-- {
				out = append(out, rise{t: p.Timestamp.Time(), reason: reason, worker: worker})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].t.Before(out[j].t) })
	return out
}

// exits makes the exit events: each series that ended, with the reason
// of the counter rise nearest it (within three steps and 2 s, and of the
// same worker when the counter has the worker label); each other rise of
// a known worker (a container restarted in its pod: its series goes on)
// as an exit and a spawn of that worker; and each rise left, without a pid.
func (s *Source) exits(ends []exitAt, rises []rise, pids map[string]int, unmatched *int) []rundir.Event {
	sort.SliceStable(ends, func(i, j int) bool { return ends[i].t.Before(ends[j].t) })
	window := 3*s.cfg.Step + 2*time.Second
	used := make([]bool, len(rises))
	var out []rundir.Event
	for _, e := range ends {
		best := -1
		for i, r := range rises {
			if used[i] || (r.worker != "" && r.worker != e.label) {
				continue
			}
			d := r.t.Sub(e.t).Abs()
			if d <= window && (best < 0 || d < rises[best].t.Sub(e.t).Abs()) {
				best = i
			}
		}
		ev := rundir.Event{Time: e.t, Source: EventSource, Event: "exit", PID: e.pid, RSS: e.rss,
			Message: fmt.Sprintf("series %s=%q ended", s.cfg.Worker, e.label)}
		if best >= 0 {
			used[best] = true
			ev.Reason = rises[best].reason
		}
		out = append(out, ev)
	}
	for i, r := range rises {
		if pid, ok := pids[r.worker]; ok && !used[i] && r.worker != "" {
			used[i] = true
			msg := fmt.Sprintf("the restarts counter of %s=%q rose: the worker restarted", s.cfg.Worker, r.worker)
			out = append(out, rundir.Event{Time: r.t, Source: EventSource, Event: "exit", PID: pid, Reason: r.reason, Message: msg},
				rundir.Event{Time: r.t, Source: EventSource, Event: "spawn", PID: pid, Message: msg})
		}
		if !used[i] {
			*unmatched++
			out = append(out, rundir.Event{Time: r.t, Source: EventSource, Event: "exit", Reason: r.reason,
				Message: "the restarts counter rose but no worker series ended then (a worker that lived less than a scrape interval)"})
		}
	}
	return out
}
