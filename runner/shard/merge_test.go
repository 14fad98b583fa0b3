package shard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

var startAt = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// fake describes one fake shard run directory.
type fake struct {
	index, count int
	seed         int64
	scenario     string
	start        time.Time
	noShard      bool
	// streams gives the run two streams' harness figures; probes makes
	// shard 0 run a probe (as the runner does), every 200ms.
	streams, probes bool
}

// write writes a shard run directory with one variant and repeat whose
// results are sent at 10ms steps, request k by shard k mod count.
func (f fake) write(t *testing.T, root string) string {
	t.Helper()
	dir := filepath.Join(root, "shard"+strings.Repeat("x", f.index)+time.Now().Format("150405.000000000"))
	ref := rundir.RunRef{Variant: "default", Repeat: 1, Dir: rundir.RunPath("default", 1)}
	if err := os.MkdirAll(filepath.Join(dir, ref.Dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if f.start.IsZero() {
		f.start = startAt
	}
	meta := rundir.Meta{FormatVersion: rundir.FormatVersion, Scenario: "s", Seed: f.seed, Runs: []rundir.RunRef{ref}, Start: f.start, End: f.start.Add(time.Second), Host: "h"}
	if !f.noShard {
		meta.Shard = &rundir.ShardInfo{Index: f.index, Count: f.count, StartAt: f.start}
	}
	if err := rundir.WriteJSON(filepath.Join(dir, rundir.MetaFile), meta); err != nil {
		t.Fatal(err)
	}
	if f.scenario == "" {
		f.scenario = "name: s\n"
	}
	if err := os.WriteFile(filepath.Join(dir, rundir.ScenarioFile), []byte(f.scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	info := rundir.RunInfo{Variant: "default", Repeat: 1, Start: f.start, End: f.start.Add(time.Second), TargetKind: "url",
		Phases:  []rundir.PhaseInfo{{Name: "p", End: 1, RateFrom: 100, RateTo: 100}},
		Harness: rundir.Harness{Requests: 25, RequestedRate: 100 / float64(f.count), AchievedRate: 100 / float64(f.count)},
		Shard:   meta.Shard}
	if f.streams {
		n := float64(f.count)
		info.Harness.Streams = []rundir.StreamHarness{
			{Name: "api", Requests: 20, RequestedRate: 80 / n, AchievedRate: 80 / n, SendLagMax: 0.001 * float64(f.index+1)},
			{Name: "batch", Requests: 5, RequestedRate: 20 / n, AchievedRate: 20 / n},
		}
	}
	probing := f.probes && f.index == 0
	if probing {
		info.Probes = []rundir.ProbeStats{{Name: "live", Kind: "liveness", Path: "/healthz", Every: 0.2, Probes: 5, FailureThreshold: 3}}
	}
	if err := rundir.WriteJSON(filepath.Join(dir, ref.Dir, rundir.RunFile), info); err != nil {
		t.Fatal(err)
	}
	rf, err := os.Create(filepath.Join(dir, ref.Dir, rundir.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	enc := vegeta.NewEncoder(rf)
	for k := 0; k < 100; k++ {
		if probing && k%20 == 0 {
			res := vegeta.Result{Attack: "live", Code: 200, Timestamp: f.start.Add(time.Duration(k)*10*time.Millisecond + 5*time.Millisecond), Latency: time.Millisecond}
			if err := enc.Encode(&res); err != nil {
				t.Fatal(err)
			}
		}
		if k%f.count != f.index {
			continue
		}
		res := vegeta.Result{Attack: "light", Seq: uint64(k), Code: 200, Timestamp: f.start.Add(time.Duration(k) * 10 * time.Millisecond), Latency: time.Duration(k+1) * time.Millisecond}
		if err := enc.Encode(&res); err != nil {
			t.Fatal(err)
		}
	}
	if err := rf.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// merge refuses directories that are not the shards of one run, with an
// error saying why, and writes nothing.
func TestMergeRefuses(t *testing.T) {
	root := t.TempDir()
	s0 := fake{index: 0, count: 2, seed: 1}.write(t, root)
	s1 := fake{index: 1, count: 2, seed: 1}.write(t, root)
	for _, tc := range []struct {
		name string
		dirs []string
		want string
	}{
		{"missing", []string{s0}, "shard 1 of 2 missing"},
		{"twice", []string{s0, s0, s1}, "given twice"},
		{"seed", []string{s0, fake{index: 1, count: 2, seed: 2}.write(t, root)}, "--seed"},
		{"count", []string{s0, fake{index: 1, count: 3, seed: 1}.write(t, root)}, "different shard counts"},
		{"scenario", []string{s0, fake{index: 1, count: 2, seed: 1, scenario: "name: s\nrepeat: 2\n"}.write(t, root)}, "different settings"},
		{"start", []string{s0, fake{index: 1, count: 2, seed: 1, start: startAt.Add(time.Second)}.write(t, root)}, "share --start-at"},
		{"not a shard", []string{s0, fake{index: 1, count: 2, seed: 1, noShard: true}.write(t, root)}, "not a shard's run"},
		{"no such dir", []string{s0, filepath.Join(root, "nope")}, "meta.json"},
	} {
		out := filepath.Join(root, "out-"+strings.ReplaceAll(tc.name, " ", "-"))
		_, err := Merge(tc.dirs, out, Options{})
		if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Merge = %v, want ErrMismatch saying %q", tc.name, err, tc.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: %s was written", tc.name, out)
		}
	}
	out := filepath.Join(root, "merged")
	if _, err := Merge([]string{s1, s0}, out, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Merge([]string{s1, s0}, out, Options{}); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("merge into an existing --out = %v, want a refusal", err)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 8 {
		t.Errorf("%d entries in the test directory, want the 7 shards and the merged run (a temporary left behind?)", len(ents))
	}
}

// The merged run has every result once, in order of send time, the
// timeline recomputed from them, the harness summed, and, with --partial,
// a missing shard marked.
func TestMergeResults(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for i := range 3 {
		dirs = append(dirs, fake{index: i, count: 3, seed: 1}.write(t, root))
	}
	out := filepath.Join(root, "merged")
	meta, err := Merge(dirs, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if meta.Partial || meta.Merged == nil || len(meta.Merged.Shards) != 3 || meta.Shard != nil {
		t.Errorf("meta = %+v, want three shards merged, not partial", meta)
	}
	ref := meta.Runs[0]
	var prev time.Time
	n := 0
	err = rundir.EachResult(filepath.Join(out, ref.Dir, rundir.ResultsFile), func(r *vegeta.Result) error {
		if r.Timestamp.Before(prev) {
			t.Errorf("result %d sent at %v, before the one before it", n, r.Timestamp)
		}
		if want := startAt.Add(time.Duration(n) * 10 * time.Millisecond); !r.Timestamp.Equal(want) {
			t.Errorf("result %d sent at %v, want %v", n, r.Timestamp, want)
		}
		prev = r.Timestamp
		n++
		return nil
	})
	if err != nil || n != 100 {
		t.Fatalf("merged results: %d, %v; want 100", n, err)
	}
	var all int64
	var p99 float64
	if err := rundir.EachTimeline(filepath.Join(out, ref.Dir, rundir.TimelineFile), func(r rundir.TimelineRow) error {
		if r.Class == "all" {
			all += r.Count
			p99 = r.P99
		}
		return nil
	}); err != nil || all != 100 {
		t.Fatalf("timeline counts %d requests (%v), want 100", all, err)
	}
	if p99 < 0.098 || p99 > 0.101 {
		t.Errorf("timeline p99 of the only interval = %v, want ≈ 0.099 (of 1..100ms)", p99)
	}
	info, err := (&rundir.Dir{Path: out}).RunInfo(ref)
	if err != nil {
		t.Fatal(err)
	}
	if info.Harness.Requests != 75 || info.Harness.RequestedRate < 99.9 || info.Harness.RequestedRate > 100.1 {
		t.Errorf("merged harness = %+v, want 75 requests (3×25) at 100 req/s requested", info.Harness)
	}

	meta, err = Merge(dirs[:2], filepath.Join(root, "partial"), Options{Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	if !meta.Partial || len(meta.Merged.Missing) != 1 || meta.Merged.Missing[0] != 2 || !strings.Contains(meta.Reason, "without shard 2") {
		t.Errorf("--partial without shard 2: meta = %+v", meta)
	}
}

// With streams and probes, the merged run.json sums each stream's
// harness figures over the shards and keeps the probe results of the
// shard that ran them (shard 0) once; the probe's results stay in
// results.bin but out of the timeline.
func TestMergeStreamsProbes(t *testing.T) {
	root := t.TempDir()
	var dirs []string
	for i := range 4 {
		dirs = append(dirs, fake{index: i, count: 4, seed: 1, streams: true, probes: true}.write(t, root))
	}
	out := filepath.Join(root, "merged")
	meta, err := Merge(dirs, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref := meta.Runs[0]
	info, err := (&rundir.Dir{Path: out}).RunInfo(ref)
	if err != nil {
		t.Fatal(err)
	}
	st := info.Harness.Streams
	if len(st) != 2 || st[0].Name != "api" || st[1].Name != "batch" {
		t.Fatalf("merged harness.streams = %+v, want api and batch", st)
	}
	if st[0].Requests != 80 || st[0].RequestedRate < 79.9 || st[0].RequestedRate > 80.1 || st[0].SendLagMax != 0.004 {
		t.Errorf("merged api stream = %+v, want 80 requests at 80 req/s, the worst shard's lag 0.004", st[0])
	}
	if st[1].Requests != 20 || st[1].AchievedRate < 19.9 || st[1].AchievedRate > 20.1 {
		t.Errorf("merged batch stream = %+v, want 20 requests at 20 req/s", st[1])
	}
	if len(info.Probes) != 1 || info.Probes[0].Name != "live" || info.Probes[0].Probes != 5 {
		t.Errorf("merged probes = %+v, want shard 0's one probe with 5 results", info.Probes)
	}
	probes, traffic := 0, 0
	if err := rundir.EachResult(filepath.Join(out, ref.Dir, rundir.ResultsFile), func(r *vegeta.Result) error {
		if r.Attack == "live" {
			probes++
		} else {
			traffic++
		}
		return nil
	}); err != nil || probes != 5 || traffic != 100 {
		t.Fatalf("merged results: %d probe and %d traffic results (%v), want 5 and 100", probes, traffic, err)
	}
	var all int64
	if err := rundir.EachTimeline(filepath.Join(out, ref.Dir, rundir.TimelineFile), func(r rundir.TimelineRow) error {
		if r.Class == "live" {
			t.Errorf("the timeline has a row for the probe: %+v", r)
		}
		if r.Class == "all" {
			all += r.Count
		}
		return nil
	}); err != nil || all != 100 {
		t.Fatalf("timeline counts %d requests (%v), want the 100 of the traffic", all, err)
	}
}
