package analysis

import (
	"fmt"
	"math"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/reports/runread"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// run is one variant and repeat as analysed: its summary,
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

// analyseRun analyses one variant and repeat as read; lo says how the
// per-class leak fit reads it.
func analyseRun(rr *runread.Run, lo leakOptions) (*run, error) {
	info, ref := rr.Info, rr.Ref
	r := &run{info: info, classes: map[string]*sample{}, in: &sample{}, out: &sample{},
		timeline: rr.Timeline, workers: map[int][]memPoint{}}
	s := &r.summary
	s.Variant, s.Repeat, s.Params, s.Partial, s.Error, s.Harness = ref.Variant, ref.Repeat, info.Params, info.Partial, info.Error, info.Harness
	s.Client = info.Client
	s.Duration = loadDuration(info)
	for _, p := range info.Phases {
		if p.Concurrency > 0 {
			s.ClosedModel = true
		}
	}
	events, mem := rr.Events, rr.Memory

	roles := pidRoles(mem)
	stop := stopTime(info, events)
	s.Restarts = restarts(events, roles, mem, stop)
	r.exits = s.Restarts.Exits
	windows := unionWindows(s.Restarts.Windows, math.Min(stop, s.Duration))

	s.Probes = info.Probes
	served := servedLog{pidHeader: lo.header}
	perClass := newClassLog(lo.header)
	if err := r.addResults(rr, windows, &served, perClass); err != nil {
		return nil, err
	}
	r.addReuse()
	s.Classes = classList(r.classes, s.Duration)
	s.Recycling = recyclingCost(r.in, r.out, s.Restarts.Count, covered(windows), s.Duration)

	r.total, r.workers = memorySeries(mem, roles)
	s.Memory = memoryStats(r.total, r.workers, events, s.Restarts, r.timeline[AllClass], served.series(), stop)
	s.Lag, r.lag = loopLag(rr.Metrics)
	r.lives = leakLives(r.workers, perClass.series(), r.exits, lo.warmup, stop)
	return r, nil
}

// addResults streams rr's results into r's samples by class and inside or
// outside the restart windows, and into the logs of who served what.
// Probe results are not traffic (see Probes) and are left out.
func (r *run) addResults(rr *runread.Run, windows []RestartWindow, served *servedLog, perClass *classLog) error {
	start := rr.Info.Start
	probes := probeNames(rr.Info)
	return rr.EachResult(func(res *vegeta.Result) error {
		if probes[res.Attack] {
			return nil
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
	})
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

// pidRoles maps each sampled pid to its role.
func pidRoles(mem []rundir.MemorySample) map[int]string {
	roles := map[int]string{}
	for _, m := range mem {
		roles[m.PID] = m.Role
	}
	return roles
}

func (r *run) String() string { return fmt.Sprintf("%s/%d", r.summary.Variant, r.summary.Repeat) }

// readRun reads and analyses one variant and repeat of d.
func readRun(d *runread.Dir, ref rundir.RunRef, lo leakOptions) (*run, error) {
	rr, err := d.Run(ref)
	if err != nil {
		return nil, err
	}
	return analyseRun(rr, lo)
}
