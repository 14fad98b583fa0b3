package runner

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/attack"
	"github.com/sawtooth-dev/sawtooth/runner/stats"
)

// testResult is a result as the attacker returns it for a request of
// class "light" answered like the benchmark's trivial server answers.
func testResult(seq uint64, ts time.Time, code uint16) *vegeta.Result {
	return &vegeta.Result{
		Attack:    "scenario",
		Seq:       seq,
		Code:      code,
		Timestamp: ts,
		Latency:   3 * time.Millisecond,
		BytesIn:   6,
		Method:    http.MethodGet,
		URL:       "http://127.0.0.1:8000/light?n=1#light",
		Body:      []byte("hello\n"),
		Headers: http.Header{
			"Content-Type":   {"text/plain; charset=utf-8"},
			"Content-Length": {"6"},
			"Date":           {"Sun, 22 Nov 2026 12:00:00 GMT"},
		},
	}
}

// The recorder writes every result to results.bin as vegeta reads it,
// with the URL sent and the class name in Attack, and counts it in the
// timeline, the live counters and the open-model count.
func TestRecorder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	segs := []attack.Segment{
		{Name: "open", Duration: time.Second, From: 10, To: 10},
		{Name: "closed", Duration: time.Second, Concurrency: 4},
	}
	var rows []rundir.TimelineRow
	tl := stats.NewTimeline(t0, time.Second, time.Second, func(r rundir.TimelineRow) error {
		rows = append(rows, r)
		return nil
	})
	var buf bytes.Buffer
	var live liveStats
	rec := newRecorder(vegeta.NewEncoder(&buf), tl, attack.NewPacer(segs, nil), segs, t0, &live)
	rec.add(testResult(0, t0.Add(100*time.Millisecond), 200))
	rec.add(testResult(1, t0.Add(200*time.Millisecond), 500))
	rec.add(testResult(2, t0.Add(1500*time.Millisecond), 200))
	if rec.err != nil {
		t.Fatal(rec.err)
	}
	if err := tl.Close(); err != nil {
		t.Fatal(err)
	}

	dec := vegeta.NewDecoder(&buf)
	for i := 0; ; i++ {
		var res vegeta.Result
		err := dec.Decode(&res)
		if err == io.EOF {
			if i != 3 {
				t.Fatalf("results.bin holds %d results, want 3", i)
			}
			break
		}
		if err != nil {
			t.Fatalf("result %d: %v", i, err)
		}
		if res.Attack != "light" || res.URL != "http://127.0.0.1:8000/light?n=1" || res.Seq != uint64(i) {
			t.Errorf("result %d: attack %q url %q seq %d, want light, the URL without its fragment, %d", i, res.Attack, res.URL, res.Seq, i)
		}
	}
	if live.requests != 3 || live.errors != 1 || live.hist.Count() != 3 {
		t.Errorf("live: %d requests, %d errors, %d latencies; want 3, 1, 3", live.requests, live.errors, live.hist.Count())
	}
	if rec.sentOpen != 2 {
		t.Errorf("sent in open-model phases: %v, want 2", rec.sentOpen)
	}
	want := map[string]int64{"light@0": 2, "all@0": 2, "light@1": 1, "all@1": 1}
	if len(rows) != len(want) {
		t.Fatalf("timeline rows %+v, want %v", rows, want)
	}
	for _, r := range rows {
		if n := want[r.Class+"@"+map[float64]string{0: "0", 1: "1"}[r.T]]; n != r.Count {
			t.Errorf("timeline row %+v: count %d, want %d", r, r.Count, n)
		}
	}
}

// BenchmarkRecord measures the harness's work per result after the
// attacker returns it, the part of the work per request that vegeta
// attack does not do (besides encoding): one op is one result.
func BenchmarkRecord(b *testing.B) {
	t0 := time.Now()
	segs := []attack.Segment{{Name: "max", Duration: time.Hour, Concurrency: 64}}
	tl := stats.NewTimeline(t0, time.Second, 3*time.Second, func(rundir.TimelineRow) error { return nil })
	var live liveStats
	pacer := attack.NewPacer(segs, nil)
	rec := newRecorder(vegeta.NewEncoder(bufio.NewWriterSize(io.Discard, 256<<10)), tl, pacer, segs, t0, &live)
	res := make([]*vegeta.Result, 1024)
	for i := range res {
		res[i] = testResult(uint64(i), t0.Add(time.Duration(i)*70*time.Microsecond), 200)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := *res[i%len(res)]
		rec.add(&r)
	}
	if rec.err != nil {
		b.Fatal(rec.err)
	}
}
