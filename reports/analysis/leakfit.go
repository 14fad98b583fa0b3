package analysis

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
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

// leakOptions say how the per-class leak fit reads a run: the response
// header that names the worker, and the seconds of warm-up left out.
type leakOptions struct {
	header string
	warmup float64
}

// leakLife is one worker life: its memory samples and, at each, the
// responses of each class it had served.
type leakLife struct {
	rss, pss []float64            // pss nil when not read
	counts   map[string][]float64 // by class, one per sample
}

// classLog counts, from one pass over the results, the responses of each
// class each worker served, by completion time in steps of servedStep.
type classLog struct {
	pidHeader string
	counts    map[classStep]int64
}

type classStep struct {
	pid   int
	step  int64
	class string
}

func newClassLog(pidHeader string) *classLog {
	return &classLog{pidHeader: pidHeader, counts: map[classStep]int64{}}
}

// add counts a response of class that completed at t, if it names its
// worker.
func (l *classLog) add(res *vegeta.Result, class string, t float64) {
	if len(res.Headers) == 0 {
		return
	}
	pid, err := strconv.Atoi(res.Headers.Get(l.pidHeader))
	if err != nil || pid <= 0 {
		return
	}
	l.counts[classStep{pid, step(t), class}]++
}

// cumulative is one worker's responses of one class: by the end of
// ends[i], n[i] in all.
type cumulative struct {
	ends []float64
	n    []float64
}

// at returns the responses counted by t, linear within a step.
func (c cumulative) at(t float64) float64 {
	i := sort.SearchFloat64s(c.ends, t)
	if i == len(c.ends) {
		return c.n[len(c.n)-1]
	}
	prev := 0.0
	if i > 0 {
		prev = c.n[i-1]
	}
	lo := c.ends[i] - servedStep
	if t <= lo {
		return prev
	}
	return prev + (c.n[i]-prev)*(t-lo)/servedStep
}

// series returns, per worker pid and class, the cumulative counts.
func (l *classLog) series() map[int]map[string]cumulative {
	type key struct {
		pid   int
		class string
	}
	steps := map[key][]int64{}
	for k := range l.counts {
		kk := key{k.pid, k.class}
		steps[kk] = append(steps[kk], k.step)
	}
	out := map[int]map[string]cumulative{}
	for k, ss := range steps {
		sort.Slice(ss, func(i, j int) bool { return ss[i] < ss[j] })
		c := cumulative{}
		total := 0.0
		for _, s := range ss {
			total += float64(l.counts[classStep{k.pid, s, k.class}])
			c.ends = append(c.ends, float64(s+1)*servedStep)
			c.n = append(c.n, total)
		}
		if out[k.pid] == nil {
			out[k.pid] = map[string]cumulative{}
		}
		out[k.pid][k.class] = c
	}
	return out
}

// leakLives builds the worker lives of one run: each worker that named
// itself in a response, its samples from warmup (seconds of load) up to
// its exit (or the stop of the target), at least two of them.
func leakLives(workers map[int][]memPoint, counts map[int]map[string]cumulative, exits []Exit, warmup, stop float64) []leakLife {
	exitAt := map[int]float64{}
	for _, x := range exits {
		exitAt[x.PID] = x.T
	}
	pids := make([]int, 0, len(workers))
	for pid := range workers {
		if counts[pid] != nil {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	var lives []leakLife
	for _, pid := range pids {
		end := stop
		if t, ok := exitAt[pid]; ok {
			end = math.Min(end, t)
		}
		life := leakLife{counts: map[string][]float64{}}
		havePSS := true
		for _, p := range workers[pid] {
			if p.T > end || p.T < warmup {
				continue
			}
			life.rss = append(life.rss, float64(p.RSS))
			life.pss = append(life.pss, float64(p.PSS))
			havePSS = havePSS && p.PSS >= 0
			for class, c := range counts[pid] {
				life.counts[class] = append(life.counts[class], c.at(p.T))
			}
		}
		if len(life.rss) < 2 {
			continue
		}
		if !havePSS {
			life.pss = nil
		}
		lives = append(lives, life)
	}
	return lives
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
	f := LeakFit{Memory: memory, Lives: len(lives)}
	ys := make([][]float64, len(lives))
	var total int64
	for i, l := range lives {
		ys[i] = l.rss
		if memory == "pss" {
			ys[i] = l.pss
		}
		f.N += len(ys[i])
	}
	// Requests per class are the counts at each life's last sample.
	for _, c := range classes {
		var n float64
		for _, l := range lives {
			if xs := l.counts[c]; len(xs) > 0 {
				n += xs[len(xs)-1]
			}
		}
		f.Classes = append(f.Classes, ClassLeak{Class: c, Requests: int64(math.Round(n))})
		total += int64(math.Round(n))
	}
	for i := range f.Classes {
		if total > 0 {
			f.Classes[i].Share = float64(f.Classes[i].Requests) / float64(total)
		}
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
		return f
	}
	resolution := float64(LeakMinResolution)
	if f.Mix != nil {
		resolution = math.Max(resolution, math.Abs(f.Mix.Value))
	}
	for j, c := range split.coef {
		if half := (c.High - c.Low) / 2; half > resolution {
			f.Reason = fmt.Sprintf("the classes' counts vary together too much to separate them: the 95%% interval of %s is ±%s per request, wider than %s; vary the mix over time (docs/reports.md)",
				classes[j], FormatValue(half, UnitBytes), FormatValue(resolution, UnitBytes))
			return f
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
	return f
}

// olsResult is a least-squares fit with one intercept per life.
type olsResult struct {
	coef []Interval
	vif  []float64
	cond float64
	r2   float64
	rho  float64 // lag-1 autocorrelation of the residuals
	base float64 // median intercept over lives
}

// olsFit regresses ys (one series per life) on k columns per life, given
// by col(life, j), with one intercept per life: each life is centred on
// its own means, which leaves the slopes of the full model (Frisch-Waugh)
// with n - lives - k residual degrees of freedom. It fails, saying why,
// when the columns are collinear or there are too few samples.
func olsFit(lives []leakLife, ys [][]float64, k int, col func(l leakLife, j int) []float64) (olsResult, error) {
	var res olsResult
	n := 0
	for _, y := range ys {
		n += len(y)
	}
	df := n - len(lives) - k
	if df < 1 {
		return res, fmt.Errorf("too few memory samples (%d over %d worker lives) for %d slopes", n, len(lives), k)
	}
	x := mat.NewDense(n, k, nil)
	y := mat.NewVecDense(n, nil)
	means := make([][]float64, len(lives)) // per life: k column means then the y mean
	row := 0
	for i, l := range lives {
		m := len(ys[i])
		means[i] = make([]float64, k+1)
		cols := make([][]float64, k)
		for j := range cols {
			cols[j] = col(l, j)
			means[i][j] = mean(cols[j])
		}
		means[i][k] = mean(ys[i])
		for r := 0; r < m; r++ {
			for j := range cols {
				x.Set(row+r, j, cols[j][r]-means[i][j])
			}
			y.SetVec(row+r, ys[i][r]-means[i][k])
		}
		row += m
	}
	// Scale each column to unit length, so that the condition number
	// measures collinearity, not units.
	scale := make([]float64, k)
	for j := 0; j < k; j++ {
		scale[j] = mat.Norm(x.ColView(j), 2)
		if scale[j] == 0 {
			return res, fmt.Errorf("the requests served do not vary within any worker life")
		}
		for r := 0; r < n; r++ {
			x.Set(r, j, x.At(r, j)/scale[j])
		}
	}
	var svd mat.SVD
	if !svd.Factorize(x, mat.SVDThin) {
		return res, fmt.Errorf("the least-squares fit did not converge")
	}
	res.cond = svd.Cond()
	if math.IsInf(res.cond, 1) || res.cond > LeakMaxCondition {
		return res, fmt.Errorf("the classes' counts are collinear (condition number %.3g): every worker served them in the same proportions; vary the mix over time (docs/reports.md)", res.cond)
	}
	var beta mat.VecDense
	if err := beta.SolveVec(x, y); err != nil {
		return res, fmt.Errorf("least squares: %w", err)
	}
	var fitted, resid mat.VecDense
	fitted.MulVec(x, &beta)
	resid.SubVec(y, &fitted)
	ssr := mat.Dot(&resid, &resid)
	sst := mat.Dot(y, y)
	res.r2 = 1
	if sst > 0 {
		res.r2 = 1 - ssr/sst
	}
	var xtx, inv mat.Dense
	xtx.Mul(x.T(), x)
	if err := inv.Inverse(&xtx); err != nil {
		return res, fmt.Errorf("the classes' counts are collinear: %w", err)
	}
	res.rho = lag1(resid.RawVector().Data, ys)
	sigma2 := ssr / float64(df) * ar1Inflation(res.rho)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(1 - (1-LeakConfidence)/2)
	b := make([]float64, k)
	for j := 0; j < k; j++ {
		b[j] = beta.AtVec(j) / scale[j]
		se := math.Sqrt(sigma2*inv.At(j, j)) / scale[j]
		res.coef = append(res.coef, Interval{Value: b[j], Low: b[j] - t*se, High: b[j] + t*se})
		res.vif = append(res.vif, inv.At(j, j))
	}
	intercepts := make([]float64, len(lives))
	for i := range lives {
		a := means[i][k]
		for j := 0; j < k; j++ {
			a -= b[j] * means[i][j]
		}
		intercepts[i] = a
	}
	sort.Float64s(intercepts)
	res.base = median(intercepts)
	return res, nil
}

// ar1Inflation returns (1+ρ)/(1−ρ) for the lag-1 autocorrelation ρ of
// the residuals (1 when ρ ≤ 0): memory noise lasts from one sample to
// the next, so the samples carry less information than their number
// says, and the ordinary standard errors would be too narrow.
func ar1Inflation(rho float64) float64 {
	if rho <= 0 {
		return 1
	}
	if rho >= 1 {
		return maxAR1Inflation
	}
	return math.Min((1+rho)/(1-rho), maxAR1Inflation)
}

// lag1 returns the lag-1 autocorrelation of the residuals within lives.
func lag1(resid []float64, ys [][]float64) float64 {
	var num, den float64
	row := 0
	for _, y := range ys {
		for r := 0; r < len(y); r++ {
			e := resid[row+r]
			den += e * e
			if r > 0 {
				num += e * resid[row+r-1]
			}
		}
		row += len(y)
	}
	if den == 0 {
		return 0
	}
	return num / den
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// median returns the median of sorted xs.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
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
