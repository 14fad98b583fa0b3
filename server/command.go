package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/sawtooth-dev/sawtooth/internal/units"
	"github.com/sawtooth-dev/sawtooth/server/loop"
	"github.com/sawtooth-dev/sawtooth/server/worker"
	"github.com/urfave/cli/v2"
)

// Command returns the "serve" command: flags, help and action. Bad flags
// exit with status 2.
func Command() *cli.Command {
	defaultLoop := loop.DefaultConfig()
	return &cli.Command{
		Name:      "serve",
		Usage:     "run the built-in pre-fork recycling server (the system under test)",
		UsageText: "sawtooth serve [--bind ADDR] [--workers N] [--worker-model sync|threads|loop] [--max-requests N ...] [--offload none|threads|processes ...]",
		Description: `A master process binds --bind once and starts --workers worker processes
(re-executions of this binary) that inherit the socket. Workers are recycled
as gunicorn and uWSGI do: --max-requests with --max-requests-jitter,
--max-rss, --max-lifetime, --timeout; --overlap starts the replacement
before the old worker stops accepting. A retiring worker drains: it stops
accepting, every response from then on carries "Connection: close", a
request already sent on an open connection is answered, and an idle
keep-alive connection is closed after --keepalive (or at --graceful-timeout).

--worker-model loop runs handler code on one event loop per worker, like a
uvicorn worker: CPU work or a blocking call on the loop stalls every request
on that worker. --offload moves /cpu, /block and /regex to a pool of threads
that share a GIL-like lock, or to child processes. A loop-lag monitor feeds
sawtooth_loop_lag_seconds and logs a stack dump past --lag-threshold. The
loop flags (--offload ... --lose-context) are an error with another model.
See docs/loop.md.

Routes (GET): /light, /cpu?ms=N, /block?ms=N, /regex?kb=N, /leak?bytes=N,
/healthz; each also takes await_ms=N. See docs/server.md.

Admin listener (--admin-bind): /metrics (Prometheus), /events (JSON lines).

Signals to the master: SIGTERM/SIGINT graceful shutdown (a second one kills
at once), SIGHUP rolling restart one worker at a time, SIGTTIN/SIGTTOU one
worker more/less.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "bind", Value: DefaultBind, Usage: "listen `ADDR` (host:port) of the workers; port 0 picks a free one (logged and written to --ready-file)"},
			&cli.StringFlag{Name: "admin-bind", Value: DefaultAdminBind, Usage: "listen `ADDR` of the admin listener (/metrics, /events); \"off\" disables it"},
			&cli.IntFlag{Name: "workers", Value: DefaultWorkers, Usage: "number of worker processes (`N` ≥ 1)"},
			&cli.StringFlag{Name: "worker-model", Value: DefaultModel, Usage: "worker `MODEL`: sync (one request at a time, no keep-alive, like gunicorn sync), threads (--threads requests at once, like gthread) or loop (one event loop per worker, like uvicorn)"},
			&cli.IntFlag{Name: "threads", Value: worker.DefaultThreads, Usage: "requests served at once per threads worker (`N` ≥ 1)"},
			&cli.Int64Flag{Name: "max-requests", Usage: "retire a worker after `N` requests (plus jitter); 0 disables"},
			&cli.Int64Flag{Name: "max-requests-jitter", Usage: "add a uniform random integer in [0, `J`] to --max-requests, drawn per worker"},
			&cli.StringFlag{Name: "max-rss", Value: "0", Usage: "retire a worker whose RSS passes `SIZE` (e.g. 256MiB), checked after each request and every second; 0 disables"},
			&cli.DurationFlag{Name: "max-lifetime", Usage: "retire a worker after `DURATION` (plus jitter); 0 disables"},
			&cli.DurationFlag{Name: "max-lifetime-jitter", Usage: "add a uniform random duration in [0, `DURATION`] to --max-lifetime, drawn per worker"},
			&cli.DurationFlag{Name: "timeout", Value: DefaultTimeout, Usage: "SIGKILL a worker that sent no heartbeat for `DURATION` (a worker stuck in its requests); 0 disables"},
			&cli.DurationFlag{Name: "graceful-timeout", Value: worker.DefaultGracefulTimeout, Usage: "how long a retiring worker may finish in-flight requests (`DURATION`) before it is killed"},
			&cli.DurationFlag{Name: "keepalive", Value: worker.DefaultKeepAlive, Usage: "threads and loop models: close a keep-alive connection idle for `DURATION` (> 0; gunicorn's --keep-alive); a retiring worker answers a request already sent on an idle connection, with \"Connection: close\""},
			&cli.BoolFlag{Name: "overlap", Usage: "start a retiring worker's replacement first and retire it once the replacement is ready"},
			&cli.StringFlag{Name: "leak-per-request", Value: "0", Usage: "leak `SIZE` (retained, every page touched) on every request, whatever the route; 0 disables"},
			&cli.Uint64Flag{Name: "seed", Usage: "`SEED` of the jitter draws, for reproducible runs; 0 picks a random one (logged)"},
			&cli.StringFlag{Name: "offload", Value: loop.OffloadNone, Usage: "loop model: where /cpu, /block and /regex run (`WHERE`): none (on the loop), threads (--offload-workers goroutines holding a GIL-like lock for CPU work) or processes (--offload-workers child processes; the payload crosses a pipe)"},
			&cli.IntFlag{Name: "offload-workers", Value: defaultLoop.OffloadWorkers, Usage: fmt.Sprintf("loop model: offload threads or processes per worker (`K`, 1..%d)", loop.MaxOffloadWorkers)},
			&cli.DurationFlag{Name: "switch-interval", Value: defaultLoop.SwitchInterval, Usage: "loop model: GIL switch interval (`DURATION` > 0, CPython's sys.setswitchinterval): a thread waiting this long for the GIL makes its holder drop it"},
			&cli.BoolFlag{Name: "gil", Value: defaultLoop.GIL, Usage: "loop model: offloaded CPU work holds the GIL; --gil=false models work that releases it (NumPy-style)"},
			&cli.DurationFlag{Name: "lag-interval", Value: defaultLoop.LagInterval, Usage: "loop model: period of the loop-lag probe (`DURATION` ≥ 1ms)"},
			&cli.DurationFlag{Name: "lag-threshold", Value: defaultLoop.LagThreshold, Usage: "loop model: loop lag (`DURATION` > 0) past which a warning with a stack dump is logged (at most one dump a second)"},
			&cli.BoolFlag{Name: "lose-context", Usage: "loop model: offloaded work no longer sees the request id (run_in_executor without copying contextvars)"},
			&cli.StringFlag{Name: "ready-file", Usage: "once the workers are ready, write {\"pid\",\"bind\",\"admin\"} as JSON to `FILE` (atomically)"},
		},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return cli.Exit(fmt.Sprintf("sawtooth serve: %v (see sawtooth serve --help)", err), 2)
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return cli.Exit(fmt.Sprintf("sawtooth serve: unexpected argument %q (see sawtooth serve --help)", c.Args().First()), 2)
			}
			cfg, err := configFromFlags(c)
			if err != nil {
				return cli.Exit("sawtooth serve: "+err.Error(), 2)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			if err := Run(context.Background(), cfg, log); err != nil {
				return cli.Exit("sawtooth serve: "+err.Error(), 1)
			}
			return nil
		},
	}
}

// loopFromFlags sets cfg.Worker.Loop from the loop flags when the model is
// loop, and reports loop flags given with another model.
func loopFromFlags(c *cli.Context, cfg *Config) error {
	if cfg.Worker.Model != "loop" {
		var set []string
		for _, f := range []string{"offload", "offload-workers", "switch-interval", "gil", "lag-interval", "lag-threshold", "lose-context"} {
			if c.IsSet(f) {
				set = append(set, "--"+f)
			}
		}
		if len(set) > 0 {
			return fmt.Errorf("%s: only with --worker-model loop (got --worker-model %s)", strings.Join(set, ", "), cfg.Worker.Model)
		}
		return nil
	}
	cfg.Worker.Loop = &loop.Config{
		Offload:        strings.TrimSpace(c.String("offload")),
		OffloadWorkers: c.Int("offload-workers"),
		SwitchInterval: c.Duration("switch-interval"),
		GIL:            c.Bool("gil"),
		LagInterval:    c.Duration("lag-interval"),
		LagThreshold:   c.Duration("lag-threshold"),
		DumpInterval:   loop.DefaultConfig().DumpInterval,
		LoseContext:    c.Bool("lose-context"),
	}
	return nil
}

// configFromFlags builds and validates a Config from the serve flags.
func configFromFlags(c *cli.Context) (Config, error) {
	cfg := Config{
		Bind:              c.String("bind"),
		AdminBind:         c.String("admin-bind"),
		Workers:           c.Int("workers"),
		MaxRequests:       c.Int64("max-requests"),
		MaxRequestsJitter: c.Int64("max-requests-jitter"),
		MaxLifetime:       c.Duration("max-lifetime"),
		MaxLifetimeJitter: c.Duration("max-lifetime-jitter"),
		Timeout:           c.Duration("timeout"),
		Seed:              c.Uint64("seed"),
		ReadyFile:         c.String("ready-file"),
		Worker: worker.Config{
			Model:           strings.TrimSpace(c.String("worker-model")),
			Threads:         c.Int("threads"),
			GracefulTimeout: c.Duration("graceful-timeout"),
			KeepAlive:       c.Duration("keepalive"),
			Overlap:         c.Bool("overlap"),
		},
	}
	var errs []string
	size := func(flag string) int64 {
		n, err := units.ParseSize(c.String(flag))
		if err != nil {
			errs = append(errs, fmt.Sprintf("--%s: %v", flag, err))
		}
		return n
	}
	cfg.Worker.MaxRSS = size("max-rss")
	cfg.Worker.LeakPerRequest = size("leak-per-request")
	if cfg.Worker.GracefulTimeout == 0 {
		cfg.Worker.GracefulTimeout = time.Nanosecond // 0 means "do not wait"
	}
	if err := loopFromFlags(c, &cfg); err != nil {
		errs = append(errs, err.Error())
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return cfg, nil
}
