package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/procfs"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/server/workload"
)

// testServeEnv makes the re-executed test binary run "serve" with its
// arguments, as the sawtooth binary does.
const testServeEnv = "SAWTOOTH_TEST_SERVE"

// TestMain lets the test binary double as the sawtooth binary: a worker
// child (RunChild) or the serve command (the master).
func TestMain(m *testing.M) {
	if RunChild() {
		return
	}
	if os.Getenv(testServeEnv) == "1" {
		cfg, err := parseServe(os.Args[2:]...) // after "serve"
		if err != nil {
			fmt.Fprintln(os.Stderr, "sawtooth serve:", err)
			os.Exit(2)
		}
		if err := Run(context.Background(), cfg, slog.New(slog.NewTextHandler(os.Stderr, nil))); err != nil {
			fmt.Fprintln(os.Stderr, "sawtooth serve:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// testServer is a master started as a child process.
type testServer struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr *lockedBuffer
	base   string // http://host:port of the workers
	admin  string // http://host:port of the admin listener
	waited chan struct{}
	err    error // cmd.Wait's result, after waited is closed

	mu     sync.Mutex
	events []Event
}

// serveCmd returns the test binary as "sawtooth serve args...".
func serveCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), testServeEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// startServer starts a master on free ports with args, waits until its
// workers are ready and follows its /events.
func startServer(t *testing.T, args ...string) *testServer {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready.json")
	cmd := serveCmd(append([]string{"--bind", "127.0.0.1:0", "--admin-bind", "127.0.0.1:0", "--ready-file", ready}, args...)...)
	s := &testServer{t: t, cmd: cmd, stderr: &lockedBuffer{}, waited: make(chan struct{})}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = cmd.Wait(); close(s.waited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-s.waited
		if t.Failed() {
			t.Logf("server log:\n%s", s.stderr.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	var info ReadyInfo
	for {
		b, err := os.ReadFile(ready)
		if err == nil && json.Unmarshal(b, &info) == nil {
			break
		}
		select {
		case <-s.waited:
			t.Fatalf("server exited before ready: %v\n%s", s.err, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready after 30s\n%s", s.stderr.String())
		}
	}
	s.base, s.admin = "http://"+info.Bind, "http://"+info.Admin
	go s.followEvents()
	s.waitFor("the spawn events", func(ev []Event) bool { return countEvents(ev, EventReady, "") >= 1 })
	return s
}

func (s *testServer) followEvents() {
	resp, err := http.Get(s.admin + "/events")
	if err != nil {
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			s.t.Errorf("bad /events line %q: %v", sc.Bytes(), err)
			return
		}
		s.mu.Lock()
		s.events = append(s.events, e)
		s.mu.Unlock()
	}
}

func (s *testServer) snapshot() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// waitFor polls the events until cond holds; it fails the test after a
// generous safety bound.
func (s *testServer) waitFor(what string, cond func([]Event) bool) []Event {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ev := s.snapshot()
		if cond(ev) {
			return ev
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s; events:\n%s", what, formatEvents(ev))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func formatEvents(ev []Event) string {
	var b strings.Builder
	for _, e := range ev {
		fmt.Fprintf(&b, "  %s %d %s %s requests=%d rss=%d limit=%d\n", e.Time.Format("15:04:05.000"), e.Pid, e.Event, e.Reason, e.Requests, e.RSS, e.Limit)
	}
	return b.String()
}

func countEvents(ev []Event, event, reason string) int {
	n := 0
	for _, e := range ev {
		if e.Event == event && (reason == "" || e.Reason == reason) {
			n++
		}
	}
	return n
}

// result is one response as the tests see it.
type result struct {
	status   int
	pid      int
	requests int64
	err      error
}

func get(c *http.Client, url string) result {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set(workload.HeaderRequestID, "test-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	resp, err := c.Do(req)
	if err != nil {
		return result{err: err}
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	r := result{status: resp.StatusCode}
	r.pid, _ = strconv.Atoi(resp.Header.Get(workload.HeaderPid))
	r.requests, _ = strconv.ParseInt(resp.Header.Get(workload.HeaderRequests), 10, 64)
	if got, want := resp.Header.Get(workload.HeaderRequestID), req.Header.Get(workload.HeaderRequestID); got != want {
		r.err = fmt.Errorf("X-Request-Id echoed %q, want %q", got, want)
	}
	return r
}

func newClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
}

// load sends n requests to url from c concurrent clients.
func load(url string, n, c int) []result {
	var mu sync.Mutex
	var out []result
	var wg sync.WaitGroup
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := newClient()
			for range next {
				r := get(cl, url)
				mu.Lock()
				out = append(out, r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

func failures(rs []result) (n int, first error) {
	for _, r := range rs {
		if r.err != nil || r.status != http.StatusOK {
			if first == nil {
				first = r.err
				if first == nil {
					first = fmt.Errorf("status %d", r.status)
				}
			}
			n++
		}
	}
	return n, first
}

func rssOf(t *testing.T, pid int) int64 {
	t.Helper()
	n, err := readRSS(pid)
	if err != nil {
		t.Fatalf("read RSS of worker %d: %v", pid, err)
	}
	return n
}

const mib = 1 << 20

// Test 1: every retired worker served max_requests plus its jitter, within
// [50, 60], and no request failed.
func TestMaxRequestsWithJitter(t *testing.T) {
	checkMaxRequests(t, "--workers", "2", "--max-requests", "50", "--max-requests-jitter", "10")
}

// checkMaxRequests starts a server with args (which set max_requests 50,
// jitter 10), sends 1,000 requests from 8 clients and checks that every
// retired worker served exactly its drawn limit, in [50, 60], and that no
// request failed.
func checkMaxRequests(t *testing.T, args ...string) {
	s := startServer(t, args...)
	rs := load(s.base+"/light", 1000, 8)
	if n, err := failures(rs); n > 0 {
		t.Fatalf("%d of %d requests failed, first: %v", n, len(rs), err)
	}
	maxSeen := map[int]int64{}
	for _, r := range rs {
		maxSeen[r.pid] = max(maxSeen[r.pid], r.requests)
	}
	// 1000 requests at most 60 per worker: at least 15 workers retired.
	ev := s.waitFor("15 exits", func(ev []Event) bool { return countEvents(ev, EventExit, "") >= 15 })
	for _, e := range ev {
		switch e.Event {
		case EventSpawn:
			if e.Limit < 50 || e.Limit > 60 {
				t.Errorf("worker %d drew limit %d, want [50, 60]", e.Pid, e.Limit)
			}
		case EventExit:
			if e.Reason != "max_requests" {
				t.Errorf("worker %d exited with reason %q, want max_requests", e.Pid, e.Reason)
			}
			if e.Requests != e.Limit || e.Requests < 50 || e.Requests > 60 {
				t.Errorf("worker %d retired after %d requests, limit %d: want the limit, in [50, 60]", e.Pid, e.Requests, e.Limit)
			}
			if maxSeen[e.Pid] != e.Requests {
				t.Errorf("worker %d: highest X-Worker-Requests %d, /events says %d", e.Pid, maxSeen[e.Pid], e.Requests)
			}
		}
	}
	if n := countEvents(ev, EventRetiring, "max_requests"); n < 15 {
		t.Errorf("%d retiring events, want ≥ 15", n)
	}
}

// attack sends a constant rate of /light for d and returns the failures
// (non-200 responses and connection errors).
func attack(t *testing.T, s *testServer, rate int, d time.Duration) (total, failed int, firstErr string) {
	t.Helper()
	a := vegeta.NewAttacker(vegeta.Timeout(10*time.Second), vegeta.KeepAlive(true))
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: s.base + "/light"})
	for r := range a.Attack(tr, vegeta.Rate{Freq: rate, Per: time.Second}, d, "overlap") {
		total++
		if r.Code != http.StatusOK || r.Error != "" {
			failed++
			if firstErr == "" {
				firstErr = fmt.Sprintf("code %d error %q at %s", r.Code, r.Error, r.Timestamp.Format("15:04:05.000"))
			}
		}
	}
	return total, failed, firstErr
}

// Test 2: with --overlap, recycling under a constant rate loses nothing,
// and a replacement is ready before the worker it replaces exits. The same
// run without --overlap is measured and logged, not asserted.
func TestOverlap(t *testing.T) {
	const rate, dur = 300, 5 * time.Second
	for _, overlap := range []bool{true, false} {
		name := map[bool]string{true: "overlap", false: "no-overlap"}[overlap]
		t.Run(name, func(t *testing.T) {
			args := []string{"--workers", "2", "--max-requests", "100"}
			if overlap {
				args = append(args, "--overlap")
			}
			s := startServer(t, args...)
			total, failed, first := attack(t, s, rate, dur)
			ev := s.snapshot()
			exits := countEvents(ev, EventExit, "max_requests")
			t.Logf("%s: %d requests at %d/s, %d failed (first: %s), %d workers recycled", name, total, rate, failed, first, exits)
			if exits < 5 {
				t.Fatalf("only %d workers recycled; want ≥ 5 for the test to mean anything", exits)
			}
			if !overlap {
				return
			}
			if failed > 0 {
				t.Errorf("--overlap: %d of %d requests failed, first: %s", failed, total, first)
			}
			// At every recycling exit, the two other workers were ready.
			live := map[int]bool{}
			for _, e := range ev {
				switch e.Event {
				case EventReady:
					live[e.Pid] = true
				case EventExit:
					delete(live, e.Pid)
					if e.Reason == "max_requests" && len(live) < 2 {
						t.Errorf("worker %d exited at %s with %d other workers ready, want 2 (overlap)", e.Pid, e.Time.Format(time.RFC3339Nano), len(live))
					}
				}
			}
		})
	}
}

// Test 3: --leak-per-request 1MiB grows a worker's RSS by about 1 MiB per
// request, and its replacement starts small again.
func TestLeakPerRequest(t *testing.T) {
	if raceEnabled {
		t.Skip("-race: the race detector's shadow memory about doubles the RSS a leak adds")
	}
	s := startServer(t, "--workers", "1", "--leak-per-request", "1MiB", "--max-requests", "40")
	c := newClient()
	first := get(c, s.base+"/light")
	if first.err != nil || first.status != 200 {
		t.Fatalf("first request: %+v", first)
	}
	pid := first.pid
	before := rssOf(t, pid)
	const n = 20
	for i := range n {
		r := get(c, s.base+"/light")
		if r.err != nil || r.status != 200 || r.pid != pid {
			t.Fatalf("request %d: %+v, want 200 from worker %d", i, r, pid)
		}
	}
	after := rssOf(t, pid)
	perReq := float64(after-before) / n / mib
	t.Logf("worker %d: RSS %.1f MiB → %.1f MiB over %d requests: %.2f MiB per request", pid, float64(before)/mib, float64(after)/mib, n, perReq)
	if perReq < 0.75 || perReq > 1.25 {
		t.Errorf("RSS grew %.2f MiB per request, want 1 MiB ± 25%%", perReq)
	}
	// Up to the limit (40), then the replacement serves.
	var next result
	for range 40 {
		if next = get(c, s.base+"/light"); next.pid != pid {
			break
		}
	}
	if next.err != nil || next.status != 200 || next.pid == pid {
		t.Fatalf("after the limit: %+v, want 200 from a new worker", next)
	}
	fresh := rssOf(t, next.pid)
	t.Logf("replacement %d: RSS %.1f MiB after its first request", next.pid, float64(fresh)/mib)
	if fresh > before+4*mib {
		t.Errorf("replacement's RSS %.1f MiB, want small again (≤ %.1f MiB, the first worker's after one request + 4 MiB)",
			float64(fresh)/mib, float64(before+4*mib)/mib)
	}
}

// workerPids returns the live children of pid.
func workerPids(pid int) []int {
	procs, err := procfs.AllProcs()
	if err != nil {
		return nil
	}
	var out []int
	for _, p := range procs {
		if st, err := p.Stat(); err == nil && st.PPID == pid {
			out = append(out, p.PID)
		}
	}
	return out
}

// rssSlack is the documented slack over max_rss + one request's leak.
const rssSlack = 8 * mib

// Test 4: --max-rss retires workers with reason max_rss, and no worker is
// ever seen above the limit plus one request's leak plus the slack.
func TestMaxRSS(t *testing.T) {
	const limit, leak = 64 * mib, 1 * mib
	s := startServer(t, "--workers", "2", "--max-rss", "64MiB")
	master := s.cmd.Process.Pid

	ctx, cancel := context.WithCancel(context.Background())
	var peak int64
	var peakPid int
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for ctx.Err() == nil {
			for _, pid := range workerPids(master) {
				if rss, err := readRSS(pid); err == nil && rss > peak {
					peak, peakPid = rss, pid
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	var rs []result
	for i := 0; i < 20 && countEvents(s.snapshot(), EventExit, "max_rss") < 3; i++ {
		rs = append(rs, load(s.base+"/leak?bytes="+strconv.Itoa(leak), 25, 2)...)
	}
	cancel()
	<-sampled
	if n, err := failures(rs); n > 0 {
		t.Errorf("%d of %d requests failed, first: %v", n, len(rs), err)
	}
	ev := s.waitFor("3 max_rss exits", func(ev []Event) bool { return countEvents(ev, EventExit, "max_rss") >= 3 })
	bound := int64(limit + leak + rssSlack)
	t.Logf("peak RSS %.1f MiB (worker %d); bound %.1f MiB", float64(peak)/mib, peakPid, float64(bound)/mib)
	if peak > bound {
		t.Errorf("worker %d seen at %.1f MiB, above max_rss + one leak + slack = %.1f MiB", peakPid, float64(peak)/mib, float64(bound)/mib)
	}
	for _, e := range ev {
		if e.Event == EventExit && e.Reason != "max_rss" {
			t.Errorf("worker %d exited with reason %q, want max_rss", e.Pid, e.Reason)
		}
		if e.Event == EventRetiring && (e.RSS <= limit || e.RSS > bound) {
			t.Errorf("worker %d retired at RSS %.1f MiB, want in (64, %.1f] MiB", e.Pid, float64(e.RSS)/mib, float64(bound)/mib)
		}
	}
}

// Test 5: --timeout kills a worker stuck in a request; the next request is
// served by its replacement.
func TestTimeout(t *testing.T) {
	s := startServer(t, "--workers", "1", "--timeout", "2s")
	expectTimeoutKill(t, s, "/block?ms=10000")
}

// expectTimeoutKill sends stuckPath, which holds the only worker of s past
// its --timeout, and checks that the master kills that worker with reason
// timeout and that the next request is served by its replacement.
func expectTimeoutKill(t *testing.T, s *testServer, stuckPath string) {
	t.Helper()
	r := get(newClient(), s.base+"/light")
	if r.err != nil || r.status != 200 {
		t.Fatalf("first request: %+v", r)
	}
	stuck := r.pid
	if held := get(newClient(), s.base+stuckPath); held.err == nil && held.status == 200 {
		t.Fatalf("%s completed (%+v); want the worker killed before it finished", stuckPath, held)
	}
	ev := s.waitFor("the stuck worker's exit", func(ev []Event) bool {
		for _, e := range ev {
			if e.Event == EventExit && e.Pid == stuck {
				return true
			}
		}
		return false
	})
	for _, e := range ev {
		if e.Event == EventExit && e.Pid == stuck && e.Reason != "timeout" {
			t.Errorf("worker %d exited with reason %q, want timeout", stuck, e.Reason)
		}
	}
	next := get(newClient(), s.base+"/light")
	if next.err != nil || next.status != 200 || next.pid == stuck {
		t.Errorf("next request: %+v, want 200 from a replacement of %d", next, stuck)
	}
}

// Test 6: kill -9 of a worker under load: it is replaced, and only the
// request in flight on it (a sync worker holds one) may fail.
func TestKillWorker(t *testing.T) {
	s := startServer(t, "--workers", "2")
	ev := s.waitFor("2 ready workers", func(ev []Event) bool { return countEvents(ev, EventReady, "") >= 2 })
	victim := ev[len(ev)-1].Pid

	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var rs []result
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient()
			for ctx.Err() == nil {
				r := get(c, s.base+"/block?ms=2")
				mu.Lock()
				rs = append(rs, r)
				mu.Unlock()
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(rs) }
	for count() < 200 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	ev = s.waitFor("the victim's replacement", func(ev []Event) bool {
		exited := false
		for _, e := range ev {
			if e.Event == EventExit && e.Pid == victim {
				exited = true
			} else if exited && e.Event == EventReady {
				return true
			}
		}
		return false
	})
	replacement := ev[len(ev)-1].Pid
	mark := count()
	for count() < mark+200 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()

	for _, e := range ev {
		if e.Event == EventExit && e.Pid == victim && e.Reason != "signal" {
			t.Errorf("killed worker exited with reason %q, want signal", e.Reason)
		}
	}
	served := false
	for _, r := range rs[mark:] {
		served = served || r.pid == replacement
	}
	if !served {
		t.Errorf("replacement %d served none of the requests after it was ready", replacement)
	}
	n, first := failures(rs)
	t.Logf("%d requests, %d failed (first: %v)", len(rs), n, first)
	if n > 1 {
		t.Errorf("%d requests failed, want at most the 1 in flight on the killed sync worker; first: %v", n, first)
	}
}

// scrape returns the metric families of the master's admin /metrics.
func scrape(t *testing.T, admin string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fams
}

// inFlight sums sawtooth_worker_requests_in_flight from the admin /metrics.
func inFlight(t *testing.T, admin string) float64 {
	fams := scrape(t, admin)
	sum := 0.0
	if f := fams[MetricWorkerInFlight]; f != nil {
		for _, m := range f.Metric {
			sum += m.GetGauge().GetValue()
		}
	}
	return sum
}

// Test 7: SIGTERM under load: in-flight requests complete, the master exits
// 0, and no process of the tree remains. The requests outlast --timeout:
// workers that are finishing them keep heartbeating, so none is killed.
func TestSIGTERM(t *testing.T) {
	// 8 threads per worker: however the 4 requests spread, every worker
	// has a free slot, so none is stuck.
	s := startServer(t, "--workers", "2", "--worker-model", "threads", "--threads", "8", "--timeout", "2s")
	const blocked = 4
	results := make(chan result, blocked)
	for range blocked {
		go func() { results <- get(newClient(), s.base+"/block?ms=3000") }()
	}
	// Background light load, not asserted: it races the shutdown.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		c := newClient()
		for ctx.Err() == nil {
			get(c, s.base+"/light")
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for inFlight(t, s.admin) < blocked {
		if time.Now().After(deadline) {
			t.Fatal("the blocking requests never showed as in flight")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var pids []int
	for _, e := range s.snapshot() {
		if e.Event == EventSpawn {
			pids = append(pids, e.Pid)
		}
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range blocked {
		if r := <-results; r.err != nil || r.status != 200 {
			t.Errorf("in-flight request during SIGTERM: %+v, want 200", r)
		}
	}
	select {
	case <-s.waited:
	case <-time.After(30 * time.Second):
		t.Fatal("master did not exit within 30s of SIGTERM")
	}
	if s.err != nil {
		t.Errorf("master exited with %v, want status 0", s.err)
	}
	if err := syscall.Kill(-s.cmd.Process.Pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still has processes after the master exited (kill: %v)", s.cmd.Process.Pid, err)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("worker %d still exists after the master exited", pid)
		}
	}
	for _, e := range s.snapshot() {
		if e.Event == EventExit && e.Reason != "shutdown" {
			t.Errorf("worker %d exited with reason %q, want shutdown", e.Pid, e.Reason)
		}
	}
}

// Test 8: bad flags get a clear error and exit status 2, and start nothing.
func TestBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"--workers", "-1"}, `--workers: got "-1", want an integer ≥ 1`},
		{[]string{"--workers", "0"}, `--workers: got "0", want an integer ≥ 1`},
		{[]string{"--workers", "two"}, "workers"},
		{[]string{"--threads", "-3"}, `--threads: got "-3", want an integer ≥ 1`},
		{[]string{"--max-requests", "-5"}, `--max-requests: got "-5", want an integer ≥ 0`},
		{[]string{"--max-requests-jitter", "-1"}, `--max-requests-jitter: got "-1", want an integer ≥ 0`},
		{[]string{"--worker-model", "bogus"}, `--worker-model: got "bogus", want one of sync, threads, loop`},
		{[]string{"--worker-model", "loop", "--offload", "gpu"}, `--offload: got "gpu", want one of none, threads, processes`},
		{[]string{"--worker-model", "loop", "--offload-workers", "0"}, `--offload-workers: got "0", want an integer in [1, 256]`},
		{[]string{"--worker-model", "loop", "--offload-workers", "-2"}, `--offload-workers: got "-2"`},
		{[]string{"--worker-model", "loop", "--switch-interval", "0s"}, `--switch-interval: got "0s", want a duration > 0`},
		{[]string{"--worker-model", "loop", "--lag-interval", "100us"}, `--lag-interval: got "100us", want a duration of at least 1ms`},
		{[]string{"--worker-model", "loop", "--lag-threshold", "-1s"}, `--lag-threshold: got "-1s"`},
		{[]string{"--worker-model", "loop", "--gil=maybe"}, "gil"},
		{[]string{"--worker-model", "sync", "--offload", "threads"}, "--offload: only with --worker-model loop"},
		{[]string{"--worker-model", "threads", "--lose-context", "--gil=false"}, "--gil, --lose-context: only with --worker-model loop"},
		{[]string{"--max-rss", "12 parsecs"}, `--max-rss: got "12 parsecs", want a size`},
		{[]string{"--leak-per-request", "-1MiB"}, "--leak-per-request"},
		{[]string{"--timeout", "5"}, "timeout"},
		{[]string{"--max-lifetime", "-1s"}, `--max-lifetime: got "-1s"`},
		{[]string{"--keepalive", "0s"}, `--keepalive: got "0s", want a duration > 0`},
		{[]string{"--keepalive", "-2s"}, `--keepalive: got "-2s"`},
		{[]string{"--no-such-flag"}, "no-such-flag"},
		{[]string{"extra-arg"}, `unexpected argument "extra-arg"`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			cmd := serveCmd(append([]string{"--bind", "127.0.0.1:0", "--admin-bind", "off"}, c.args...)...)
			var stderr lockedBuffer
			cmd.Stderr, cmd.Stdout = &stderr, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("still running after 20s; want a usage error\n%s", stderr.String())
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Errorf("exit: %v, want status 2\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("stderr %q does not mention %q", stderr.String(), c.want)
			}
			if strings.Contains(stderr.String(), "booting worker") {
				t.Errorf("a worker was started:\n%s", stderr.String())
			}
		})
	}
}
