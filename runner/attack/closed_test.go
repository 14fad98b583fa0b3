package attack

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// quorumWait bounds how long a phaseServer holds a request for its
// quorum: far longer than any stall of a loaded machine, so a phase that
// does keep its clients in flight always meets it, and one that does not
// fails in bounded time.
const quorumWait = 10 * time.Second

// phaseServer is a loopback server for the closed-model tests. Each
// request's path names the phase that scheduled it (phaseTargeter). The
// server counts the requests of each phase in flight, and all of them,
// and keeps the most it saw when a request of that phase arrived. A phase
// with a quorum q holds its requests until q of them are in flight
// together, once, then answers each after hold: whether a closed phase of
// q clients ever has q requests in flight then depends on the Pacer, not
// on a loaded machine happening to overlap them, and hold bounds how many
// requests a phase can send in its time.
type phaseServer struct {
	*httptest.Server
	hold time.Duration

	mu       sync.Mutex
	total    int
	inflight map[string]int
	peak     map[string]int // the most of the phase's in flight at once
	peakAll  map[string]int // the most of all in flight as one of the phase's arrived
	quorum   map[string]int
	met      map[string]chan struct{}
}

func newPhaseServer(t *testing.T, hold time.Duration, quorum map[string]int) *phaseServer {
	s := &phaseServer{hold: hold, inflight: map[string]int{}, peak: map[string]int{}, peakAll: map[string]int{}, quorum: quorum, met: map[string]chan struct{}{}}
	for ph := range quorum {
		s.met[ph] = make(chan struct{})
	}
	s.Server = httptest.NewServer(s)
	t.Cleanup(s.Close)
	return s
}

func (s *phaseServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ph := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	s.total++
	s.inflight[ph]++
	s.peak[ph] = max(s.peak[ph], s.inflight[ph])
	s.peakAll[ph] = max(s.peakAll[ph], s.total)
	met := s.met[ph]
	if met != nil && s.inflight[ph] >= s.quorum[ph] {
		select {
		case <-met:
		default:
			close(met)
		}
	}
	s.mu.Unlock()
	if met != nil {
		select {
		case <-met:
		case <-time.After(quorumWait):
		}
	}
	time.Sleep(s.hold)
	s.mu.Lock()
	s.total--
	s.inflight[ph]--
	s.mu.Unlock()
}

// peaks returns the peaks of phase ph: of its own requests in flight, and
// of all requests in flight as one of its arrived.
func (s *phaseServer) peaks(ph string) (own, all int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak[ph], s.peakAll[ph]
}

// phaseTargeter sends each request of p's segment i to srv's path
// /NAME, NAME being the segment's name, and tags its result with it. It
// uses IndexedTargeter, which takes each request's segment from the
// Pacer's ticks, so the i-th request sent carries the i-th tick's
// segment: per phase, the tags count exactly what the Pacer scheduled.
func phaseTargeter(t *testing.T, srv string, p *Pacer, segs []Segment) vegeta.Targeter {
	t.Helper()
	classes := make([]Class, len(segs))
	weights := make([][]float64, len(segs))
	for i, sg := range segs {
		classes[i] = Class{Name: sg.Name, Weight: 1, Method: http.MethodGet, URL: srv + "/" + sg.Name}
		weights[i] = make([]float64, len(segs))
		weights[i][i] = 1
	}
	tr, err := NewTargeter(classes, 1)
	if err != nil {
		t.Fatal(err)
	}
	return IndexedTargeter(tr, p, weights, 1)
}

// attackPhases runs segs against srv and returns the requests sent per
// phase, by their tags.
func attackPhases(t *testing.T, srv string, segs []Segment, opts ...func(*vegeta.Attacker)) (*Pacer, map[string]int) {
	t.Helper()
	p := NewPacer(segs, make(chan struct{}))
	tr := phaseTargeter(t, srv, p, segs)
	if n := p.Workers(); n > 0 {
		opts = append(opts, vegeta.Workers(uint64(n)), vegeta.MaxWorkers(uint64(n)))
	}
	atk := vegeta.NewAttacker(append(opts, vegeta.Timeout(2*quorumWait))...)
	sent := map[string]int{}
	// The bound is long: the Pacer itself ends the attack once its phases
	// have run and it has sent every open-model request due.
	for res := range atk.Attack(tr, p, p.Total()+2*quorumWait, "closed") {
		p.Done()
		if res.Error != "" {
			t.Fatalf("request failed: %s", res.Error)
		}
		Tag(res)
		sent[res.Attack]++
	}
	return p, sent
}

// A closed-model phase keeps exactly Concurrency requests in flight,
// back to back, between two open phases, which send their schedules.
//
// Counts and peaks, not times: the server holds the closed phase's first
// requests until 4 are in flight (so a loaded machine cannot keep them
// from overlapping), the open phases send exactly their 10 scheduled
// requests each (the Pacer sends late rather than drops), and the closed
// phase's count has an upper bound from the server's 20 ms per request.
// How close it comes to that bound is a speed, measured by
// BenchmarkClosedModel.
func TestClosedModel(t *testing.T) {
	const hold = 20 * time.Millisecond
	segs := []Segment{
		{Name: "open", Duration: 500 * time.Millisecond, From: 20, To: 20},
		{Name: "closed", Duration: 1500 * time.Millisecond, Concurrency: 4},
		{Name: "open2", Duration: 500 * time.Millisecond, From: 20, To: 20},
	}
	srv := newPhaseServer(t, hold, map[string]int{"closed": 4})
	_, sent := attackPhases(t, srv.URL, segs)
	t.Logf("sent %v", sent)
	for _, ph := range []string{"open", "open2"} {
		if sent[ph] != 10 {
			t.Errorf("open phase %s sent %d requests, want its schedule's 10", ph, sent[ph])
		}
	}
	if own, _ := srv.peaks("closed"); own != 4 {
		t.Errorf("peak requests of the closed phase in flight = %d, want 4", own)
	}
	// 4 clients × 1.5 s / 20 ms each is at most 300 answered within the
	// phase, plus the 4 still in flight when it ends. At least two rounds
	// of the 4 clients: they send again once answered.
	if n := sent["closed"]; n < 2*4 || n > 300+4 {
		t.Errorf("closed phase sent %d requests, want 8..304", n)
	}
}

// When every phase is closed-model the attacker runs as many workers as
// the largest concurrency, and a phase of that concurrency still never
// has more requests in flight, though Pace lets one more wait for a
// worker; a phase of less concurrency keeps to its own. As in
// TestClosedModel, the server holds each phase's first requests until it
// has its concurrency in flight, and the counts have upper bounds from
// the server's 10 ms per request.
func TestClosedModelWorkers(t *testing.T) {
	if n := NewPacer([]Segment{{Duration: time.Second, From: 1, To: 1}, {Duration: time.Second, Concurrency: 3}}, nil).Workers(); n != 0 {
		t.Errorf("Workers with an open-model phase = %d, want 0 (unbounded)", n)
	}
	const hold = 10 * time.Millisecond
	segs := []Segment{
		{Name: "four", Duration: 600 * time.Millisecond, Concurrency: 4},
		// 1 s: the phase of 4's last requests must end before this one
		// has 2 in flight, and it must still be running then.
		{Name: "two", Duration: time.Second, Concurrency: 2},
	}
	if n := NewPacer(segs, nil).Workers(); n != 4 {
		t.Fatalf("Workers = %d, want 4", n)
	}
	srv := newPhaseServer(t, hold, map[string]int{"four": 4, "two": 2})
	_, sent := attackPhases(t, srv.URL, segs)
	t.Logf("sent %v", sent)
	four, fourAll := srv.peaks("four")
	two, twoAll := srv.peaks("two")
	if four != 4 || fourAll > 4 {
		t.Errorf("phase of 4: peak %d of its requests in flight, %d of all; want 4 and at most 4", four, fourAll)
	}
	// The phase of 2 sends only while fewer than 2 are in flight, the
	// phase of 4's last ones included, so no more than 2 are in flight
	// whenever one of its requests arrives.
	if two != 2 || twoAll > 2 {
		t.Errorf("phase of 2: peak %d of its requests in flight, %d of all; want 2 and at most 2", two, twoAll)
	}
	// Clients × the phase / 10 ms answered within each phase, plus those
	// in flight or waiting for a worker when it ends; two rounds at least.
	if n := sent["four"]; n < 2*4 || n > 240+5 {
		t.Errorf("phase of 4 sent %d requests, want 8..245", n)
	}
	if n := sent["two"]; n < 2*2 || n > 200+2 {
		t.Errorf("phase of 2 sent %d requests, want 4..202", n)
	}
}

// A closed-model phase sends back to back: Pace schedules a request at
// once while fewer than Concurrency are in flight (one more when the
// workers bound them), and otherwise waits for a Done, not for a time.
func TestPacerClosedBackToBack(t *testing.T) {
	for _, tc := range []struct {
		name  string
		segs  []Segment
		limit uint64
	}{
		{"open-model phases too", []Segment{{Duration: time.Hour, Concurrency: 3}, {Duration: time.Second, From: 1, To: 1}}, 3},
		{"workers bound", []Segment{{Duration: time.Hour, Concurrency: 3}}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stop := make(chan struct{})
			defer close(stop)
			p := NewPacer(tc.segs, stop)
			hits := uint64(0)
			for ; hits < tc.limit; hits++ {
				if w, s := p.Pace(0, hits); w != 0 || s {
					t.Fatalf("Pace with %d in flight = %v, %v; want 0, false at once", hits, w, s)
				}
			}
			for round := 0; round < 3; round++ {
				done := make(chan bool, 1)
				go func(hits uint64) { _, s := p.Pace(time.Millisecond, hits); done <- s }(hits)
				select {
				case <-done:
					t.Fatalf("round %d: Pace returned with %d in flight, want it to wait for a Done", round, tc.limit)
				case <-time.After(50 * time.Millisecond):
				}
				p.Done()
				select {
				case s := <-done:
					if s {
						t.Fatalf("round %d: Pace after a Done said stop", round)
					}
				case <-time.After(quorumWait):
					t.Fatalf("round %d: Pace still waiting after a Done", round)
				}
				hits++
			}
		})
	}
}

// A Pacer that falls behind (a stalled machine) still sends the whole
// schedule of every open-model phase, late, instead of dropping what was
// due when the phase ended; the requests keep their due times, so the
// lateness shows as send lag.
func TestPacerCatchesUp(t *testing.T) {
	segs := []Segment{
		{Name: "a", Duration: time.Second, From: 10, To: 10},
		{Name: "pause", Duration: time.Second},
		{Name: "b", Duration: time.Second, From: 10, To: 10},
	}
	p := NewPacer(segs, nil)
	base := time.Unix(1000, 0)
	var elapsed time.Duration
	p.now = func() time.Time { return base.Add(elapsed) }
	sleeps := 0
	p.fakeSleep = func(d time.Duration) {
		// Every fourth wait oversleeps by 1.7 s: past a's end and into
		// b, and past b's end.
		if sleeps++; sleeps%4 == 0 {
			d += 1700 * time.Millisecond
		}
		elapsed += d
	}
	var dues []time.Duration
	for hits := uint64(0); ; hits++ {
		_, stop := p.Pace(elapsed, hits)
		if stop {
			break
		}
		due, ok := p.Due(hits)
		if !ok {
			t.Fatalf("request %d has no due time", hits)
		}
		if d := due.Sub(base); d > elapsed {
			t.Fatalf("request %d sent at %v, before it was due at %v", hits, elapsed, d)
		}
		dues = append(dues, due.Sub(base))
	}
	if len(dues) != 20 {
		t.Fatalf("sent %d requests, want the schedules' 20: due at %v", len(dues), dues)
	}
	for i, d := range dues {
		want := time.Duration(i) * 100 * time.Millisecond
		if i >= 10 {
			want += time.Second
		}
		if d != want {
			t.Errorf("request %d due at %v, want %v", i, d, want)
		}
	}
	if elapsed < p.Total() {
		t.Errorf("stopped at %v, before the end %v", elapsed, p.Total())
	}
}

// BenchmarkClosedModel measures how near a closed-model phase comes to
// back to back: 4 clients for 1 s against a server that answers after
// 10 ms could send 400 requests; it reports the requests sent per phase
// and that share of 400 ("efficiency"), which the machine's load lowers
// (TestClosedModel checks only the bounds that hold under any load).
func BenchmarkClosedModel(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(10 * time.Millisecond) }))
	defer srv.Close()
	tr, err := NewTargeter([]Class{{Name: "x", Weight: 1, Method: http.MethodGet, URL: srv.URL + "/"}}, 1)
	if err != nil {
		b.Fatal(err)
	}
	sent := 0
	for i := 0; i < b.N; i++ {
		p := NewPacer([]Segment{{Name: "closed", Duration: time.Second, Concurrency: 4}}, make(chan struct{}))
		atk := vegeta.NewAttacker(vegeta.Workers(uint64(p.Workers())), vegeta.MaxWorkers(uint64(p.Workers())))
		for res := range atk.Attack(tr.Targeter(), p, p.Total()+5*time.Second, "") {
			p.Done()
			if res.Error != "" {
				b.Fatalf("request failed: %s", res.Error)
			}
			sent++
		}
	}
	b.ReportMetric(float64(sent)/float64(b.N), "requests/phase")
	b.ReportMetric(float64(sent)/float64(b.N)/400, "efficiency")
}
