package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/server/workload"
)

// The event-loop worker model through the real server: master, loop
// workers and offload children are all re-executions of the test binary.

// Issue 3, test 6: recycling works unchanged in loop workers.
func TestLoopMaxRequestsWithJitter(t *testing.T) {
	checkMaxRequests(t, "--worker-model", "loop", "--workers", "2", "--max-requests", "50", "--max-requests-jitter", "10")
}

// timed is a response and when the client finished reading it.
type timed struct {
	result
	path string
	done time.Time
}

func getTimed(c *http.Client, url string) timed {
	r := get(c, url)
	return timed{result: r, path: url, done: time.Now()}
}

// headOfLine sends /cpu?ms=500 to a one-worker loop server, then /light and
// /healthz while it runs, and returns the three responses. The cheap
// requests are sent once the /cpu has begun on the loop (its
// X-Worker-Requests number is lower): a try where it had not is repeated.
func headOfLine(t *testing.T, s *testServer) (cpu timed, others []timed) {
	t.Helper()
	for try := 0; try < 5; try++ {
		cpuc := make(chan timed, 1)
		go func() { cpuc <- getTimed(newClient(), s.base+"/cpu?ms=500") }()
		time.Sleep(150 * time.Millisecond)
		var wg sync.WaitGroup
		others = make([]timed, 2)
		for i, path := range []string{"/light", "/healthz"} {
			wg.Add(1)
			go func() { defer wg.Done(); others[i] = getTimed(newClient(), s.base+path) }()
		}
		wg.Wait()
		cpu = <-cpuc
		for _, r := range append([]timed{cpu}, others...) {
			if r.err != nil || r.status != http.StatusOK {
				t.Fatalf("%s: %+v", r.path, r.result)
			}
		}
		if others[0].requests > cpu.requests && others[1].requests > cpu.requests {
			return cpu, others
		}
		t.Logf("try %d: the cheap requests began before the /cpu (numbers %d, %d vs %d); again", try, others[0].requests, others[1].requests, cpu.requests)
	}
	t.Fatal("the /cpu never began on the loop before the cheap requests")
	return
}

// Issue 3, tests 1 and 2 through the real server: with offload none a
// /light and a /healthz sent while a /cpu?ms=500 runs on the only loop
// worker complete after it (head-of-line blocking); with offload processes
// they complete before it.
func TestLoopHeadOfLineBlocking(t *testing.T) {
	t.Run("none", func(t *testing.T) {
		s := startServer(t, "--worker-model", "loop", "--workers", "1", "--offload", "none")
		cpu, others := headOfLine(t, s)
		for _, r := range others {
			// Both responses leave the loop one after the other; allow
			// for the client goroutines reading them in either order.
			if r.done.Before(cpu.done.Add(-20 * time.Millisecond)) {
				t.Errorf("%s completed %v before the /cpu on the loop; want after it (head-of-line blocking)", r.path, cpu.done.Sub(r.done))
			}
		}
	})
	t.Run("processes", func(t *testing.T) {
		s := startServer(t, "--worker-model", "loop", "--workers", "1", "--offload", "processes", "--offload-workers", "2")
		cpu, others := headOfLine(t, s)
		for _, r := range others {
			if !r.done.Before(cpu.done) {
				t.Errorf("%s completed %v after the offloaded /cpu; want before it", r.path, r.done.Sub(cpu.done))
			}
		}
	})
}

// --timeout kills a loop worker whose loop is stuck in CPU work: its
// heartbeat comes from the loop.
func TestLoopTimeout(t *testing.T) {
	s := startServer(t, "--worker-model", "loop", "--workers", "1", "--timeout", "2s")
	expectTimeoutKill(t, s, "/cpu?ms=10000")
}

// lagAbove returns how many observations of the master's
// sawtooth_loop_lag_seconds are above the bucket bound le, and the total.
func lagAbove(t *testing.T, admin string, le float64) (above, total uint64) {
	t.Helper()
	f := scrape(t, admin)[MetricLoopLag]
	if f == nil || len(f.Metric) == 0 {
		return 0, 0
	}
	h := f.Metric[0].GetHistogram()
	total = h.GetSampleCount()
	for _, b := range h.Bucket {
		if b.GetUpperBound() == le {
			return total - b.GetCumulativeCount(), total
		}
	}
	t.Fatalf("%s has no bucket le=%v", MetricLoopLag, le)
	return
}

// Issue 3, test 4 through the real server: after a /cpu?ms=300 on the loop
// the master's aggregated lag histogram holds an observation above 250ms,
// and the worker's log (on the master's stderr) holds a stack dump naming
// the CPU-burning function.
func TestLoopLagAggregated(t *testing.T) {
	s := startServer(t, "--worker-model", "loop", "--workers", "1", "--timeout", "2s")
	if above, _ := lagAbove(t, s.admin, 0.25); above != 0 {
		t.Fatalf("%d lag observations above 250ms before any heavy request", above)
	}
	if r := get(newClient(), s.base+"/cpu?ms=300"); r.err != nil || r.status != 200 {
		t.Fatalf("/cpu?ms=300: %+v", r)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		above, total := lagAbove(t, s.admin, 0.25)
		if above > 0 {
			t.Logf("%d of %d observations above 250ms", above, total)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no lag observation above 250ms in the master's /metrics after 20s (%d in all)", total)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for !strings.Contains(s.stderr.String(), "workload.BurnCPU") {
		if time.Now().After(deadline) {
			t.Fatalf("no stack dump naming workload.BurnCPU in the log:\n%s", s.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Issue 3, test 5 through the real server: 100 concurrent offloaded
// requests each see their own request id where the work ran (threads,
// processes); with --lose-context none does.
func TestLoopRequestIDs(t *testing.T) {
	for _, c := range []struct {
		offload, where string
		lose           bool
	}{{"threads", "thread", false}, {"processes", "process", false}, {"threads", "thread", true}, {"processes", "process", true}} {
		name := c.offload
		if c.lose {
			name += "/lose-context"
		}
		t.Run(name, func(t *testing.T) {
			args := []string{"--worker-model", "loop", "--workers", "1", "--offload", c.offload, "--offload-workers", "4"}
			if c.lose {
				args = append(args, "--lose-context")
			}
			s := startServer(t, args...)
			const n = 100
			type seen struct{ id, work, where string }
			out := make([]seen, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					id := fmt.Sprintf("req-%s-%03d", strings.ReplaceAll(name, "/", "-"), i)
					req, _ := http.NewRequest(http.MethodGet, s.base+"/block?ms=20", nil)
					req.Header.Set(workload.HeaderRequestID, id)
					resp, err := newClient().Do(req)
					if err != nil {
						errs[i] = err
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						errs[i] = fmt.Errorf("status %d", resp.StatusCode)
					}
					out[i] = seen{id, resp.Header.Get(workload.HeaderWorkRequestID), resp.Header.Get(workload.HeaderWorkedIn)}
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatalf("failed requests: %v", err)
			}
			kept := 0
			for _, o := range out {
				if o.where != c.where {
					t.Errorf("%s: %s %q, want %q", o.id, workload.HeaderWorkedIn, o.where, c.where)
				}
				switch {
				case o.work == o.id:
					kept++
				case o.work != "":
					t.Errorf("%s: the work saw request id %q, another request's", o.id, o.work)
				}
			}
			if want := map[bool]int{false: n, true: 0}[c.lose]; kept != want {
				t.Errorf("%d of %d requests kept their id where the work ran, want %d", kept, n, want)
			}
		})
	}
}

// offloadChildren returns the live children of every live child of the
// master: the offload processes, grandchildren of the master.
func offloadChildren(master int) map[int]int {
	out := map[int]int{}
	for _, w := range workerPids(master) {
		for _, c := range workerPids(w) {
			out[c] = w
		}
	}
	return out
}

func waitGone(t *testing.T, what string, pids []int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for !gone(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("%s %d still alive after 10s", what, pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// gone reports whether pid no longer exists or is a zombie.
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	st, err := readStat(pid)
	return err == nil && st == "Z"
}

// readStat returns the state letter of pid from /proc/pid/stat.
func readStat(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+3 > len(s) {
		return "", fmt.Errorf("bad stat %q", s)
	}
	return s[i+2 : i+3], nil
}

// Offload children are grandchildren of the master and never outlive their
// worker: not when it is SIGKILLed, not when it retires, not when the
// master shuts down on SIGTERM.
func TestLoopOffloadChildrenDie(t *testing.T) {
	s := startServer(t, "--worker-model", "loop", "--workers", "2", "--offload", "processes", "--offload-workers", "2", "--max-requests", "10")
	master := s.cmd.Process.Pid
	s.waitFor("2 ready workers", func(ev []Event) bool { return alive(ev) == 2 })
	var kids map[int]int
	deadline := time.Now().Add(20 * time.Second)
	for kids = offloadChildren(master); len(kids) < 4; kids = offloadChildren(master) {
		if time.Now().After(deadline) {
			t.Fatalf("offload children of the workers: %v, want 2 per worker", kids)
		}
		time.Sleep(20 * time.Millisecond)
	}
	seen := map[int]bool{}
	var victim int
	var orphans []int
	for c, w := range kids {
		seen[c] = true
		if victim == 0 {
			victim = w
		}
		if w == victim {
			orphans = append(orphans, c)
		}
	}

	// SIGKILL: the worker cannot clean up; Pdeathsig and the child's own
	// parent check end its children.
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitGone(t, "offload child of the SIGKILLed worker", orphans)

	// Retirement (max_requests 10): the worker kills its children.
	c := newClient()
	for range 40 {
		if r := get(c, s.base+"/cpu?ms=1"); r.err != nil || r.status != 200 {
			t.Fatalf("/cpu?ms=1: %+v", r)
		}
		for k := range offloadChildren(master) {
			seen[k] = true
		}
	}
	s.waitFor("2 max_requests exits", func(ev []Event) bool { return countEvents(ev, EventExit, "max_requests") >= 2 })
	for k := range offloadChildren(master) {
		seen[k] = true
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.waited:
	case <-time.After(30 * time.Second):
		t.Fatal("master did not exit within 30s of SIGTERM")
	}
	if s.err != nil {
		t.Errorf("master exited with %v, want status 0", s.err)
	}
	var all []int
	for k := range seen {
		all = append(all, k)
	}
	if len(all) < 6 {
		t.Errorf("saw %d offload children, want at least 6 (4 first, 2+ for replacements)", len(all))
	}
	waitGone(t, "offload child", all)
}

// Loop flags are refused with another worker model, and their values are
// checked.
func TestLoopFlagsNeedLoopModel(t *testing.T) {
	if _, err := parseServe("--worker-model", "threads", "--offload", "threads"); err == nil ||
		!strings.Contains(err.Error(), "--offload: only with --worker-model loop") {
		t.Errorf("--offload with threads: %v, want an error naming --offload and the loop model", err)
	}
	cfg, err := parseServe("--worker-model", "loop", "--offload", "processes", "--offload-workers", "3", "--gil=false", "--lose-context", "--switch-interval", "2ms")
	if err != nil {
		t.Fatal(err)
	}
	l := cfg.Worker.Loop
	if l == nil || l.Offload != "processes" || l.OffloadWorkers != 3 || l.GIL || !l.LoseContext ||
		l.SwitchInterval != 2*time.Millisecond || l.LagInterval != 10*time.Millisecond || l.LagThreshold != 100*time.Millisecond {
		t.Errorf("loop config %+v", l)
	}
	cfg, err = parseServe("--worker-model", "loop")
	if err != nil {
		t.Fatal(err)
	}
	if l := cfg.Worker.Loop; l == nil || !l.GIL || l.Offload != "none" || l.OffloadWorkers != 4 {
		t.Errorf("default loop config %+v, want GIL on, offload none, 4 workers", l)
	}
}
