package loop

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/server/workload"
)

// race is the shape of the tests 1-3: a heavy request starts on a
// one-loop server; once its handler has begun on the loop, a /light and a
// /healthz are sent. It records the order in which the three finished on
// the loop and the order in which the client read them.
type race struct {
	heavy, light, health reply
	started              time.Time // when the heavy handler began on the loop
	loopOrder            *orderLog
	lags                 *lagLog
	ts                   *testServer
}

func runRace(t *testing.T, cfg Config, heavy string) *race {
	t.Helper()
	rc := &race{loopOrder: &orderLog{}, lags: &lagLog{}}
	heavyPath, _, _ := strings.Cut(heavy, "?")
	began := make(chan time.Time, 1)
	rc.ts = startServer(t, cfg, Options{
		BeforeRequest: func(r *http.Request, h http.Header) int64 {
			if r.URL.Path == heavyPath {
				began <- time.Now()
			}
			return 0
		},
		AfterRequest: rc.loopOrder.after,
		OnLag:        rc.lags.add,
	})
	// Let the monitor take a few probes on an idle loop first.
	rc.ts.mustGet(t, "/healthz", "warm-up")
	rc.lags.reset()
	rc.loopOrder.mu.Lock()
	rc.loopOrder.paths = nil
	rc.loopOrder.mu.Unlock()

	var mu sync.Mutex
	seq := 0
	fetch := func(path string, into *reply, wg *sync.WaitGroup) {
		defer wg.Done()
		r, err := rc.ts.get(path, "")
		if err != nil || r.status != http.StatusOK {
			t.Errorf("GET %s: %v status %d %s", path, err, r.status, r.body)
			return
		}
		mu.Lock()
		seq++
		r.seq = seq
		mu.Unlock()
		*into = r
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go fetch(heavy, &rc.heavy, &wg)
	select {
	case rc.started = <-began:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s never started", heavy)
	}
	wg.Add(2)
	go fetch("/light", &rc.light, &wg)
	go fetch("/healthz", &rc.health, &wg)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return rc
}

// Issue test 1: with no offload, CPU work on the loop blocks /light and
// /healthz until it is done (head-of-line blocking).
func TestOffloadNoneHeadOfLineBlocking(t *testing.T) {
	cfg := DefaultConfig()
	rc := runRace(t, cfg, "/cpu?ms=500")
	cpu, light, health := rc.loopOrder.index("/cpu"), rc.loopOrder.index("/light"), rc.loopOrder.index("/healthz")
	if !(cpu < light && cpu < health) {
		t.Errorf("loop finished requests in order %v; want /cpu before /light and /healthz", rc.loopOrder)
	}
	// The burn lasts at least 500ms from when its handler began, so a
	// request stuck behind it cannot be answered earlier.
	for _, r := range []reply{rc.light, rc.health} {
		if got := r.at.Sub(rc.started); got < 500*time.Millisecond {
			t.Errorf("a request sent during the burn was answered %v after the burn began; want >= 500ms", got)
		}
	}
	if got := rc.heavy.header.Get(workload.HeaderWorkedIn); got != "loop" {
		t.Errorf("/cpu %s = %q, want loop", workload.HeaderWorkedIn, got)
	}
}

// Issue test 2: with processes, the loop stays free: /light and /healthz
// finish before the /cpu.
func TestOffloadProcessesLightFirst(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Offload = OffloadProcesses
	cfg.OffloadWorkers = 2
	rc := runRace(t, cfg, "/cpu?ms=500")
	assertLightFirst(t, rc, "/cpu")
	if got := rc.heavy.header.Get(workload.HeaderWorkedIn); got != "process" {
		t.Errorf("/cpu %s = %q, want process", workload.HeaderWorkedIn, got)
	}
}

func assertLightFirst(t *testing.T, rc *race, heavy string) {
	t.Helper()
	h, light, health := rc.loopOrder.index(heavy), rc.loopOrder.index("/light"), rc.loopOrder.index("/healthz")
	if !(light < h && health < h) {
		t.Errorf("loop finished requests in order %v; want /light and /healthz before %s", rc.loopOrder, heavy)
	}
	if !(rc.light.seq < rc.heavy.seq && rc.health.seq < rc.heavy.seq) {
		t.Errorf("client read %s as #%d, /light as #%d, /healthz as #%d; want the heavy one last",
			heavy, rc.heavy.seq, rc.light.seq, rc.health.seq)
	}
}

// Issue test 3a: threads cure blocking calls: /light finishes first and the
// loop lag stays far below the blocking time.
func TestOffloadThreadsBlock(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Offload = OffloadThreads
	rc := runRace(t, cfg, "/block?ms=500")
	assertLightFirst(t, rc, "/block")
	n, max, _ := rc.lags.stats(0)
	if n < 5 {
		t.Fatalf("only %d lag observations during a 500ms block; the monitor is not probing", n)
	}
	// Had the block run on the loop, probes would wait up to 500ms.
	if max >= 250*time.Millisecond {
		t.Errorf("max loop lag %v during a 500ms /block in a thread; want far below the block (< 250ms)", max)
	}
	if got := rc.heavy.header.Get(workload.HeaderWorkedIn); got != "thread" {
		t.Errorf("/block %s = %q, want thread", workload.HeaderWorkedIn, got)
	}
}

// Issue test 3b: threads only partly cure CPU work: /light finishes first,
// but the loop must wait for the GIL, so probes see lags of at least the
// switch interval.
func TestOffloadThreadsCPUGIL(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Offload = OffloadThreads
	rc := runRace(t, cfg, "/cpu?ms=500")
	assertLightFirst(t, rc, "/cpu")
	_, max, atLeast := rc.lags.stats(cfg.SwitchInterval)
	if atLeast < 3 {
		t.Errorf("%d lag observations >= switch interval %v during a 500ms /cpu in a thread (max %v); want several",
			atLeast, cfg.SwitchInterval, max)
	}
	if got := above(t, rc.ts.Server, 0.005); got < 3 {
		t.Errorf("histogram holds %d observations above 5ms; want several", got)
	}
}

// Control for 3b: with --gil=false the loop never waits for the lock.
func TestOffloadThreadsCPUNoGIL(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Offload = OffloadThreads
	cfg.GIL = false
	rc := runRace(t, cfg, "/cpu?ms=500")
	assertLightFirst(t, rc, "/cpu")
	_, max, _ := rc.lags.stats(0)
	if max >= 250*time.Millisecond {
		t.Errorf("max loop lag %v with the GIL off; want far below the burn", max)
	}
}

// Pool threads that run without the GIL get Ps of their own, as OS threads
// get a share of the cores: with k CPU-bound goroutines on as many Ps the
// loop goroutine would wait for the Go scheduler's preemption.
func TestOffloadThreadsNoGILHaveTheirOwnPs(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Offload = OffloadThreads
	cfg.GIL = false
	cfg.OffloadWorkers = 7
	startServer(t, cfg, Options{})
	if got, want := runtime.GOMAXPROCS(0), baseProcs+7; got < want {
		t.Errorf("GOMAXPROCS %d with 7 offload threads without the GIL, want at least %d (%d + 7)", got, want, baseProcs)
	}
}

// Issue test 4: a /cpu?ms=300 on the loop shows in the lag histogram and in
// a logged stack dump that names the CPU-burning function.
func TestLagMonitorCatchesBlockingHandler(t *testing.T) {
	ts := startServer(t, DefaultConfig(), Options{})
	ts.mustGet(t, "/cpu?ms=300", "")
	// The probe that waited for the burn is observed once the loop is free.
	deadline := time.Now().Add(10 * time.Second)
	for above(t, ts.Server, 0.25) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := above(t, ts.Server, 0.25); got < 1 {
		t.Errorf("histogram holds no observation above 250ms after a 300ms burn on the loop")
	}
	for !strings.Contains(ts.log.String(), "event loop lag above threshold") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	logs := ts.log.String()
	if !strings.Contains(logs, "event loop blocked") || !strings.Contains(logs, "loop.burnCPU") {
		t.Errorf("log has no stack dump naming loop.burnCPU:\n%s", logs)
	}
	if !strings.Contains(logs, "event loop lag above threshold") {
		t.Errorf("log has no lag warning:\n%s", logs)
	}
}

// Issue test 5: request ids reach offloaded work in threads and processes,
// each request its own; with LoseContext they are lost; on the loop they
// are always seen.
func TestRequestIDPropagation(t *testing.T) {
	for _, tc := range []struct {
		offload, workedIn string
		lose, wantSeen    bool
	}{
		{OffloadThreads, "thread", false, true},
		{OffloadProcesses, "process", false, true},
		{OffloadThreads, "thread", true, false},
		{OffloadProcesses, "process", true, false},
		{OffloadNone, "loop", true, true},
	} {
		t.Run(fmt.Sprintf("%s/lose=%v", tc.offload, tc.lose), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Offload = tc.offload
			cfg.LoseContext = tc.lose
			ts := startServer(t, cfg, Options{})
			routes := []string{"/block?ms=20", "/regex?kb=2", "/cpu?ms=2", "/block?ms=1&await_ms=5"}
			var wg sync.WaitGroup
			var mu sync.Mutex
			seen := map[string]bool{}
			for i := range 100 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := fmt.Sprintf("req-%03d-%s", i, tc.offload)
					r, err := ts.get(routes[i%len(routes)], id)
					if err != nil || r.status != http.StatusOK {
						t.Errorf("request %s: %v status %d %s", id, err, r.status, r.body)
						return
					}
					if got := r.header.Get(workload.HeaderRequestID); got != id {
						t.Errorf("request %s: echoed %s %q", id, workload.HeaderRequestID, got)
					}
					if got := r.header.Get(workload.HeaderWorkedIn); got != tc.workedIn {
						t.Errorf("request %s: %s %q, want %q", id, workload.HeaderWorkedIn, got, tc.workedIn)
					}
					got := r.header.Get(workload.HeaderWorkRequestID)
					mu.Lock()
					defer mu.Unlock()
					if tc.wantSeen && got != id {
						t.Errorf("request %s: work saw id %q", id, got)
					}
					if !tc.wantSeen && got != "" {
						t.Errorf("request %s: work saw id %q although the context is lost", id, got)
					}
					seen[got] = true
				}()
			}
			wg.Wait()
			if tc.wantSeen && len(seen) != 100 {
				t.Errorf("%d distinct ids seen by the work, want 100", len(seen))
			}
		})
	}
}
