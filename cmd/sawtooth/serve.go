package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/sawtooth-dev/sawtooth/server"
	"github.com/sawtooth-dev/sawtooth/server/serveflags"
)

// serveDescription is the --help text of "sawtooth serve".
const serveDescription = `A master process binds --bind once and starts --workers worker processes
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
worker more/less.`

// serveCommand is "sawtooth serve", the built-in recycling server: its
// flags are serveflags.List, and the values given build a server.Config.
// Bad flags exit with status 2.
func serveCommand() *cli.Command {
	return &cli.Command{
		Name:        "serve",
		Usage:       "run the built-in pre-fork recycling server (the system under test)",
		UsageText:   "sawtooth serve [--bind ADDR] [--workers N] [--worker-model sync|threads|loop] [--max-requests N ...] [--offload none|threads|processes ...]",
		Description: serveDescription,
		Flags:       serveFlags(),
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return cli.Exit(fmt.Sprintf("sawtooth serve: %v (see sawtooth serve --help)", err), 2)
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return cli.Exit(fmt.Sprintf("sawtooth serve: unexpected argument %q (see sawtooth serve --help)", c.Args().First()), 2)
			}
			cfg, err := server.ConfigFromValues(serveValues(c))
			if err != nil {
				return cli.Exit("sawtooth serve: "+err.Error(), 2)
			}
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			if err := server.Run(context.Background(), cfg, log); err != nil {
				return cli.Exit("sawtooth serve: "+err.Error(), 1)
			}
			return nil
		},
	}
}

// serveFlags returns the command-line flags of serveflags.List: booleans
// as booleans, every other flag as text that server.ConfigFromValues
// checks against the flag's type and bounds.
func serveFlags() []cli.Flag {
	var out []cli.Flag
	for _, f := range serveflags.List() {
		if f.Type == serveflags.Bool {
			out = append(out, &cli.BoolFlag{Name: f.Name, Value: f.Default == "true", Usage: f.Usage})
			continue
		}
		out = append(out, &cli.StringFlag{Name: f.Name, Value: f.Default, Usage: f.Usage})
	}
	return out
}

// serveValues returns the serve flags given on the command line.
func serveValues(c *cli.Context) map[string]string {
	set := map[string]string{}
	for _, f := range serveflags.List() {
		if !c.IsSet(f.Name) {
			continue
		}
		if f.Type == serveflags.Bool {
			set[f.Name] = strconv.FormatBool(c.Bool(f.Name))
		} else {
			set[f.Name] = c.String(f.Name)
		}
	}
	return set
}
