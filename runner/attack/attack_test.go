package attack

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Test 1 of the issue: weights are honoured within ±2% over 10,000
// requests with a fixed seed, and the seed fixes the sequence.
func TestTargeterWeights(t *testing.T) {
	classes := []Class{
		{Name: "light", Weight: 70, Method: "GET", URL: "http://127.0.0.1:1/light"},
		{Name: "heavy", Weight: 20, Method: "GET", URL: "http://127.0.0.1:1/cpu?ms=5"},
		{Name: "never", Weight: 0, Method: "GET", URL: "http://127.0.0.1:1/never"},
		{Name: "leak", Weight: 10, Method: "POST", URL: "http://127.0.0.1:1/leak#frag"},
	}
	tr, err := NewTargeter(classes, 42)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000
	counts := map[string]int{}
	var seq []string
	vt := tr.Targeter()
	for i := 0; i < n; i++ {
		var tgt vegeta.Target
		if err := vt(&tgt); err != nil {
			t.Fatal(err)
		}
		res := vegeta.Result{URL: tgt.URL}
		Tag(&res)
		counts[res.Attack]++
		seq = append(seq, res.Attack)
		if res.Attack == "leak" && (res.URL != "http://127.0.0.1:1/leak" || tgt.Method != "POST") {
			t.Fatalf("leak target: URL %q method %s", res.URL, tgt.Method)
		}
	}
	for _, c := range classes {
		got := float64(counts[c.Name]) / n
		want := c.Weight / 100
		if math.Abs(got-want) > 0.02 {
			t.Errorf("class %s: share %.4f, want %.2f ± 0.02", c.Name, got, want)
		}
	}
	if counts["never"] != 0 {
		t.Errorf("zero-weight class chosen %d times", counts["never"])
	}

	again, _ := NewTargeter(classes, 42)
	other, _ := NewTargeter(classes, 43)
	diff := 0
	for i := 0; i < n; i++ {
		if got := classes[again.Next()].Name; got != seq[i] {
			t.Fatalf("same seed, request %d: class %s, first time %s", i, got, seq[i])
		}
		if classes[other.Next()].Name != seq[i] {
			diff++
		}
	}
	if diff == 0 {
		t.Error("seeds 42 and 43 gave the same sequence")
	}
}

func TestTargeterRejects(t *testing.T) {
	for _, cs := range [][]Class{
		nil,
		{{Name: "a", Weight: 0}},
		{{Name: "a", Weight: -1}, {Name: "b", Weight: 2}},
		{{Name: "a#b", Weight: 1}},
	} {
		if _, err := NewTargeter(cs, 1); err == nil {
			t.Errorf("NewTargeter(%+v) = nil error", cs)
		}
	}
}

// simulate runs a pacer on a virtual clock, sending each request the
// moment it is due, and returns the send offsets.
func simulate(t *testing.T, segs []Segment) []time.Duration {
	t.Helper()
	p := NewPacer(segs, nil)
	base := time.Unix(1000, 0)
	var elapsed time.Duration
	p.now = func() time.Time { return base.Add(elapsed) }
	p.fakeSleep = func(d time.Duration) {
		if d < 0 {
			t.Fatalf("negative wait %v at %v", d, elapsed)
		}
		elapsed += d
	}
	var sent []time.Duration
	for hits := uint64(0); ; hits++ {
		wait, stop := p.Pace(elapsed, hits)
		if stop {
			if elapsed < p.Total() {
				t.Errorf("stopped at %v, before the end %v", elapsed, p.Total())
			}
			return sent
		}
		if wait != 0 {
			t.Fatalf("Pace returned wait %v; it should wait itself", wait)
		}
		sent = append(sent, elapsed)
	}
}

// The schedule follows constant, ramp-up, ramp-down and idle segments
// to within one request per second.
func TestPacerSchedule(t *testing.T) {
	segs := []Segment{
		{Name: "const", Duration: 2 * time.Second, From: 100, To: 100},
		{Name: "up", Duration: 4 * time.Second, From: 50, To: 150},
		{Name: "idle", Duration: time.Second},
		{Name: "down", Duration: 2 * time.Second, From: 200, To: 0},
	}
	sent := simulate(t, segs)
	perSec := make([]int, 9)
	for _, s := range sent {
		perSec[int(s/time.Second)]++
	}
	want := []float64{100, 100, 62.5, 87.5, 112.5, 137.5, 0, 150, 50}
	for i, w := range want {
		if math.Abs(float64(perSec[i])-w) > 1 {
			t.Errorf("second %d: %d requests scheduled, want %.1f ± 1", i, perSec[i], w)
		}
	}
	p := NewPacer(segs, nil)
	if got := p.Rate(3 * time.Second); math.Abs(got-75) > 1e-9 {
		t.Errorf("Rate(3s) = %v, want 75", got)
	}
	if got := p.Rate(6500 * time.Millisecond); got != 0 {
		t.Errorf("Rate in idle phase = %v, want 0", got)
	}
}

// Test 2 of the issue: a ramp's achieved rate per second, measured from
// the send times of real requests to a loopback server, follows the ramp
// within 5%. A stall of the machine (other tests share its two cores) can
// push a few requests over a second's boundary, so the ramp gets three
// tries, and one must follow it.
func TestRampAchieved(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	var problems []string
	for try := 1; try <= 3; try++ {
		problems = rampTry(t, srv.URL)
		if len(problems) == 0 {
			return
		}
		t.Logf("try %d: %s", try, strings.Join(problems, "; "))
	}
	t.Errorf("the achieved rate did not follow the ramp in 3 tries; the last: %s", strings.Join(problems, "; "))
}

// rampTry sends a 4 s ramp from 50 to 150 req/s at url and returns how
// the requests sent per second missed it.
func rampTry(t *testing.T, url string) []string {
	segs := []Segment{{Name: "ramp", Duration: 4 * time.Second, From: 50, To: 150}}
	stop := make(chan struct{})
	p := NewPacer(segs, stop)
	tr, err := NewTargeter([]Class{{Name: "x", Weight: 1, Method: "GET", URL: url + "/"}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	atk := vegeta.NewAttacker(vegeta.Timeout(5 * time.Second))
	start := time.Now()
	perSec := make([]int, 5)
	lagged := 0
	for res := range atk.Attack(tr.Targeter(), p, p.Total()+time.Second, "ramp") {
		p.Done()
		if res.Error != "" {
			t.Fatalf("request failed: %s", res.Error)
		}
		perSec[min(int(res.Timestamp.Sub(start)/time.Second), 4)]++
		if _, ok := p.Due(res.Seq); ok {
			lagged++
		}
	}
	var problems []string
	want := []float64{62.5, 87.5, 112.5, 137.5}
	for i, w := range want {
		if math.Abs(float64(perSec[i])-w) > 0.05*w {
			problems = append(problems, fmt.Sprintf("second %d: %d requests sent, want %.1f ± 5%%", i, perSec[i], w))
		}
	}
	if perSec[4] > 1 {
		problems = append(problems, fmt.Sprintf("%d requests after the ramp ended", perSec[4]))
	}
	if lagged < 390 {
		problems = append(problems, fmt.Sprintf("send lag known for %d of ~400 requests", lagged))
	}
	return problems
}

// A closed-model phase keeps exactly Concurrency requests in flight,
// back to back, between two open phases.
func TestClosedModel(t *testing.T) {
	var inflight atomic.Int64
	var mu sync.Mutex
	type arrival struct {
		at time.Time
		n  int64
	}
	var arrivals []arrival
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		mu.Lock()
		arrivals = append(arrivals, arrival{time.Now(), n})
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		inflight.Add(-1)
	}))
	defer srv.Close()
	segs := []Segment{
		{Name: "open", Duration: 500 * time.Millisecond, From: 20, To: 20},
		{Name: "closed", Duration: 1500 * time.Millisecond, Concurrency: 4},
		{Name: "open2", Duration: 500 * time.Millisecond, From: 20, To: 20},
	}
	p := NewPacer(segs, make(chan struct{}))
	tr, _ := NewTargeter([]Class{{Name: "x", Weight: 1, Method: "GET", URL: srv.URL + "/"}}, 1)
	atk := vegeta.NewAttacker(vegeta.Timeout(5 * time.Second))
	start := time.Now()
	phase := make([]int, 3)
	for res := range atk.Attack(tr.Targeter(), p, p.Total()+time.Second, "closed") {
		p.Done()
		if res.Error != "" {
			t.Fatalf("request failed: %s", res.Error)
		}
		// By the phase that scheduled the request, not by when it was
		// sent: on a loaded machine an open phase's last requests may go
		// out late, after the closed phase has begun.
		switch due, open := p.Due(res.Seq); {
		case !open:
			phase[1]++
		case due.Sub(p.began) < 500*time.Millisecond:
			phase[0]++
		default:
			phase[2]++
		}
	}
	// Well inside the closed phase (away from the open phases' requests),
	// the server sees at most 4 requests at once, and 4 at some point.
	var peak int64
	for _, a := range arrivals {
		if off := a.at.Sub(start); off > 700*time.Millisecond && off < 1800*time.Millisecond {
			peak = max(peak, a.n)
		}
	}
	if peak != 4 {
		t.Errorf("peak requests in flight during the closed phase = %d, want 4", peak)
	}
	// 4 clients × 1.5 s / ~20 ms each: about 300; at least a third of
	// that even on a loaded machine, and never more than the bound.
	if phase[1] < 100 || phase[1] > 300+4 {
		t.Errorf("closed phase sent %d requests, want 100..304", phase[1])
	}
	for _, i := range []int{0, 2} {
		if phase[i] < 8 || phase[i] > 12 {
			t.Errorf("open phase %d sent %d requests, want 10 ± 2", i, phase[i])
		}
	}
}

// Closing the stop channel ends a closed-model phase waiting for a client.
func TestPacerStop(t *testing.T) {
	stop := make(chan struct{})
	p := NewPacer([]Segment{{Duration: time.Hour, Concurrency: 1}}, stop)
	if w, s := p.Pace(0, 0); w != 0 || s {
		t.Fatalf("first Pace = %v, %v", w, s)
	}
	done := make(chan bool)
	go func() { _, s := p.Pace(time.Millisecond, 1); done <- s }()
	close(stop)
	select {
	case s := <-done:
		if !s {
			t.Error("Pace after stop did not say stop")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Pace still waiting after stop")
	}
}

// When every phase is closed-model the attacker runs as many workers as
// the largest concurrency, and a phase of that concurrency still never
// has more requests in flight, though Pace lets one more wait for a
// worker; a phase of less concurrency keeps to its own.
func TestClosedModelWorkers(t *testing.T) {
	if n := NewPacer([]Segment{{Duration: time.Second, From: 1, To: 1}, {Duration: time.Second, Concurrency: 3}}, nil).Workers(); n != 0 {
		t.Errorf("Workers with an open-model phase = %d, want 0 (unbounded)", n)
	}
	var inflight atomic.Int64
	var mu sync.Mutex
	peaks := map[string]int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		mu.Lock()
		peaks[r.URL.Query().Get("at")] = max(peaks[r.URL.Query().Get("at")], n)
		mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}))
	defer srv.Close()
	segs := []Segment{
		{Name: "four", Duration: 600 * time.Millisecond, Concurrency: 4},
		{Name: "two", Duration: 600 * time.Millisecond, Concurrency: 2},
	}
	p := NewPacer(segs, make(chan struct{}))
	if p.Workers() != 4 {
		t.Fatalf("Workers = %d, want 4", p.Workers())
	}
	start := time.Now()
	tr := func(tgt *vegeta.Target) error {
		// Tag each request with the phase it is sent in, leaving out the
		// 100 ms after the change, while the first phase's requests end.
		at := "four"
		switch el := time.Since(start); {
		case el > 700*time.Millisecond:
			at = "two"
		case el > 550*time.Millisecond:
			at = "change"
		}
		tgt.Method, tgt.URL = http.MethodGet, srv.URL+"/?at="+at
		return nil
	}
	atk := vegeta.NewAttacker(vegeta.Workers(uint64(p.Workers())), vegeta.MaxWorkers(uint64(p.Workers())))
	n := 0
	for res := range atk.Attack(tr, p, p.Total()+time.Second, "") {
		p.Done()
		if res.Error != "" {
			t.Fatalf("request failed: %s", res.Error)
		}
		n++
	}
	mu.Lock()
	defer mu.Unlock()
	if peaks["four"] != 4 || peaks["two"] != 2 {
		t.Errorf("peak requests in flight: %d in the phase of 4, %d in the phase of 2; want 4 and 2", peaks["four"], peaks["two"])
	}
	// 4 clients × 0.6 s / ~10 ms + 2 × 0.6 s / ~10 ms: at most 360 and
	// the few scheduled as a phase ends.
	if n < 60 || n > 360+6 {
		t.Errorf("sent %d requests, want 60..366", n)
	}
}
