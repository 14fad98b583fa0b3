// Package serveflags describes the flags of "sawtooth serve", the built-in
// server, once: name, type, default, bounds and documentation. The serve
// command's flags and --help (cmd/sawtooth), the Config they build
// (server.ConfigFromValues), the keys a scenario's builtin target may set
// and their validation (scenarios) and docs/server.md's flag table all
// derive from List.
//
// The package is a leaf: it imports nothing of the server, so scenarios
// can read it without the server's dependencies.
package serveflags

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sawtooth-dev/sawtooth/internal/units"
)

// Type is the type of a flag's value.
type Type int

// The types of flag values.
const (
	String   Type = iota // free text (an address, a file)
	Int                  // a signed integer within [Min, Max]
	Uint                 // an unsigned integer
	Enum                 // one of Enum
	Size                 // a byte size such as 256MiB (units.ParseSize)
	Duration             // a Go duration ≥ MinDur, or 0
	Bool                 // true or false; the bare flag means true
)

// MaxOffloadWorkers bounds --offload-workers.
const MaxOffloadWorkers = 256

// DefaultWorkerModel is --worker-model's default.
const DefaultWorkerModel = "sync"

// Flag describes one flag of "sawtooth serve".
type Flag struct {
	// Name is the flag's name without dashes ("max-requests"); Key is
	// the scenario's form of it ("max_requests").
	Name string
	Type Type
	// Default is the value when the flag is not given, as typed on the
	// command line.
	Default string
	// Min and Max bound an Int flag; Max 0 means no upper bound.
	Min, Max int64
	// MinDur is the smallest Duration allowed.
	MinDur time.Duration
	// Enum lists an Enum flag's values.
	Enum []string
	// LoopOnly flags are an error unless --worker-model is loop.
	LoopOnly bool
	// Scenario is true when a scenario's builtin target, its variants
	// and --set may set the flag (the runner sets the others itself).
	Scenario bool
	// Arg is the value's placeholder in help and docs ("N", "DURATION");
	// "" for a Bool.
	Arg string
	// Usage is the --help text, DocDefault and Doc the default and
	// meaning columns of docs/server.md's flag table (Markdown).
	Usage, DocDefault, Doc string
}

// Key is the flag's name in a scenario: dashes become underscores.
func (f Flag) Key() string { return strings.ReplaceAll(f.Name, "-", "_") }

// List returns every flag of "sawtooth serve", in help and documentation
// order. (A function, not a variable, so there is no package-level
// mutable state.)
func List() []Flag {
	loop := func(f Flag) Flag { f.LoopOnly, f.Scenario = true, true; return f }
	scen := func(f Flag) Flag { f.Scenario = true; return f }
	return []Flag{
		{Name: "bind", Type: String, Default: "127.0.0.1:8000", Arg: "ADDR",
			Usage:      "listen `ADDR` (host:port) of the workers; port 0 picks a free one (logged and written to --ready-file)",
			DocDefault: "`127.0.0.1:8000`", Doc: "listen address of the workers; port 0 picks a free port (logged as `listening at http://…`, and written to `--ready-file`)"},
		{Name: "admin-bind", Type: String, Default: "127.0.0.1:8001", Arg: "ADDR",
			Usage:      "listen `ADDR` of the admin listener (/metrics, /events); \"off\" disables it",
			DocDefault: "`127.0.0.1:8001`", Doc: "admin listener (`/metrics`, `/events`); `off` disables it"},
		scen(Flag{Name: "workers", Type: Int, Default: "2", Min: 1, Arg: "N",
			Usage:      "number of worker processes (`N` ≥ 1)",
			DocDefault: "2", Doc: "worker processes (≥ 1)"}),
		scen(Flag{Name: "worker-model", Type: Enum, Default: DefaultWorkerModel, Enum: []string{"sync", "threads", "loop"}, Arg: "MODEL",
			Usage:      "worker `MODEL`: sync (one request at a time, no keep-alive, like gunicorn sync), threads (--threads requests at once, like gthread) or loop (one event loop per worker, like uvicorn)",
			DocDefault: "`sync`", Doc: "`sync`: one request at a time, no keep-alive (gunicorn sync); `threads`: `--threads` requests at once with keep-alive (gunicorn gthread); `loop`: one event loop per worker, many keep-alive connections (a uvicorn worker; see [loop.md](loop.md))"}),
		scen(Flag{Name: "threads", Type: Int, Default: "4", Min: 1, Arg: "N",
			Usage:      "requests served at once per threads worker (`N` ≥ 1)",
			DocDefault: "4", Doc: "requests a `threads` worker serves at once"}),
		scen(Flag{Name: "max-requests", Type: Int, Default: "0", Arg: "N",
			Usage:      "retire a worker after `N` requests (plus jitter); 0 disables",
			DocDefault: "0 (off)", Doc: "retire a worker after N + jitter requests"}),
		scen(Flag{Name: "max-requests-jitter", Type: Int, Default: "0", Arg: "J",
			Usage:      "add a uniform random integer in [0, `J`] to --max-requests, drawn per worker",
			DocDefault: "0", Doc: "jitter: a uniform integer in [0, J], drawn per worker (gunicorn semantics)"}),
		scen(Flag{Name: "max-rss", Type: Size, Default: "0", Arg: "SIZE",
			Usage:      "retire a worker whose RSS passes `SIZE` (e.g. 256MiB), checked after each request and every second; 0 disables",
			DocDefault: "0 (off)", Doc: "retire a worker whose RSS passes SIZE (`256MiB`, `1.5GiB`, `64M`), checked after every request and at least once a second (uWSGI `reload-on-rss`)"}),
		scen(Flag{Name: "max-lifetime", Type: Duration, Default: "0", Arg: "DURATION",
			Usage:      "retire a worker after `DURATION` (plus jitter); 0 disables",
			DocDefault: "0 (off)", Doc: "retire a worker after DURATION + jitter"}),
		scen(Flag{Name: "max-lifetime-jitter", Type: Duration, Default: "0", Arg: "DURATION",
			Usage:      "add a uniform random duration in [0, `DURATION`] to --max-lifetime, drawn per worker",
			DocDefault: "0", Doc: "jitter: a uniform duration in [0, DURATION], drawn per worker"}),
		scen(Flag{Name: "timeout", Type: Duration, Default: "30s", Arg: "DURATION",
			Usage:      "SIGKILL a worker that sent no heartbeat for `DURATION` (a worker stuck in its requests); 0 disables",
			DocDefault: "30s", Doc: "SIGKILL a worker that sent no heartbeat for DURATION (gunicorn WORKER TIMEOUT); 0 disables"}),
		scen(Flag{Name: "graceful-timeout", Type: Duration, Default: "30s", Arg: "DURATION",
			Usage:      "how long a retiring worker may finish in-flight requests (`DURATION`) before it is killed",
			DocDefault: "30s", Doc: "how long a retiring worker may finish in-flight requests before it is killed"}),
		scen(Flag{Name: "keepalive", Type: Duration, Default: "2s", MinDur: time.Nanosecond, Arg: "DURATION",
			Usage:      "threads and loop models: close a keep-alive connection idle for `DURATION` (> 0; gunicorn's --keep-alive); a retiring worker answers a request already sent on an idle connection, with \"Connection: close\"",
			DocDefault: "2s", Doc: "`threads` and `loop`: close a keep-alive connection idle for DURATION (> 0; gunicorn's `--keep-alive`, same default). A retiring worker keeps its idle connections for this long too: a request already sent on one is answered (see [Draining](#draining))"}),
		scen(Flag{Name: "overlap", Type: Bool, Default: "false",
			Usage:      "start a retiring worker's replacement first and retire it once the replacement is ready",
			DocDefault: "off", Doc: "start a retiring worker's replacement first; retire the old one once the replacement is ready"}),
		scen(Flag{Name: "leak-per-request", Type: Size, Default: "0", Arg: "SIZE",
			Usage:      "leak `SIZE` (retained, every page touched) on every request, whatever the route; 0 disables",
			DocDefault: "0", Doc: "leak SIZE (retained, every page touched) on every request, whatever the route"}),
		scen(Flag{Name: "seed", Type: Uint, Default: "0", Arg: "SEED",
			Usage:      "`SEED` of the jitter draws, for reproducible runs; 0 picks a random one (logged)",
			DocDefault: "0 (random, logged)", Doc: "seed of the jitter draws, for reproducible runs"}),
		loop(Flag{Name: "offload", Type: Enum, Default: "none", Enum: []string{"none", "threads", "processes"}, Arg: "WHERE",
			Usage:      "loop model: where /cpu, /block and /regex run (`WHERE`): none (on the loop), threads (--offload-workers goroutines holding a GIL-like lock for CPU work) or processes (--offload-workers child processes; the payload crosses a pipe)",
			DocDefault: "`none`", Doc: "loop model: where `/cpu`, `/block` and `/regex` run: `none` (on the loop), `threads` (a pool holding a GIL-like lock for CPU work), `processes` (child processes; the payload crosses a pipe)"}),
		loop(Flag{Name: "offload-workers", Type: Int, Default: "4", Min: 1, Max: MaxOffloadWorkers, Arg: "K",
			Usage:      fmt.Sprintf("loop model: offload threads or processes per worker (`K`, 1..%d)", MaxOffloadWorkers),
			DocDefault: "4", Doc: fmt.Sprintf("loop model: offload threads or processes per worker, 1–%d", MaxOffloadWorkers)}),
		loop(Flag{Name: "switch-interval", Type: Duration, Default: "5ms", MinDur: time.Nanosecond, Arg: "DURATION",
			Usage:      "loop model: GIL switch interval (`DURATION` > 0, CPython's sys.setswitchinterval): a thread waiting this long for the GIL makes its holder drop it",
			DocDefault: "5ms", Doc: "loop model: GIL switch interval (CPython's `sys.setswitchinterval`), > 0"}),
		loop(Flag{Name: "gil", Type: Bool, Default: "true",
			Usage:      "loop model: offloaded CPU work holds the GIL; --gil=false models work that releases it (NumPy-style)",
			DocDefault: "true", Doc: "loop model: offloaded CPU work holds the GIL; `--gil=false` models work that releases it (NumPy-style)"}),
		loop(Flag{Name: "lag-interval", Type: Duration, Default: "10ms", MinDur: time.Millisecond, Arg: "DURATION",
			Usage:      "loop model: period of the loop-lag probe (`DURATION` ≥ 1ms)",
			DocDefault: "10ms", Doc: "loop model: period of the loop-lag probe, ≥ 1ms"}),
		loop(Flag{Name: "lag-threshold", Type: Duration, Default: "100ms", MinDur: time.Nanosecond, Arg: "DURATION",
			Usage:      "loop model: loop lag (`DURATION` > 0) past which a warning with a stack dump is logged (at most one dump a second)",
			DocDefault: "100ms", Doc: "loop model: lag past which a warning with a stack dump is logged (at most one dump a second), > 0"}),
		loop(Flag{Name: "lose-context", Type: Bool, Default: "false",
			Usage:      "loop model: offloaded work no longer sees the request id (run_in_executor without copying contextvars)",
			DocDefault: "off", Doc: "loop model: offloaded work no longer sees the request id (`run_in_executor` without copying contextvars)"}),
		{Name: "ready-file", Type: String, Arg: "FILE",
			Usage:      "once the workers are ready, write {\"pid\",\"bind\",\"admin\"} as JSON to `FILE` (atomically)",
			DocDefault: "none", Doc: "once the first `--workers` workers are ready, write `{\"pid\":…,\"bind\":\"127.0.0.1:PORT\",\"admin\":\"127.0.0.1:PORT\"}` to FILE (atomically: temp file + rename). A FILE whose directory cannot be written is an error at start; a write that fails when the workers are ready shuts the server down with exit status 1 (whoever waits for the file would wait forever)"},
	}
}

// Lookup returns the flag called name, in its dashed or underscore form.
func Lookup(name string) (Flag, bool) {
	name = strings.ReplaceAll(name, "_", "-")
	for _, f := range List() {
		if f.Name == name {
			return f, true
		}
	}
	return Flag{}, false
}

// Check returns "" when value fits f, or what was expected.
func (f Flag) Check(value string) string {
	v := strings.TrimSpace(value)
	switch f.Type {
	case Int:
		want := fmt.Sprintf("an integer ≥ %d", f.Min)
		if f.Max > 0 {
			want = fmt.Sprintf("an integer in [%d, %d]", f.Min, f.Max)
		}
		i, err := strconv.ParseInt(v, 10, 64)
		if err != nil || i < f.Min || (f.Max > 0 && i > f.Max) {
			return want
		}
	case Uint:
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			return "an integer ≥ 0"
		}
	case Enum:
		if !slices.Contains(f.Enum, v) {
			return "one of " + strings.Join(f.Enum, ", ")
		}
	case Size:
		if _, err := units.ParseSize(v); err != nil {
			return "a size such as 256MiB, 64KiB or 1GB (0 disables)"
		}
	case Duration:
		d, err := ParseDuration(v)
		want := "a duration such as 500ms, 30s or 10m (0 disables)"
		switch {
		case f.MinDur == time.Nanosecond:
			want = "a duration > 0 such as 5ms"
		case f.MinDur > 0:
			want = fmt.Sprintf("a duration of at least %v such as 5ms", f.MinDur)
		}
		if err != nil || d < f.MinDur {
			return want
		}
	case Bool:
		if _, err := strconv.ParseBool(v); err != nil {
			return "true or false"
		}
	}
	return ""
}

// ParseDuration parses a duration ≥ 0 as time.ParseDuration does.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return d, nil
}

// DocTable returns docs/server.md's table of the flags, in Markdown.
func DocTable() string {
	var b strings.Builder
	b.WriteString("| flag | default | meaning |\n|---|---|---|\n")
	for _, f := range List() {
		name := "--" + f.Name
		if f.Arg != "" {
			name += " " + f.Arg
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", name, f.DocDefault, f.Doc)
	}
	return b.String()
}
