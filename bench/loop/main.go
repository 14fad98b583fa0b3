// Command loop benchmarks the event-loop worker model in one process: one
// loop server on 127.0.0.1, 200 req/s of /light mixed with 2 req/s of a
// 200 ms heavy request, for offload none, threads and processes with
// CPU-heavy and blocking-heavy requests. It prints a Markdown table of
// /light p50/p99 and throughput, and the loop-lag p99, per row.
//
//	go run ./bench/loop -duration 30s
//
// With -sawtooth BINARY each row goes through the real server instead:
// "BINARY serve --worker-model loop --workers 1 --offload ..." (master, loop
// worker and offload children as separate processes), and the loop-lag p99
// is read from the master's aggregated sawtooth_loop_lag_seconds histogram
// (so it is the upper bound of the bucket holding the 99th percentile).
//
//	go build -o /tmp/sawtooth ./cmd/sawtooth && go run ./bench/loop -duration 30s -sawtooth /tmp/sawtooth
//
// With -calibrate it instead runs the shipped offload scenario (the
// built-in loop worker) and uvicorn-offload (/usr/bin/uvicorn) as shipped,
// -repeat times each, and prints the model/real table of light p99 and lag
// p99 per offload variant, medians, with the load average
// (internal/loopcalib; run it from the repository root, or pass -apps):
//
//	go run ./bench/loop -calibrate -sawtooth /tmp/sawtooth
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/server/loop"
)

func main() {
	if os.Getenv(loop.ChildEnv) == loop.ChildEnvOffload {
		if err := loop.RunOffloadChild(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	var p params
	flag.DurationVar(&p.duration, "duration", 30*time.Second, "attack duration per row")
	flag.IntVar(&p.lightRate, "light-rate", 200, "requests per second of /light")
	flag.IntVar(&p.heavyRate, "heavy-rate", 2, "requests per second of the heavy route")
	flag.IntVar(&p.heavyMS, "heavy-ms", 200, "duration of a heavy request in milliseconds")
	flag.IntVar(&p.workers, "offload-workers", 4, "offload threads or processes")
	flag.DurationVar(&p.switchInterval, "switch-interval", 5*time.Millisecond, "GIL switch interval")
	flag.StringVar(&p.sawtooth, "sawtooth", "", "measure through `BINARY` serve --worker-model loop --workers 1 instead of in-process")
	serverLog := flag.String("server-log", "", "with -sawtooth, append the server's log to `FILE` (default: discard)")
	calib := flag.Bool("calibrate", false, "instead, compare the shipped offload scenario with uvicorn-offload (needs -sawtooth and /usr/bin/uvicorn)")
	repeat := flag.Int("repeat", 3, "with -calibrate, runs of each variant (the table shows medians)")
	apps := flag.String("apps", "testdata/apps", "with -calibrate, the `DIR` of the FastAPI app")
	flag.StringVar(&p.dir, "dir", "", "with -calibrate, keep the run directories under `DIR` (default: a temporary directory)")
	flag.Parse()
	p.serverLog = io.Discard
	if *serverLog != "" {
		f, err := os.OpenFile(*serverLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/loop:", err)
			os.Exit(2)
		}
		defer f.Close()
		p.serverLog = f
	}
	if *calib {
		if err := runCalibrate(p, *apps, *repeat); err != nil {
			fmt.Fprintln(os.Stderr, "bench/loop:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(p, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench/loop:", err)
		os.Exit(1)
	}
}

type params struct {
	duration             time.Duration
	lightRate, heavyRate int
	heavyMS, workers     int
	switchInterval       time.Duration
	sawtooth             string
	serverLog            io.Writer // the server's stderr (lag warnings with stack dumps)
	dir                  string    // -calibrate's run directories
}

// row is one measured configuration.
type row struct {
	offload, heavy string
	light, hv      vegeta.Metrics
	lagP99, lagMax time.Duration
	lagN           int
}

func run(p params, w io.Writer) error {
	where, lag := "in-process loop.Server", "loop lag p99 | loop lag max"
	if p.sawtooth != "" {
		where, lag = p.sawtooth+" serve --worker-model loop --workers 1", "loop lag p99 (≤ bucket) | loop lag max (≤ bucket)"
	}
	fmt.Fprintf(w, "One loop worker (%s), %d req/s /light + %d req/s /%s?ms=%d, %v per row, %d offload workers, switch interval %v.\n\n",
		where, p.lightRate, p.heavyRate, "{cpu,block}", p.heavyMS, p.duration, p.workers, p.switchInterval)
	fmt.Fprintf(w, "| offload | heavy | light p50 | light p99 | light max | light ok/s | light errors | heavy p50 | %s |\n", lag)
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, offload := range []string{loop.OffloadNone, loop.OffloadThreads, loop.OffloadProcesses} {
		for _, heavy := range []string{"cpu", "block"} {
			measure := measure
			if p.sawtooth != "" {
				measure = measureServe
			}
			r, err := measure(p, offload, heavy)
			if err != nil {
				return fmt.Errorf("offload %s, heavy %s: %w", offload, heavy, err)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.1f | %d | %s | %s | %s |\n",
				r.offload, r.heavy, ms(r.light.Latencies.P50), ms(r.light.Latencies.P99), ms(r.light.Latencies.Max),
				r.light.Throughput, r.light.Requests-uint64(float64(r.light.Requests)*r.light.Success+0.5),
				ms(r.hv.Latencies.P50), ms(r.lagP99), ms(r.lagMax))
		}
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func measure(p params, offload, heavy string) (row, error) {
	r := row{offload: offload, heavy: heavy}
	cfg := loop.DefaultConfig()
	cfg.Offload = offload
	cfg.OffloadWorkers = p.workers
	cfg.SwitchInterval = p.switchInterval
	var mu sync.Mutex
	var lags []time.Duration
	srv, err := loop.New(cfg, loop.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnLag: func(d time.Duration) {
			mu.Lock()
			lags = append(lags, d)
			mu.Unlock()
		},
	})
	if err != nil {
		return r, err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return r, err
	}
	go func() { _ = srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()

	// Warm up connections and the offload pool; then measure lag only
	// during the attack.
	for range 5 {
		resp, err := http.Get(base + "/light")
		if err != nil {
			return r, err
		}
		resp.Body.Close()
	}
	mu.Lock()
	lags = nil
	mu.Unlock()

	attackBoth(p, base, heavy, &r)

	mu.Lock()
	obs := slices.Clone(lags)
	mu.Unlock()
	slices.Sort(obs)
	if len(obs) > 0 {
		r.lagN = len(obs)
		r.lagP99 = obs[min(len(obs)-1, len(obs)*99/100)]
		r.lagMax = obs[len(obs)-1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		return r, err
	}
	return r, nil
}

// attackBoth drives base with /light and the heavy route at once for
// p.duration and fills r.light and r.hv.
func attackBoth(p params, base, heavy string, r *row) {
	attack := func(path string, rate int, m *vegeta.Metrics, wg *sync.WaitGroup) {
		defer wg.Done()
		a := vegeta.NewAttacker(vegeta.Timeout(30*time.Second), vegeta.KeepAlive(true))
		tr := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: base + path})
		for res := range a.Attack(tr, vegeta.Rate{Freq: rate, Per: time.Second}, p.duration, path) {
			m.Add(res)
		}
		m.Close()
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go attack("/light", p.lightRate, &r.light, &wg)
	go attack(fmt.Sprintf("/%s?ms=%d", heavy, p.heavyMS), p.heavyRate, &r.hv, &wg)
	wg.Wait()
}
