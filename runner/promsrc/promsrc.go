// Package promsrc reads a target's worker memory and restarts from a
// Prometheus server's HTTP API, with the official client
// (github.com/prometheus/client_golang/api/prometheus/v1), and turns them
// into the rows and events the local /proc sampler writes: one memory.csv
// row per worker series and step, a spawn event where a series starts, an
// exit where it ends or where the restarts counter rises.
package promsrc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// EventSource is the source of the events this package makes, as written
// in events.jsonl.
const EventSource = "prometheus"

// maxPoints is the most points one query_range asks for per series
// (Prometheus refuses more than 11,000); longer runs are queried in
// chunks.
const maxPoints = 10000

// Config says where and what to query.
type Config struct {
	// URL is the Prometheus server, e.g. http://127.0.0.1:9090.
	URL string
	// Memory is PromQL with one series per worker, in bytes.
	Memory string
	// Worker is the label that names a worker.
	Worker string
	// Restarts is an optional PromQL counter of worker exits.
	Restarts string
	// Step is the query_range resolution: the sample interval.
	Step time.Duration
}

// Source queries one Prometheus server.
type Source struct {
	cfg Config
	api v1.API
}

// New returns a Source for cfg. It does not contact the server.
func New(cfg Config) (*Source, error) {
	if cfg.Step <= 0 {
		return nil, errors.New("prometheus: step must be positive")
	}
	c, err := api.NewClient(api.Config{Address: cfg.URL, Client: &http.Client{Timeout: 30 * time.Second}})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", cfg.URL, err)
	}
	return &Source{cfg: cfg, api: v1.NewAPI(c)}, nil
}

// queryError names the query, its field and the server in an error.
func (s *Source) queryError(field, query string, err error) error {
	return fmt.Errorf("sample.prometheus.%s: query %q at %s: %w", field, query, s.cfg.URL, err)
}

// Check runs every query once, at the time of the call: it fails when the
// server cannot be reached or refuses a query (a syntax error), and when
// the memory query has returned no series after wait (it is retried until
// then, as a target just started may not have been scraped yet). A
// restarts counter may have no series yet (a counter with labels has none
// until its first increment).
func (s *Source) Check(ctx context.Context, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	if s.cfg.Restarts != "" {
		if _, _, err := s.api.Query(ctx, s.cfg.Restarts, time.Now()); err != nil {
			return s.queryError("restarts", s.cfg.Restarts, err)
		}
	}
	for {
		v, _, err := s.api.Query(ctx, s.cfg.Memory, time.Now())
		if err != nil {
			return s.queryError("memory", s.cfg.Memory, err)
		}
		vec, ok := v.(model.Vector)
		if !ok {
			return s.queryError("memory", s.cfg.Memory, fmt.Errorf("got a %s, want an instant vector (one series per worker)", v.Type()))
		}
		if len(vec) > 0 {
			return nil
		}
		if !time.Now().Before(deadline) {
			return s.queryError("memory", s.cfg.Memory, fmt.Errorf("no series after %v (is Prometheus scraping the target, and does the metric exist? try the query in Prometheus's expression browser)", wait.Round(time.Millisecond)))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// ScrapeInterval returns the scrape interval Prometheus's configuration
// gives the jobs named (the longest of them), or its global one when no
// job is named or found.
func (s *Source) ScrapeInterval(ctx context.Context, jobs []string) (time.Duration, error) {
	cfg, err := s.api.Config(ctx)
	if err != nil {
		return 0, fmt.Errorf("prometheus %s: read its configuration: %w", s.cfg.URL, err)
	}
	return scrapeInterval(cfg.YAML, jobs)
}

// scrapeInterval reads the scrape interval of jobs from a Prometheus
// configuration file.
func scrapeInterval(text string, jobs []string) (time.Duration, error) {
	var c struct {
		Global struct {
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"global"`
		ScrapeConfigs []struct {
			JobName        string `yaml:"job_name"`
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal([]byte(text), &c); err != nil {
		return 0, fmt.Errorf("parse Prometheus's configuration: %w", err)
	}
	parse := func(s string) (time.Duration, error) {
		if s == "" {
			return time.Minute, nil // Prometheus's default
		}
		d, err := model.ParseDuration(s)
		return time.Duration(d), err
	}
	global, err := parse(c.Global.ScrapeInterval)
	if err != nil {
		return 0, fmt.Errorf("Prometheus's global scrape_interval %q: %w", c.Global.ScrapeInterval, err)
	}
	var found time.Duration
	for _, sc := range c.ScrapeConfigs {
		for _, j := range jobs {
			if sc.JobName != j {
				continue
			}
			d := global
			if sc.ScrapeInterval != "" {
				if d, err = parse(sc.ScrapeInterval); err != nil {
					return 0, fmt.Errorf("scrape_interval %q of job %s: %w", sc.ScrapeInterval, j, err)
				}
			}
			found = max(found, d)
		}
	}
	if found == 0 {
		return global, nil
	}
	return found, nil
}

// queryRange runs query over [start, end] at the configured step, in
// chunks of at most maxPoints steps, and returns its series merged by
// label set.
func (s *Source) queryRange(ctx context.Context, field, query string, start, end time.Time) (model.Matrix, error) {
	bySig := map[model.Fingerprint]*model.SampleStream{}
	var order []model.Fingerprint
	chunk := s.cfg.Step * maxPoints
	for from := start; !from.After(end); from = from.Add(chunk) {
		to := from.Add(chunk - s.cfg.Step)
		if to.After(end) {
			to = end
		}
		v, _, err := s.api.QueryRange(ctx, query, v1.Range{Start: from, End: to, Step: s.cfg.Step})
		if err != nil {
			return nil, s.queryError(field, query, err)
		}
		m, ok := v.(model.Matrix)
		if !ok {
			return nil, s.queryError(field, query, fmt.Errorf("got a %s, want a range of series", v.Type()))
		}
		for _, ss := range m {
			fp := ss.Metric.Fingerprint()
			if have, ok := bySig[fp]; ok {
				have.Values = append(have.Values, ss.Values...)
				continue
			}
			bySig[fp] = ss
			order = append(order, fp)
		}
	}
	out := make(model.Matrix, 0, len(order))
	for _, fp := range order {
		out = append(out, bySig[fp])
	}
	return out, nil
}

// jobs returns the distinct "job" labels of m, sorted.
func jobs(m model.Matrix) []string {
	seen := map[string]bool{}
	var out []string
	for _, ss := range m {
		if j := string(ss.Metric["job"]); j != "" && !seen[j] {
			seen[j] = true
			out = append(out, j)
		}
	}
	sort.Strings(out)
	return out
}

// Describe says where memory came from, for a report.
func (c Config) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "memory came from Prometheus at %s: %q, one series per %s label", c.URL, c.Memory, c.Worker)
	if c.Restarts != "" {
		fmt.Fprintf(&b, ", restarts from %q", c.Restarts)
	}
	return b.String()
}
