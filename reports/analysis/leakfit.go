package analysis

import (
	"fmt"
	"math"
	"strings"
)

// Limits of the per-class leak fit (see docs/reports.md, "Leak per
// request class").
const (
	// LeakConfidence is the confidence level of the intervals.
	LeakConfidence = 0.95
	// LeakMaxCondition is the largest condition number of the class
	// columns (each scaled to unit length) for which the split is
	// attempted: beyond it the classes' counts are collinear.
	LeakMaxCondition = 1e6
	// LeakMinResolution is the smallest interval half-width, in bytes
	// per request, that never makes a split unidentifiable: a class known
	// to within ±1 page per request is separated whatever the mix's leak.
	LeakMinResolution = 4096
	// maxAR1Inflation caps the variance inflation for autocorrelated
	// residuals.
	maxAR1Inflation = 100
)

// Interval is an estimate with its confidence interval, in the unit of
// the quantity (bytes per request for a leak).
type Interval struct {
	Value float64 `json:"value"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
}

// Contains reports whether x is within the interval.
func (i Interval) Contains(x float64) bool { return i.Low <= x && x <= i.High }

// ClassLeak is one request class of a LeakFit.
type ClassLeak struct {
	Class string `json:"class"`
	// Requests is the responses of the class that named their worker;
	// Share is their fraction of all such responses.
	Requests int64   `json:"requests"`
	Share    float64 `json:"share"`
	// PerRequest is the class's slope: memory retained per request of
	// the class. Absent when the split is not identifiable.
	PerRequest *Interval `json:"per_request,omitempty"`
	// VIF is the variance inflation factor of the class's column: how
	// much collinearity with the other classes widens its interval
	// (1 when the classes vary independently). Absent with one class.
	VIF float64 `json:"vif,omitempty"`
}

// LeakFit is the fit of each worker's memory against its cumulative
// requests served per class: one intercept per worker life, one slope
// per class, pooled over workers (and repeats, for a variant), by least
// squares. Intervals are Student-t at LeakConfidence with standard
// errors widened for the lag-1 autocorrelation of the residuals.
type LeakFit struct {
	// Memory is "rss" or "pss".
	Memory string `json:"memory"`
	// Identifiable is false when the classes cannot be told apart; Reason
	// then says why, and no class has a PerRequest.
	Identifiable bool        `json:"identifiable"`
	Reason       string      `json:"reason,omitempty"`
	Classes      []ClassLeak `json:"classes"`
	// Mix is the leak per request at the run's traffic mix: one slope
	// against all requests served. It is defined when the split is not.
	Mix *Interval `json:"mix,omitempty"`
	// Base is the median over worker lives of the fitted memory at zero
	// requests: the size of a fresh worker.
	Base float64 `json:"base,omitempty"`
	// R2 is the fraction of the within-life variance of memory the class
	// slopes explain; Condition the condition number of the scaled class
	// columns.
	R2        float64 `json:"r2,omitempty"`
	Condition float64 `json:"condition,omitempty"`
	// Autocorrelation is the lag-1 autocorrelation of the residuals
	// within lives, by which the intervals were widened.
	Autocorrelation float64 `json:"autocorrelation,omitempty"`
	// N is the memory samples fitted, Lives the worker lives.
	N     int `json:"n"`
	Lives int `json:"lives"`
}

// Leak returns the class's leak per request and true, or false when the
// class is not in the fit or the split is not identifiable.
func (f *LeakFit) Leak(class string) (Interval, bool) {
	if f == nil {
		return Interval{}, false
	}
	for _, c := range f.Classes {
		if c.Class == class && c.PerRequest != nil {
			return *c.PerRequest, true
		}
	}
	return Interval{}, false
}

// LeakStats are the per-class leak fits of a run or a variant.
type LeakStats struct {
	// Header is the response header that named the worker.
	Header string   `json:"header"`
	RSS    LeakFit  `json:"rss"`
	PSS    *LeakFit `json:"pss,omitempty"`
}

// fitLeaks fits RSS and, when every life has it, PSS.
func fitLeaks(lives []leakLife, classes []string, header string) *LeakStats {
	if len(lives) == 0 {
		return nil
	}
	ls := &LeakStats{Header: header, RSS: fitLeak(lives, classes, "rss")}
	for _, l := range lives {
		if l.pss == nil {
			return ls
		}
	}
	pss := fitLeak(lives, classes, "pss")
	ls.PSS = &pss
	return ls
}

// fitLeak fits one memory kind ("rss" or "pss") of lives against the
// requests served of classes.
func fitLeak(lives []leakLife, classes []string, memory string) LeakFit {
	f := LeakFit{Memory: memory, Lives: len(lives), Classes: classRequests(lives, classes)}
	ys := make([][]float64, len(lives))
	for i, l := range lives {
		ys[i] = l.rss
		if memory == "pss" {
			ys[i] = l.pss
		}
		f.N += len(ys[i])
	}
	// The mix: one column, all requests served.
	all := func(l leakLife, j int) []float64 {
		x := make([]float64, len(l.rss))
		for _, c := range classes {
			for k, v := range l.counts[c] {
				x[k] += v
			}
		}
		return x
	}
	mix, err := olsFit(lives, ys, 1, all)
	if err == nil {
		f.Mix = &mix.coef[0]
		f.Base = mix.base
		f.R2 = mix.r2
	}
	if len(classes) == 0 {
		f.Reason = "no request class"
		return f
	}
	var missing []string
	for _, c := range f.Classes {
		if c.Requests == 0 {
			missing = append(missing, c.Class)
		}
	}
	if len(missing) > 0 {
		f.Reason = fmt.Sprintf("no response of %s named its worker: its share cannot be told from the others'", strings.Join(missing, ", "))
		return f
	}
	f.splitByClass(lives, ys, classes)
	return f
}

// classRequests are the requests of each class the lives served (the
// counts at each life's last sample) and their shares of all.
func classRequests(lives []leakLife, classes []string) []ClassLeak {
	var out []ClassLeak
	var total int64
	for _, c := range classes {
		var n float64
		for _, l := range lives {
			if xs := l.counts[c]; len(xs) > 0 {
				n += xs[len(xs)-1]
			}
		}
		out = append(out, ClassLeak{Class: c, Requests: int64(math.Round(n))})
		total += int64(math.Round(n))
	}
	for i := range out {
		if total > 0 {
			out[i].Share = float64(out[i].Requests) / float64(total)
		}
	}
	return out
}

// splitByClass fits memory ys against each class's requests, one column
// a class, and keeps the per-class leaks when the fit can tell them
// apart (each interval no wider than the resolution); f.Reason says why
// not otherwise.
func (f *LeakFit) splitByClass(lives []leakLife, ys [][]float64, classes []string) {
	byClass := func(l leakLife, j int) []float64 {
		if xs := l.counts[classes[j]]; len(xs) > 0 {
			return xs
		}
		return make([]float64, len(l.rss))
	}
	split, err := olsFit(lives, ys, len(classes), byClass)
	f.Condition = split.cond
	if err != nil {
		f.Reason = err.Error()
		return
	}
	resolution := float64(LeakMinResolution)
	if f.Mix != nil {
		resolution = math.Max(resolution, math.Abs(f.Mix.Value))
	}
	for j, c := range split.coef {
		if half := (c.High - c.Low) / 2; half > resolution {
			f.Reason = fmt.Sprintf("the classes' counts vary together too much to separate them: the 95%% interval of %s is ±%s per request, wider than %s; vary the mix over time (docs/reports.md)",
				classes[j], FormatValue(half, UnitBytes), FormatValue(resolution, UnitBytes))
			return
		}
	}
	f.Identifiable = true
	f.R2, f.Base, f.Autocorrelation = split.r2, split.base, split.rho
	for j := range f.Classes {
		c := split.coef[j]
		f.Classes[j].PerRequest = &c
		if len(classes) > 1 {
			f.Classes[j].VIF = split.vif[j]
		}
	}
}

// leakMetrics returns all.leak_per_request (the mix's) and
// CLASS.leak_per_request for each class of an identifiable RSS split.
func leakMetrics(ls *LeakStats) []Metric {
	if ls == nil {
		return nil
	}
	var out []Metric
	if ls.RSS.Mix != nil {
		out = append(out, measure(AllClass+".leak_per_request", ls.RSS.Mix.Value))
	}
	if !ls.RSS.Identifiable {
		return out
	}
	for _, c := range ls.RSS.Classes {
		if c.PerRequest != nil {
			out = append(out, measure(c.Class+".leak_per_request", c.PerRequest.Value))
		}
	}
	return out
}
