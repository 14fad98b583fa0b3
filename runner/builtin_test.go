package runner

import (
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// Test 3 of the issue: against "sawtooth serve" with recycling, the
// sampler sees worker pids come and go, events record each spawn and
// exit, and total PSS never exceeds total RSS.
func TestBuiltinRecycling(t *testing.T) {
	s := &scenarios.Scenario{
		Name: "recycling",
		Target: scenarios.Target{Builtin: map[string]string{
			"workers": "2", "worker_model": "sync", "max_requests": "25", "leak_per_request": "64KiB",
		}},
		Traffic: []scenarios.RequestClass{get("light", "/light")},
		Phases:  []scenarios.Phase{steady("steady", 3*time.Second, 60)},
		Sample: scenarios.Sample{
			Interval: scenarios.Duration(50 * time.Millisecond),
			Metrics:  []scenarios.MetricsSource{{URL: "{{admin_url}}/metrics"}},
		},
		Repeat: 1,
	}
	_, d := runOK(t, s, testOptions(t))
	ref := d.Meta.Runs[0]
	mem := readMemory(t, d, ref)
	workers := map[int]bool{}
	type totals struct{ rss, pss int64 }
	byT := map[float64]*totals{}
	for _, m := range mem {
		if m.Role == "worker" {
			workers[m.PID] = true
		}
		if byT[m.T] == nil {
			byT[m.T] = &totals{}
		}
		byT[m.T].rss += m.RSS
		if m.PSS < 0 {
			t.Fatalf("PSS of %d not read at t=%v", m.PID, m.T)
		}
		byT[m.T].pss += m.PSS
	}
	killSampled(t, mem)
	// 180 requests over 2 workers retiring after 25: about 7 retirements.
	if len(workers) < 5 {
		t.Errorf("sampler saw %d worker pids, want at least 5 (workers recycled)", len(workers))
	}
	for tt, tot := range byT {
		if tot.pss > tot.rss {
			t.Errorf("t=%v: total PSS %d > total RSS %d", tt, tot.pss, tot.rss)
		}
	}
	evs := readEvents(t, d, ref)
	got := map[string]map[int]bool{}
	exitReasons := map[string]int{}
	for _, e := range evs {
		k := e.Source + " " + e.Event
		if got[k] == nil {
			got[k] = map[int]bool{}
		}
		got[k][e.PID] = true
		if e.Source == "server" && e.Event == "exit" {
			exitReasons[e.Reason]++
		}
	}
	// Every worker the sampler saw has a tree spawn and exit, and a
	// server spawn and exit (with its reason).
	for p := range workers {
		for _, k := range []string{"tree spawn", "tree exit", "server spawn", "server exit"} {
			if !got[k][p] {
				t.Errorf("worker %d has no %q event", p, k)
			}
		}
	}
	// Every worker the server retired was seen spawning by the server.
	for p := range got["server exit"] {
		if !got["server spawn"][p] {
			t.Errorf("server exit of %d without its spawn", p)
		}
	}
	if exitReasons["max_requests"] < 3 {
		t.Errorf("server exit reasons %v, want at least 3 max_requests", exitReasons)
	}
	var scraped int
	rundir.EachMetric(d.File(ref, rundir.MetricsFile), func(rundir.MetricSample) error { scraped++; return nil })
	if scraped == 0 {
		t.Error("no metrics scraped from the admin listener")
	}
	ri, _ := d.RunInfo(ref)
	if ri.Harness.MaxRSS <= 0 || ri.Harness.CPUSeconds <= 0 || ri.Harness.RequestedRate != 60 {
		t.Errorf("harness = %+v", ri.Harness)
	}
}
