package scenarios

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// URLTarget is a server that sawtooth does not start or stop: one already
// running, in a container, on a staging host or as pods behind a service.
// The runner waits until Ready answers, attacks BaseURL and records; the
// server's configuration is the user's. Variants of a URL target differ
// in the values of Vars, which traffic paths and header values use as
// placeholders "{{name}}", and which Before, a command run before each
// run (e.g. a kubectl rollout), may pass on to the server.
type URLTarget struct {
	// BaseURL is where the traffic goes, e.g. http://127.0.0.1:8000.
	BaseURL string `yaml:"base_url" json:"base_url"`
	// Ready is polled until it answers 2xx (default: BaseURL's /).
	Ready Ready `yaml:"ready,omitempty" json:"ready,omitempty"`
	// Vars are values that traffic paths and header values use as
	// "{{name}}"; variants, the matrix and --set override them.
	Vars map[string]string `yaml:"vars,omitempty" json:"vars,omitempty"`
	// Before is run, and waited for, before each variant and repeat,
	// before the wait for Ready.
	Before *Hook `yaml:"before,omitempty" json:"before,omitempty"`
}

// Hook is a command run to completion without a shell, in its own
// process group; a non-zero exit or the timeout fails the run.
type Hook struct {
	// Argv is the program and its arguments; they may use the target's
	// placeholders ({{base_url}} and its vars).
	Argv []string `yaml:"argv" json:"argv"`
	// Timeout bounds it (default DefaultHookTimeout).
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// DefaultHookTimeout is the default of Hook.Timeout.
const DefaultHookTimeout = Duration(10 * time.Minute)

// PrometheusSource reads the target's worker memory and restarts from a
// Prometheus server's HTTP API after the run, instead of from /proc:
// memory.csv gets one row per worker series and step (the sample
// interval), and events.jsonl a spawn where a series starts and an exit
// where it ends or where the restarts counter rises.
type PrometheusSource struct {
	// URL is the Prometheus server, e.g. http://127.0.0.1:9090.
	URL string `yaml:"url" json:"url"`
	// Memory is a PromQL expression giving one series per worker whose
	// value is its memory in bytes, e.g. sawtooth_worker_rss_bytes.
	Memory string `yaml:"memory" json:"memory"`
	// Worker is the label that names a worker: pid, pod, instance
	// (default pid). A numeric label is the worker's pid in memory.csv;
	// other values are numbered 1, 2, ... in order of appearance.
	Worker string `yaml:"worker,omitempty" json:"worker,omitempty"`
	// Restarts is an optional PromQL expression for a counter of worker
	// exits, e.g. sawtooth_worker_exits_total; a "reason" label, if any,
	// becomes the exits' reason.
	Restarts string `yaml:"restarts,omitempty" json:"restarts,omitempty"`
}

// DefaultWorkerLabel is the default of PrometheusSource.Worker.
const DefaultWorkerLabel = "pid"

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// urlPlaceholders are the placeholders every URL target defines for its
// traffic, besides its vars.
func urlPlaceholders() []string { return []string{"base_url"} }

// validateURLTarget checks a URL target and the traffic's placeholders.
func (s *Scenario) validateURLTarget(u *URLTarget, given func(string) bool, at func(string, string, ...any)) {
	const p = "target.url"
	if given(p + ".base_url") {
		if b, err := url.Parse(u.BaseURL); err != nil || (b.Scheme != "http" && b.Scheme != "https") || b.Host == "" || strings.Contains(u.BaseURL, "{{") {
			at(p+".base_url", "got %q, want an http URL such as http://127.0.0.1:8000 (no placeholders: nothing is started)", u.BaseURL)
		}
	}
	for _, k := range sortedKeys(u.Vars) {
		if !varNameRE.MatchString(k) || slices.Contains(reservedVars(), k) {
			at(p+".vars."+k, "bad variable name %q, want letters, digits and _ not starting with a digit, and not one of %s", k, strings.Join(reservedVars(), ", "))
		}
	}
	s.checkURL(p+".ready.url", u.Ready.URL, nil, at)
	if u.Ready.Timeout.D() > time.Hour {
		at(p+".ready.timeout", "got %v, want at most 1h", u.Ready.Timeout)
	}
	names := append(urlPlaceholders(), sortedKeys(u.Vars)...)
	if h := u.Before; h != nil {
		if len(h.Argv) == 0 {
			at(p+".before.argv", "empty, want the program and its arguments, e.g. [/usr/bin/kubectl, rollout, status, deploy/web]")
		} else if strings.TrimSpace(h.Argv[0]) == "" {
			at(p+".before.argv[0]", "empty program name, want a path such as /usr/bin/kubectl")
		}
		for i, a := range h.Argv {
			s.checkPlaceholders(index(p+".before.argv", i), a, names, at)
		}
		if h.Timeout.D() > 24*time.Hour {
			at(p+".before.timeout", "got %v, want at most 24h", h.Timeout)
		}
	}
	check := func(path string, classes []RequestClass) {
		for i, c := range classes {
			tp := index(path, i)
			s.checkPlaceholders(tp+".path", c.Path, names, at)
			for _, h := range sortedKeys(c.Headers) {
				s.checkPlaceholders(tp+".headers."+h, c.Headers[h], names, at)
			}
		}
	}
	check("traffic", s.Traffic)
	for i, st := range s.Streams {
		check(index("streams", i)+".traffic", st.Traffic)
	}
}

// validatePrometheus checks sample.prometheus.
func (s *Scenario) validatePrometheus(ps *PrometheusSource, given func(string) bool, at func(string, string, ...any)) {
	const p = "sample.prometheus"
	if given(p + ".url") {
		if u, err := url.Parse(ps.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			at(p+".url", "got %q, want the Prometheus server's http URL such as http://127.0.0.1:9090", ps.URL)
		}
	}
	if given(p+".memory") && strings.TrimSpace(ps.Memory) == "" {
		at(p+".memory", "empty, want a PromQL query with one series per worker, e.g. sawtooth_worker_rss_bytes")
	}
	if !labelNameRE.MatchString(ps.Worker) {
		at(p+".worker", "got %q, want a label name such as pid, pod or instance", ps.Worker)
	}
	if given(p+".restarts") && strings.TrimSpace(ps.Restarts) == "" {
		at(p+".restarts", "empty, want a PromQL counter of worker exits, e.g. sawtooth_worker_exits_total, or leave it out")
	}
}

// urlSettable is settable for a URL target: its vars.
func urlSettable(u *URLTarget) ([]string, func(name, value string) error) {
	return sortedKeys(u.Vars), func(name, _ string) error {
		if _, ok := u.Vars[name]; !ok {
			if len(u.Vars) == 0 {
				return fmt.Errorf("%q is not a variable of the url target, which defines none: sawtooth does not configure a server it did not start (want a key of target.url.vars, used in traffic paths or headers)", name)
			}
			return fmt.Errorf("%q is not a variable of the url target, want one of %s", name, strings.Join(sortedKeys(u.Vars), ", "))
		}
		return nil
	}
}

// applyURLDefaults fills in the defaults of a URL target and a
// Prometheus source.
func (s *Scenario) applyURLDefaults() {
	if u := s.Target.URL; u != nil {
		u.BaseURL = strings.TrimRight(u.BaseURL, "/")
		if u.Ready.URL == "" {
			u.Ready.URL = DefaultReadyURL
		}
		if u.Ready.Timeout == 0 {
			u.Ready.Timeout = DefaultReadyTimeout
		}
		if u.Before != nil && u.Before.Timeout == 0 {
			u.Before.Timeout = DefaultHookTimeout
		}
	}
	if ps := s.Sample.Prometheus; ps != nil {
		if ps.Worker == "" {
			ps.Worker = DefaultWorkerLabel
		}
		ps.URL = strings.TrimRight(ps.URL, "/")
	}
}
