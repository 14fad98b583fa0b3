package runner

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/attack"
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
