package analysis

import (
	"sort"
	"time"

	"github.com/sawtooth-dev/sawtooth/internal/hist"
)

// sample accumulates requests for latency statistics in constant memory:
// latencies go into a histogram (quantiles to within 1%), their sum and
// the count stay exact.
type sample struct {
	lat    hist.Histogram
	sum    float64
	count  int64
	ok     int64
	errors map[string]int64
	// reuse counts reuse failures when reuseMeasured (reuse.go).
	reuse         int64
	reuseMeasured bool
}

func (s *sample) add(lat time.Duration, kind string) {
	s.lat.Record(lat)
	s.sum += lat.Seconds()
	s.count++
	if kind == "" {
		s.ok++
		return
	}
	if s.errors == nil {
		s.errors = map[string]int64{}
	}
	s.errors[kind]++
}

func (s *sample) merge(o *sample) {
	s.lat.Merge(&o.lat)
	s.sum += o.sum
	s.count += o.count
	s.ok += o.ok
	s.reuse += o.reuse
	s.reuseMeasured = s.reuseMeasured || o.reuseMeasured
	for k, v := range o.errors {
		if s.errors == nil {
			s.errors = map[string]int64{}
		}
		s.errors[k] += v
	}
}

// quantile returns the q-quantile of the latencies in seconds.
func (s *sample) quantile(q float64) float64 { return s.lat.Quantile(q).Seconds() }

func (s *sample) latency() Latency {
	l := Latency{
		P50:  s.quantile(0.50),
		P90:  s.quantile(0.90),
		P99:  s.quantile(0.99),
		P999: s.quantile(0.999),
		Max:  s.lat.Max().Seconds(),
	}
	if s.count > 0 {
		l.Mean = s.sum / float64(s.count)
	}
	return l
}

func (s *sample) classStats(class string, duration float64) ClassStats {
	c := ClassStats{Class: class, Count: s.count, OK: s.ok, Errors: copyCounts(s.errors), Latency: s.latency()}
	if s.reuseMeasured {
		n := s.reuse
		c.ReuseFailures = &n
	}
	if duration > 0 {
		c.Rate = float64(s.count) / duration
		c.Throughput = float64(s.ok) / duration
	}
	if s.count > 0 {
		c.SuccessRatio = float64(s.ok) / float64(s.count)
		c.ErrorRatio = 1 - c.SuccessRatio
	}
	return c
}

func (s *sample) group() GroupStats {
	g := GroupStats{Count: s.count, Errors: s.count - s.ok, ErrorKinds: copyCounts(s.errors), Latency: s.latency()}
	if s.count > 0 {
		g.ErrorRatio = float64(g.Errors) / float64(s.count)
	}
	return g
}

func copyCounts(m map[string]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	c := make(map[string]int64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// classList returns the classes sorted by name with AllClass last.
func classList(m map[string]*sample, duration float64) []ClassStats {
	names := make([]string, 0, len(m))
	for c := range m {
		if c != AllClass {
			names = append(names, c)
		}
	}
	sort.Strings(names)
	names = append(names, AllClass)
	out := make([]ClassStats, 0, len(names))
	for _, c := range names {
		if s := m[c]; s != nil {
			out = append(out, s.classStats(c, duration))
		} else {
			out = append(out, (&sample{}).classStats(c, duration))
		}
	}
	return out
}
