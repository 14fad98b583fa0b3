package scenarios

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Probe kinds.
const (
	// ProbeLiveness is a probe whose failure_threshold consecutive
	// failures make the orchestrator restart the container.
	ProbeLiveness = "liveness"
	// ProbeReadiness is a probe whose failures take the container out of
	// rotation until success_threshold consecutive successes.
	ProbeReadiness = "readiness"
)

// Probe defaults: Kubernetes' (periodSeconds 10, timeoutSeconds 1,
// failureThreshold 3, successThreshold 1, initialDelaySeconds 0).
const (
	DefaultProbeEvery            = Duration(10 * time.Second)
	DefaultProbeTimeout          = Duration(time.Second)
	DefaultProbeFailureThreshold = 3
	DefaultProbeSuccessThreshold = 1
)

// Probe is a health check sent as a kubelet or load balancer sends it: a
// GET of Path every Every, on a new connection, failing when it takes
// longer than Timeout or answers other than 2xx/3xx. Probe requests are
// not part of any stream: they are recorded under the probe's name and
// never counted in the traffic's latencies.
type Probe struct {
	Name string `yaml:"name" json:"name"`
	// Kind is liveness or readiness.
	Kind string `yaml:"kind" json:"kind"`
	Path string `yaml:"path" json:"path"`
	// Every is the period (default 10s), Timeout each probe's bound
	// (default 1s), InitialDelay the wait before the first (default 0).
	Every        Duration `yaml:"every,omitempty" json:"every,omitempty"`
	Timeout      Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	InitialDelay Duration `yaml:"initial_delay,omitempty" json:"initial_delay,omitempty"`
	// FailureThreshold consecutive failures fail the probe (default 3);
	// SuccessThreshold consecutive successes make a failed readiness
	// probe pass again (default 1; always 1 for liveness).
	FailureThreshold int `yaml:"failure_threshold,omitempty" json:"failure_threshold,omitempty"`
	SuccessThreshold int `yaml:"success_threshold,omitempty" json:"success_threshold,omitempty"`
}

// probeMetrics are the suffixes of probe.NAME.SUFFIX and their kinds.
func probeMetric(suffix string) (MetricKind, bool) {
	switch suffix {
	case "failures", "restarts", "longest_failure_run":
		return KindCount, true
	case "unready_seconds":
		return KindDuration, true
	}
	return 0, false
}

// isProbeMetric reports whether name has the shape probe.NAME.SUFFIX.
func isProbeMetric(name string) bool { return strings.HasPrefix(name, "probe.") }

// probeMetricKind returns the kind of a probe.NAME.SUFFIX metric.
func probeMetricKind(name string) (MetricKind, bool) {
	rest, ok := strings.CutPrefix(name, "probe.")
	if !ok {
		return 0, false
	}
	probe, suffix, ok := strings.Cut(rest, ".")
	if !ok || probe == "" {
		return 0, false
	}
	return probeMetric(suffix)
}

// knownProbeMetric returns nil when name is a probe metric of s.
func (s *Scenario) knownProbeMetric(name string) error {
	var names []string
	for _, p := range s.Probes {
		names = append(names, p.Name)
	}
	rest, _ := strings.CutPrefix(name, "probe.")
	probe, suffix, _ := strings.Cut(rest, ".")
	if _, ok := probeMetric(suffix); !ok {
		return fmt.Errorf("unknown metric %q, want probe.NAME.SUFFIX with SUFFIX one of failures, restarts, unready_seconds, longest_failure_run", name)
	}
	if !slices.Contains(names, probe) {
		if len(names) == 0 {
			return fmt.Errorf("metric %q names probe %q, and the scenario has no probes", name, probe)
		}
		return fmt.Errorf("metric %q names probe %q, which probes does not define (probes: %s)", name, probe, strings.Join(names, ", "))
	}
	return nil
}

// probeDefaults fills in Kubernetes' defaults.
func (s *Scenario) probeDefaults() {
	for i := range s.Probes {
		p := &s.Probes[i]
		if p.Every == 0 {
			p.Every = DefaultProbeEvery
		}
		if p.Timeout == 0 {
			p.Timeout = DefaultProbeTimeout
		}
		if p.FailureThreshold == 0 {
			p.FailureThreshold = DefaultProbeFailureThreshold
		}
		if p.SuccessThreshold == 0 {
			p.SuccessThreshold = DefaultProbeSuccessThreshold
		}
	}
}

// validateProbes checks the probes; classes holds the class names, which
// probe names must differ from (both name results in results.bin).
func (s *Scenario) validateProbes(d *decoder, at func(string, string, ...any), classes map[string]bool) {
	names := map[string]bool{}
	for i, p := range s.Probes {
		ip := index("probes", i)
		switch {
		case p.Name == "":
		case !classNameRE.MatchString(p.Name):
			at(ip+".name", "got %q, want letters, digits, _ and - only (the name is used in metric names such as probe.NAME.restarts)", p.Name)
		case classes[p.Name]:
			at(ip+".name", "%q is also a request class, want a name of its own (both name results)", p.Name)
		case names[p.Name]:
			at(ip+".name", "duplicate probe name %q, want each probe once", p.Name)
		}
		names[p.Name] = true
		if _, given := d.pos[ip+".kind"]; given && p.Kind != ProbeLiveness && p.Kind != ProbeReadiness {
			at(ip+".kind", "got %q, want liveness (restarts the container) or readiness (takes it out of rotation)", p.Kind)
		}
		if _, given := d.pos[ip+".path"]; given {
			if u, err := url.ParseRequestURI(p.Path); err != nil || !strings.HasPrefix(p.Path, "/") || u.Host != "" {
				at(ip+".path", "got %q, want a path relative to the base URL, starting with / (e.g. /healthz)", p.Path)
			}
		}
		if p.Every.D() < 100*time.Millisecond || p.Every.D() > time.Hour {
			at(ip+".every", "got %v, want a period from 100ms to 1h", p.Every)
		}
		if p.Timeout.D() < time.Millisecond || p.Timeout.D() > p.Every.D() && p.Every.D() >= 100*time.Millisecond {
			at(ip+".timeout", "got %v, want a timeout from 1ms up to every (%v): probes do not overlap", p.Timeout, p.Every)
		}
		if p.InitialDelay.D() > time.Hour {
			at(ip+".initial_delay", "got %v, want at most 1h", p.InitialDelay)
		}
		if p.FailureThreshold < 1 || p.FailureThreshold > 1000 {
			at(ip+".failure_threshold", "got %d, want an integer from 1 to 1000", p.FailureThreshold)
		}
		if p.SuccessThreshold < 1 || p.SuccessThreshold > 1000 {
			at(ip+".success_threshold", "got %d, want an integer from 1 to 1000", p.SuccessThreshold)
		} else if p.Kind == ProbeLiveness && p.SuccessThreshold != 1 {
			at(ip+".success_threshold", "got %d for a liveness probe, want 1 (as Kubernetes requires)", p.SuccessThreshold)
		}
	}
}
