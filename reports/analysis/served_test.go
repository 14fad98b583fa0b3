package analysis

import (
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
)

// TestPerRequestBehind: a target that serves 80 req/s while 100 req/s
// are sent falls behind, so its workers serve (and leak) later than the
// requests were sent. With the X-Worker-* headers the per-request leak is
// recovered within 5% and the method says so; without them the report
// falls back to the load by send time, which over-counts requests served
// and under-states the leak, as on real gunicorn.
func TestPerRequestBehind(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	const perReq = 256 << 10
	headers := fixture.Variant{Name: "headers", Repeats: 1, Duration: 10, Rate: 100, Capacity: 80, Classes: classes,
		Workers: 2, LeakPerRequest: perReq, NoiseRSS: 256 << 10, Headers: true, Seed: 5}
	plain := headers
	plain.Name, plain.Headers = "plain", false
	recycled := headers
	recycled.Name, recycled.MaxRequests = "recycled", 150
	rep := build(t, headers, plain, recycled)

	for _, v := range rep.Summary.Variants {
		m := v.Runs[0].Memory
		got := m.WorkerRSSPerRequest.Slope
		t.Logf("%s: %.0f B/req (%+.1f%%), R² %.3f, method %s", v.Name, got, 100*(got/perReq-1), m.WorkerRSSPerRequest.R2, m.RequestsMethod)
		switch v.Name {
		case "headers", "recycled":
			if m.RequestsMethod != "headers" {
				t.Errorf("%s: requests method %q, want headers", v.Name, m.RequestsMethod)
			}
			if math.Abs(got/perReq-1) > 0.05 {
				t.Errorf("%s: per-request slope %.0f B/req, want %d ±5%%", v.Name, got, perReq)
			}
		case "plain":
			if m.RequestsMethod != "load_share" {
				t.Errorf("plain: requests method %q, want load_share", m.RequestsMethod)
			}
			// The fixture must reproduce the bias the headers remove.
			if got > 0.9*perReq {
				t.Errorf("plain: per-request slope %.0f B/req, want the send-time estimate under %.0f (the target fell behind)", got, 0.9*perReq)
			}
		}
	}
}

// TestServedLog: points are kept one per 100 ms per worker (the largest
// count), never decreasing, and interpolated between responses.
func TestServedLog(t *testing.T) {
	var s servedLog
	start := fixture.Start
	res := func(pid, n int, at float64) *vegeta.Result {
		h := http.Header{}
		h.Set(HeaderWorkerPid, strconv.Itoa(pid))
		h.Set(HeaderWorkerRequests, strconv.Itoa(n))
		return &vegeta.Result{Timestamp: start.Add(time.Duration(at * float64(time.Second))), Headers: h}
	}
	// 10,000 responses over 2 s from worker 7, one from a threaded worker
	// counted earlier but completed later, and one without headers.
	for i := 1; i <= 10000; i++ {
		at := 2 * float64(i) / 10000
		s.add(res(7, i, at), at)
	}
	s.add(res(8, 5, 0.55), 0.55)
	s.add(res(8, 4, 0.65), 0.65)
	s.add(&vegeta.Result{Timestamp: start}, 0.7)
	series := s.series()
	if n := len(series[7]); n > 21 {
		t.Errorf("worker 7 kept %d points for 2 s, want at most one per 100 ms (21)", n)
	}
	if len(series) != 2 {
		t.Errorf("workers = %d, want 2", len(series))
	}
	if n, ok := servedBy(series[7], 1.0); !ok || math.Abs(n-5000) > 60 {
		t.Errorf("worker 7 at 1 s: %.0f (known %v), want about 5000", n, ok)
	}
	if _, ok := servedBy(series[7], 0.0001); ok {
		t.Error("worker 7 before its first response: known, want unknown")
	}
	if n, _ := servedBy(series[7], 5); n != 10000 {
		t.Errorf("worker 7 after its last response: %.0f, want 10000", n)
	}
	if n, _ := servedBy(series[8], 0.7); n != 5 {
		t.Errorf("worker 8 at 0.7 s: %.0f, want 5 (counts never decrease)", n)
	}
}

// TestPerRequestTeardown: a worker that lingers after its exit event,
// freeing its leaked memory as it tears down, and one still sampled after
// the target was stopped, do not bend the fit: samples after a worker's
// exit or after the stop are left out.
func TestPerRequestTeardown(t *testing.T) {
	const perReq = 100 << 10
	workers := map[int][]memPoint{}
	served := map[int][]servedPoint{}
	for pid, exit := range map[int]float64{1: 5, 2: math.Inf(1)} {
		for i := 0; i <= 40; i++ {
			at := 0.25 * float64(i)
			n := int64(10 * at) // 10 requests a second
			rss := int64(30<<20) + n*perReq
			if at > 5 { // torn down, or shutting down after the stop at 5 s
				n, rss = min(n, 50), 30<<20
			}
			workers[pid] = append(workers[pid], memPoint{T: at, RSS: rss})
			if at <= min(exit, 5) && n > 0 {
				served[pid] = append(served[pid], servedPoint{T: at, N: n})
			}
		}
	}
	rs := RestartStats{Exits: []Exit{{T: 5, PID: 1}}}
	fit, method := perRequestFit(workers, nil, rs, nil, served, 5)
	if method != "headers" || math.Abs(fit.Slope/perReq-1) > 0.01 {
		t.Errorf("fit %.0f B/req by %q, want %d by headers", fit.Slope, method, perReq)
	}
}
