package integration

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

const gunicorn = "/usr/bin/gunicorn"

// leak is what the Flask app retains per request in these tests.
const leak = 256 << 10

// The first article, no cure: with no recycling a leaking worker only
// grows, and the harness recovers the leak per request from the memory
// curve of the real gunicorn workers.
func TestGunicornLeakWithoutRecycling(t *testing.T) {
	requireTargets(t, gunicorn)
	s := loadShipped(t, "gunicorn-recycling", "leak=256KiB")
	// A rate two sync workers keep up with on a busy machine: the
	// requests-served axis of the per-request fit assumes no queueing.
	constantLoad(s, 50, 6*time.Second)
	rep, _ := run(t, s, "sync")

	v := variant(t, rep, "sync")
	all := class(t, v, "all")
	if all.Count < 250 || all.ErrorRatio > 0 {
		t.Fatalf("want >= 250 requests without errors, got %d with error ratio %.3f (%v)", all.Count, all.ErrorRatio, all.Errors)
	}
	r := v.Runs[0]
	if !r.Memory.PSSAvailable {
		t.Fatal("PSS was not available (smaps_rollup unreadable)")
	}
	if r.Memory.PSSSlope.Slope <= 0 {
		t.Errorf("total PSS slope = %.0f bytes/min, want > 0 for a leaking app", r.Memory.PSSSlope.Slope)
	}
	perRequest := r.Memory.WorkerRSSPerRequest.Slope
	t.Logf("PSS slope %.1f MiB/min (R² %.3f); worker RSS %.0f bytes/request (R² %.3f, %s); configured leak %d bytes/request",
		r.Memory.PSSSlope.Slope/(1<<20), r.Memory.PSSSlope.R2, perRequest, r.Memory.WorkerRSSPerRequest.R2, r.Memory.RequestsMethod, leak)
	if math.Abs(perRequest-leak) > 0.3*leak {
		t.Errorf("worker RSS grows %.0f bytes/request, want within 30%% of the configured leak %d", perRequest, leak)
	}
	if r.Restarts.Count != 0 {
		t.Errorf("%d worker restarts without recycling, want 0", r.Restarts.Count)
	}
}

// The first article's cure on real gunicorn: --max-requests 50
// --max-requests-jitter 10. Every restart is seen twice, in gunicorn's log
// and in the process tree, with the same pids; no worker serves more than
// 60 requests, the jitter spreads the limits, and a worker's RSS stays
// bounded by what 60 requests leak.
func TestGunicornMaxRequestsJitter(t *testing.T) {
	requireTargets(t, gunicorn)
	const maxRequests, jitter = 50, 10
	s := loadShipped(t, "gunicorn-recycling", "leak=256KiB", "max_requests=50", "jitter=10")
	constantLoad(s, 80, 6*time.Second)
	rep, res := run(t, s, "sync-max-requests-jitter")
	dir := runRef(t, res, "sync-max-requests-jitter")

	// Requests, and what the app says about the worker that served each.
	served := map[int]int{} // pid → most requests it reported having served
	ok := 0
	for _, r := range results(t, dir) {
		if r.Code != 200 {
			continue
		}
		ok++
		pid, err1 := strconv.Atoi(r.Headers.Get("X-Worker-Pid"))
		n, err2 := strconv.Atoi(r.Headers.Get("X-Worker-Requests"))
		if err1 != nil || err2 != nil {
			t.Fatalf("response without X-Worker-Pid/X-Worker-Requests headers: %v", r.Headers)
		}
		served[pid] = max(served[pid], n)
	}
	limits := map[int]bool{}
	for pid, n := range served {
		if n > maxRequests+jitter {
			t.Errorf("worker %d served %d requests, more than max_requests+jitter = %d", pid, n, maxRequests+jitter)
		}
		limits[n] = true
	}

	// Restarts from gunicorn's log and from the process tree.
	logSpawn, logRetire, logExit := map[int]float64{}, map[int]float64{}, map[int]float64{}
	treeSpawn, treeExit := map[int]float64{}, map[int]float64{}
	for _, e := range events(t, dir) {
		switch {
		case e.Source == "log" && e.Event == "spawn":
			logSpawn[e.PID] = e.T
		case e.Source == "log" && e.Event == "retiring" && e.Reason == "max_requests":
			logRetire[e.PID] = e.T
		case e.Source == "log" && e.Event == "exit":
			logExit[e.PID] = e.T
		case e.Source == "tree" && e.Event == "spawn" && e.Message == "worker":
			treeSpawn[e.PID] = e.T
		case e.Source == "tree" && e.Event == "exit" && e.Message == "worker":
			treeExit[e.PID] = e.T
		}
	}
	// Autorestarting is only ever logged for max_requests, never at shutdown.
	var recycled []int
	for pid := range logRetire {
		recycled = append(recycled, pid)
	}
	// Each worker life serves at most 60 requests: all but the two last
	// lives must have been recycled.
	if want := ok/(maxRequests+jitter) - 2; len(recycled) < max(want, 2) {
		t.Fatalf("%d workers retired for max_requests (%d requests), want at least %d", len(recycled), ok, max(want, 2))
	}
	for _, pid := range recycled {
		if _, found := logExit[pid]; !found {
			t.Errorf("worker %d logged Autorestarting but no Worker exiting", pid)
		}
		if _, found := treeExit[pid]; !found {
			t.Errorf("worker %d retired in gunicorn's log, but the process tree never saw it exit", pid)
		}
	}
	for pid, at := range treeSpawn {
		if _, found := logSpawn[pid]; !found && at > 0 {
			t.Errorf("the process tree saw worker %d spawn at %.2fs, but gunicorn's log never booted it", pid, at)
		}
	}
	if len(limits) < 2 {
		t.Errorf("every worker served the same number of requests (%v): the jitter did not spread the restarts", limits)
	}

	// The report's restarts during the load are those retirements.
	r := variant(t, rep, "sync-max-requests-jitter").Runs[0]
	if r.Restarts.Count < 2 {
		t.Errorf("report counts %d restarts during the load, want >= 2", r.Restarts.Count)
	}
	for _, x := range r.Restarts.Exits {
		if _, found := logRetire[x.PID]; !found {
			t.Errorf("report has an exit of worker %d (reason %q) that gunicorn did not log as a max_requests restart", x.PID, x.Reason)
		}
	}

	// Bounded memory: a worker grows by at most what 60 requests leak, plus
	// loading Flask and allocator slack, from its first sample. Without
	// recycling, each of the two workers would grow by half the requests'
	// leak, which the bound must be able to tell apart.
	fresh := freshWorkerRSS(t, dir)
	slack := int64(24 << 20)
	growth := int64(1.25*float64((maxRequests+jitter)*leak)) + slack
	unbounded := int64(ok/2) * leak
	if growth >= unbounded {
		t.Fatalf("test too short to tell: bound %.1f MiB growth, no recycling %.1f MiB", mib(growth), mib(unbounded))
	}
	t.Logf("%d requests, %d recycled workers, limits %v; restarts in report %d (%v); peak worker RSS %.1f MiB, first sample %.1f MiB, bound %.1f MiB (no recycling: ~%.1f MiB)",
		ok, len(recycled), limits, r.Restarts.Count, r.Restarts.ByReason, mib(r.Memory.PeakWorkerRSS), mib(fresh), mib(fresh+growth), mib(fresh+unbounded))
	if r.Memory.PeakWorkerRSS > fresh+growth {
		t.Errorf("peak worker RSS %.1f MiB, want <= %.1f MiB (first sample %.1f MiB + 60 requests × 256 KiB × 1.25 + %d MiB)",
			mib(r.Memory.PeakWorkerRSS), mib(fresh+growth), mib(fresh), slack>>20)
	}
}

// freshWorkerRSS is the smallest first sample of any worker: a worker that
// had served few requests.
func freshWorkerRSS(t *testing.T, dir string) int64 {
	t.Helper()
	first := map[int]int64{}
	if err := rundir.EachMemory(filepath.Join(dir, rundir.MemoryFile), func(m rundir.MemorySample) error {
		if _, seen := first[m.PID]; !seen && m.Role == "worker" {
			first[m.PID] = m.RSS
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	fresh := int64(math.MaxInt64)
	for _, rss := range first {
		fresh = min(fresh, rss)
	}
	if len(first) == 0 {
		t.Fatal("no worker in memory.csv")
	}
	return fresh
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
