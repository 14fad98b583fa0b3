package probe

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// stalled scripts the probe results of a worker whose loop stalls for
// stall seconds every period seconds from first, probed every second
// with a 1 s timeout: a probe sent at t during a stall [s, s+stall) is
// answered at s+stall, and fails when that is 1 s or more after t.
func stalled(first, period, stall, end float64) []Result {
	var out []Result
	for t := 0.0; t < end; t++ {
		ok := true
		for s := first; s < end; s += period {
			if t >= s && t < s+stall && s+stall-t >= 1 {
				ok = false
			}
		}
		out = append(out, Result{T: t, OK: ok})
	}
	return out
}

// The stall pattern: stalls of 4 s every 10 s, timeout 1 s, every
// 1 s, failure threshold 3: one restart per stall, whether a stall
// catches three probes or four.
func TestJudgeLivenessStalls(t *testing.T) {
	live := rundir.ProbeStats{Name: "live", Kind: scenarios.ProbeLiveness, FailureThreshold: 3, SuccessThreshold: 1}
	for _, first := range []float64{3, 3.5} {
		st := Judge(live, stalled(first, 10, 4, 60), 60)
		t.Logf("stalls from %gs: %d probes, %d failures, longest run %d, restarts at %v", first, st.Probes, st.Failures, st.LongestFailureRun, st.Restarts)
		if len(st.Restarts) != 6 {
			t.Errorf("stalls from %gs: %d restarts, want 6 (one per stall)", first, len(st.Restarts))
		}
		wantRun := 4
		if first == 3.5 {
			wantRun = 3
		}
		if st.LongestFailureRun != wantRun || st.Failures != 6*wantRun {
			t.Errorf("stalls from %gs: longest run %d, failures %d; want %d and %d", first, st.LongestFailureRun, st.Failures, wantRun, 6*wantRun)
		}
		if st.UnreadySeconds != 0 || st.Unready != nil {
			t.Errorf("a liveness probe has no unready time: %v", st.Unready)
		}
	}
	// Stalls of 2 s fail two probes each (those sent 2 s and 1 s before the
	// end), never three in a row: no restart.
	if st := Judge(live, stalled(3, 10, 2, 60), 60); len(st.Restarts) != 0 || st.Failures != 12 {
		t.Errorf("2s stalls: %d restarts, %d failures; want 0 and 12", len(st.Restarts), st.Failures)
	}
	// A long outage restarts once per threshold's worth of failures.
	if st := Judge(live, stalled(0, 100, 10, 20), 20); len(st.Restarts) != 3 {
		t.Errorf("a 10s outage: restarts at %v, want 3 (after failures 3, 6, 9)", st.Restarts)
	}
}

// A readiness probe is out of rotation from its third consecutive
// failure until its second consecutive success, and until the end when
// it never recovers.
func TestJudgeReadiness(t *testing.T) {
	ready := rundir.ProbeStats{Name: "ready", Kind: scenarios.ProbeReadiness, FailureThreshold: 3, SuccessThreshold: 2}
	st := Judge(ready, stalled(3, 10, 4, 30), 30)
	// Probes at 3..6 fail, unready at 5, ready again at 8 (7 and 8 ok).
	if len(st.Unready) != 3 || st.Unready[0] != (rundir.Interval{From: 5, To: 8}) || math.Abs(st.UnreadySeconds-9) > 1e-9 {
		t.Errorf("unready %v (%gs), want [5,8] three times (9s)", st.Unready, st.UnreadySeconds)
	}
	if len(st.Restarts) != 0 {
		t.Errorf("a readiness probe restarts nothing: %v", st.Restarts)
	}
	down := Judge(ready, []Result{{0, true}, {1, false}, {2, false}, {3, false}, {4, false}}, 10)
	if len(down.Unready) != 1 || down.Unready[0] != (rundir.Interval{From: 3, To: 10}) || down.UnreadySeconds != 7 {
		t.Errorf("never recovered: %v", down.Unready)
	}
}

// Run probes a real server on schedule, on a new connection each time,
// and a probe that outlasts its timeout fails.
func TestRun(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]bool{}
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		n++
		slow := n == 3
		mu.Unlock()
		if slow {
			time.Sleep(300 * time.Millisecond)
		}
	}))
	defer srv.Close()
	sp := Spec{Name: "live", URL: srv.URL + "/healthz", Every: 100 * time.Millisecond, Timeout: 80 * time.Millisecond, InitialDelay: 50 * time.Millisecond}
	if due := sp.Due(time.Second); len(due) != 10 || due[0] != 50*time.Millisecond || due[9] != 950*time.Millisecond {
		t.Fatalf("due %v", due)
	}
	var got []*vegeta.Result
	Run(context.Background(), sp, time.Now(), 600*time.Millisecond, func(r *vegeta.Result) { got = append(got, r) })
	if len(got) < 4 || len(got) > 6 {
		t.Fatalf("%d probes in 600ms at every 100ms from 50ms, want 4 to 6 (one may be skipped after the slow one)", len(got))
	}
	fails := 0
	for _, r := range got {
		if r.Attack != "live" {
			t.Errorf("probe result under %q, want live", r.Attack)
		}
		if !OK(r) {
			fails++
		}
	}
	if fails != 1 || OK(got[2]) {
		t.Errorf("%d failures (third ok: %v), want the third probe alone to time out", fails, OK(got[2]))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(conns) != n {
		t.Errorf("%d connections for %d probes, want a new one each", len(conns), n)
	}
}
