package runner

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/attack"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// A shard that reaches --start-at late says by how much (warning, event,
// run.json), keeps the common clock (its run starts at --start-at) and
// sends its share of the requests; a shard on time waits for it.
func TestShardStartAt(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/light" {
			hits.Add(1)
		}
	}))
	defer srv.Close()
	s := urlScenario(t, srv.URL, "  interval: 100ms", "  - {duration: 2s, rate: 40}")

	at := time.Now().Add(-700 * time.Millisecond)
	var progress strings.Builder
	res, err := Run(context.Background(), s, Options{Dir: filepath.Join(t.TempDir(), "late"), Shard: attack.Shard{Index: 1, Count: 2}, StartAt: at, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	d, err := rundir.Open(res.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if sh := d.Meta.Shard; sh == nil || sh.Index != 1 || sh.Count != 2 || !sh.StartAt.Equal(at.UTC()) {
		t.Errorf("meta.json shard = %+v, want 1/2 from %v", d.Meta.Shard, at)
	}
	info, err := d.RunInfo(res.Runs[0])
	if err != nil {
		t.Fatal(err)
	}
	if info.Shard == nil || info.Shard.Late < 0.65 || info.Shard.Late > 5 {
		t.Errorf("run.json shard = %+v, want late ≈ 0.7s", info.Shard)
	}
	if !info.Start.Equal(at.UTC()) {
		t.Errorf("run started at %v, want --start-at %v", info.Start, at)
	}
	if !strings.Contains(progress.String(), "SHARD 1/2 STARTED LATE") || len(info.Harness.Warnings) == 0 || !strings.Contains(strings.Join(info.Harness.Warnings, "\n"), "STARTED LATE") {
		t.Errorf("no late warning: progress %q, warnings %q", progress.String(), info.Harness.Warnings)
	}
	// 40 req/s for 2s: 80 in all, the odd-numbered 40 this shard's.
	if got := hits.Load(); got != 40 || info.Harness.Requests != 40 {
		t.Errorf("shard 1/2 sent %d requests (run.json %d), want 40 of the 80", got, info.Harness.Requests)
	}
	if r := info.Harness.RequestedRate; r < 19.9 || r > 20.1 {
		t.Errorf("the shard's requested rate = %v, want its share, 20 req/s", r)
	}

	hits.Store(0)
	at = time.Now().Add(1500 * time.Millisecond)
	res, err = Run(context.Background(), s, Options{Dir: filepath.Join(t.TempDir(), "on-time"), Shard: attack.Shard{Index: 0, Count: 2}, StartAt: at})
	if err != nil {
		t.Fatal(err)
	}
	d, _ = rundir.Open(res.Dir)
	info, _ = d.RunInfo(res.Runs[0])
	if info.Shard == nil || info.Shard.Late != 0 || !info.Start.Equal(at.UTC()) || hits.Load() != 40 {
		t.Errorf("on time: shard %+v, start %v (want %v), %d requests (want 40)", info.Shard, info.Start, at, hits.Load())
	}
}

// Every shard starts run j of a multi-variant or repeated run at the same
// instant, from the scenario alone: the run before's phases, its longest
// request timeout and slotSlack after that run's start.
func TestNextStart(t *testing.T) {
	s := urlScenario(t, "http://127.0.0.1:1", "  interval: 100ms", "  - {duration: 2s, rate: 40}\n  - {duration: 3s, concurrency: 2}")
	v := s.Expand()[0]
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	if got, want := nextStart(at, s, v, Options{Timeout: time.Second}), at.Add(5*time.Second+time.Second+slotSlack); !got.Equal(want) {
		t.Errorf("nextStart = %v, want %v", got, want)
	}
	if got, want := nextStart(at, s, v, Options{}), at.Add(5*time.Second+DefaultTimeout+slotSlack); !got.Equal(want) {
		t.Errorf("nextStart with the default timeout = %v, want %v", got, want)
	}
	if got := nextStart(time.Time{}, s, v, Options{}); !got.IsZero() {
		t.Errorf("nextStart without a start time = %v, want zero", got)
	}
}

// Sharding applies per stream: two shards of a scenario with two open
// streams (one Poisson) and a closed-model stream, run together against
// one server, send each open stream's planned requests exactly once
// between them (its Schedule from the stream's seed, striped k mod 2),
// split the closed stream's clients 2 and 1, and only shard 0 runs the
// probe, on its schedule.
func TestShardStreams(t *testing.T) {
	var light, bunched, probes atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/light":
			light.Add(1)
		case "/bunched":
			bunched.Add(1)
		case "/live":
			probes.Add(1)
		case "/batch":
			time.Sleep(20 * time.Millisecond)
		}
	}))
	defer srv.Close()
	yml := `name: shard-streams
target:
  url:
    base_url: ` + srv.URL + `
    ready: {url: /healthz, timeout: 10s}
streams:
  - name: light
    traffic: [{name: light, weight: 1, path: /light}]
    phases: [{duration: 2s, rate: 41}]
  - name: bunched
    arrival: poisson
    traffic: [{name: bunched, weight: 1, path: /bunched}]
    phases: [{duration: 2s, rate: 13}]
  - name: batch
    traffic: [{name: batch, weight: 1, path: /batch}]
    phases: [{duration: 1s, concurrency: 3}]
probes:
  - {name: live, kind: liveness, path: /live, every: 500ms, timeout: 400ms}
sample:
  interval: 100ms
`
	s := parseScenario(t, "shard-streams.yaml", yml)
	at := time.Now().Add(2 * time.Second)
	infos := make([]rundir.RunInfo, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := Run(context.Background(), s, Options{Dir: filepath.Join(t.TempDir(), "shard"), Shard: attack.Shard{Index: i, Count: 2}, StartAt: at})
			if err != nil {
				errs[i] = err
				return
			}
			d, err := rundir.Open(res.Dir)
			if err != nil {
				errs[i] = err
				return
			}
			infos[i], errs[i] = d.RunInfo(res.Runs[0])
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("shard %d/2: %v", i, err)
		}
	}
	want := map[string]int{}
	for i, st := range s.StreamList()[:2] {
		ph := st.Phases[0]
		segs := []attack.Segment{{Duration: ph.Duration.D(), From: ph.Rate.From, To: ph.Rate.To, Poisson: scenarios.PhaseArrival(st, ph) == scenarios.ArrivalPoisson}}
		want[st.Name] = len(attack.Schedule(segs, uint64(streamSeed(1, i))))
	}
	if got := light.Load(); got != int64(want["light"]) || got != 82 {
		t.Errorf("light: the shards sent %d, want the stream's plan %d (82)", got, want["light"])
	}
	if got := bunched.Load(); got != int64(want["bunched"]) {
		t.Errorf("bunched (Poisson): the shards sent %d, want the stream's plan %d", got, want["bunched"])
	}
	for i, in := range infos {
		if len(in.Harness.Streams) != 3 {
			t.Fatalf("shard %d/2: harness.streams = %+v, want 3 streams", i, in.Harness.Streams)
		}
		if st := in.Harness.Streams[0]; st.Name != "light" || st.Requests != 41 || math.Abs(st.RequestedRate-20.5) > 0.01 {
			t.Errorf("shard %d/2: light stream %+v, want 41 requests at 20.5 req/s requested", i, st)
		}
		var conc int
		for _, ph := range in.Phases {
			if ph.Stream == "batch" {
				conc = ph.Concurrency
			}
		}
		if wantC := []int{2, 1}[i]; conc != wantC {
			t.Errorf("shard %d/2: batch phase ran %d clients, want %d of 3", i, conc, wantC)
		}
	}
	if len(infos[0].Probes) != 1 || infos[0].Probes[0].Probes < 3 || len(infos[1].Probes) != 0 {
		t.Errorf("probes: shard 0 %+v, shard 1 %+v; want shard 0's alone", infos[0].Probes, infos[1].Probes)
	}
	if got := probes.Load(); got != int64(infos[0].Probes[0].Probes) {
		t.Errorf("the server saw %d probes, shard 0 recorded %d", got, infos[0].Probes[0].Probes)
	}
}
