package runner

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
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
	var evbuf bytes.Buffer
	events := newEventLog(rundir.NewEventWriter(&evbuf))
	events.start(t0)
	streams := oneStream(segs)
	rec := newRecorder(vegeta.NewEncoder(&buf), tl, streams, t0, &live, events)
	rec.add(0, testResult(0, t0.Add(100*time.Millisecond), 200))
	rec.add(0, testResult(1, t0.Add(200*time.Millisecond), 500))
	// A probe: in results.bin under its name and in the events, never in
	// the traffic's timeline or counters.
	rec.add(-1, &vegeta.Result{Attack: "live", Seq: 0, Code: 0, Error: "timeout", Timestamp: t0.Add(300 * time.Millisecond), Latency: time.Second, URL: "http://127.0.0.1:8000/healthz"})
	rec.add(0, testResult(2, t0.Add(1500*time.Millisecond), 200))
	if rec.err != nil {
		t.Fatal(rec.err)
	}
	if err := tl.Close(); err != nil {
		t.Fatal(err)
	}

	dec := vegeta.NewDecoder(&buf)
	for i, n := 0, uint64(0); ; i++ {
		var res vegeta.Result
		err := dec.Decode(&res)
		if err == io.EOF {
			if i != 4 {
				t.Fatalf("results.bin holds %d results, want 4", i)
			}
			break
		}
		if err != nil {
			t.Fatalf("result %d: %v", i, err)
		}
		if i == 2 {
			if res.Attack != "live" || res.Error != "timeout" {
				t.Errorf("result 2: %+v, want the probe live", res)
			}
			continue
		}
		if res.Attack != "light" || res.URL != "http://127.0.0.1:8000/light?n=1" || res.Seq != n {
			t.Errorf("result %d: attack %q url %q seq %d, want light, the URL without its fragment, %d", i, res.Attack, res.URL, res.Seq, n)
		}
		n++
	}
	if live.requests != 3 || live.errors != 1 || live.hist.Count() != 3 {
		t.Errorf("live: %d requests, %d errors, %d latencies; want 3, 1, 3", live.requests, live.errors, live.hist.Count())
	}
	if streams[0].sentOpen != 2 || streams[0].sent != 3 {
		t.Errorf("sent in open-model phases: %v of %d, want 2 of 3", streams[0].sentOpen, streams[0].sent)
	}
	if p := rec.probes["live"]; len(p) != 1 || p[0].OK || p[0].T != 0.3 {
		t.Errorf("probe results %+v, want one failure at 0.3s", p)
	}
	events.flush()
	if !strings.Contains(evbuf.String(), `"source":"probe"`) || !strings.Contains(evbuf.String(), "timeout") {
		t.Errorf("events %s, want the probe's failure", evbuf.String())
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
	rec := newRecorder(vegeta.NewEncoder(bufio.NewWriterSize(io.Discard, 256<<10)), tl, oneStream(segs), t0, &live, nil)
	res := make([]*vegeta.Result, 1024)
	for i := range res {
		res[i] = testResult(uint64(i), t0.Add(time.Duration(i)*70*time.Microsecond), 200)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r := *res[i%len(res)]
		rec.add(0, &r)
	}
	if rec.err != nil {
		b.Fatal(rec.err)
	}
}

// oneStream is the one stream of segs, as the recorder sees it.
func oneStream(segs []attack.Segment) []*liveStream {
	return []*liveStream{{plan: streamPlan{name: "default", segments: segs}, pacer: attack.NewPacer(segs, nil)}}
}
