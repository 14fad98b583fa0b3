package analysis

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/sawtooth-dev/sawtooth/internal/metric"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// loopLag computes lag statistics from a scraped histogram: the increase
// of each bucket between the first and last scrape (a counter that drops
// is taken to have restarted from zero, as a recycled worker's does), and
// per scrape interval the mean and p99 for the plot.
func loopLag(metrics []rundir.MetricSample) (*LagStats, []lagPoint) {
	family := lagFamily(metrics)
	if family == "" {
		return nil, nil
	}
	steps := lagSteps(metrics, family)
	total := map[string]float64{}
	var sum, count float64
	var points []lagPoint
	for _, st := range steps {
		for le, v := range st.buckets {
			total[le] += v
		}
		sum += st.sum
		count += st.count
		p := lagPoint{T: st.t, P99: histogramQuantile(0.99, st.buckets)}
		if st.count > 0 {
			p.Mean = st.sum / st.count
		}
		points = append(points, p)
	}
	ls := &LagStats{Metric: family, Count: count, P50: histogramQuantile(0.5, total), P99: histogramQuantile(0.99, total)}
	if count > 0 {
		ls.Mean = sum / count
	}
	return ls, points
}

// lagFamily is the loop-lag histogram among the scraped metrics:
// LagMetric, else the first histogram whose name has
// metric.LoopLagHint; "" when there is none.
func lagFamily(metrics []rundir.MetricSample) string {
	family := ""
	for _, m := range metrics {
		if name, ok := strings.CutSuffix(m.Metric, "_bucket"); ok {
			if name == LagMetric {
				return name
			}
			if family == "" && strings.Contains(name, metric.LoopLagHint) {
				family = name
			}
		}
	}
	return family
}

// lagStep is what a histogram family rose by at one scrape time: per
// bucket (by le), and its sum and count.
type lagStep struct {
	t          float64
	buckets    map[string]float64
	sum, count float64
}

// lagSteps are the increases of histogram family per scrape time, every
// series summed. The first scrape is the baseline; a counter that fell
// was reset and counts from 0; a series born during the run (a new
// worker) counts from 0.
func lagSteps(metrics []rundir.MetricSample, family string) []*lagStep {
	type key struct{ series, le string }
	last := map[key]float64{}
	born := map[string]float64{} // when each series was first scraped
	var firstT = math.NaN()
	var steps []*lagStep
	cur := func(t float64) *lagStep {
		if n := len(steps); n > 0 && steps[n-1].t == t {
			return steps[n-1]
		}
		s := &lagStep{t: t, buckets: map[string]float64{}}
		steps = append(steps, s)
		return s
	}
	for _, m := range metrics {
		var le string
		series := m.Labels
		switch m.Metric {
		case family + "_bucket":
			le, series = splitLE(m.Labels)
		case family + "_sum", family + "_count":
		default:
			continue
		}
		if math.IsNaN(firstT) {
			firstT = m.T
		}
		k := key{m.Metric + "{" + series + "}", le}
		prev, had := last[k]
		last[k] = m.Value
		if _, ok := born[k.series]; !ok {
			born[k.series] = m.T
		}
		var inc float64
		switch {
		case had && m.Value >= prev:
			inc = m.Value - prev
		case had: // reset
			inc = m.Value
		case born[k.series] == firstT:
			continue // the baseline
		default: // a series born during the run, e.g. a new worker
			inc = m.Value
		}
		st := cur(m.T)
		switch m.Metric {
		case family + "_bucket":
			st.buckets[le] += inc
		case family + "_sum":
			st.sum += inc
		case family + "_count":
			st.count += inc
		}
	}
	return steps
}

// splitLE removes the le label from a sorted label set in text form and
// returns its value and the remaining labels.
func splitLE(labels string) (le, rest string) {
	var keep []string
	for _, part := range splitLabels(labels) {
		if v, ok := strings.CutPrefix(part, "le="); ok {
			le = strings.Trim(v, `"`)
			continue
		}
		keep = append(keep, part)
	}
	return le, strings.Join(keep, ",")
}

// splitLabels splits `a="1",b="x,y"` at the commas between labels.
func splitLabels(s string) []string {
	var out []string
	inQuote, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// histogramQuantile estimates the q-quantile from cumulative bucket
// counts keyed by their upper bound, interpolating linearly inside the
// bucket as Prometheus's histogram_quantile does. It returns 0 when the
// histogram is empty, and the largest finite bound when the quantile
// falls in the +Inf bucket.
func histogramQuantile(q float64, buckets map[string]float64) float64 {
	type b struct{ le, n float64 }
	var bs []b
	for le, n := range buckets {
		v, err := strconv.ParseFloat(le, 64)
		if err != nil {
			continue
		}
		bs = append(bs, b{v, n})
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	if len(bs) == 0 || bs[len(bs)-1].n <= 0 {
		return 0
	}
	rank := q * bs[len(bs)-1].n
	lower, below := 0.0, 0.0
	for i, x := range bs {
		if x.n >= rank {
			if math.IsInf(x.le, 1) {
				if i == 0 {
					return 0
				}
				return bs[i-1].le
			}
			if x.n == below {
				return x.le
			}
			return lower + (x.le-lower)*(rank-below)/(x.n-below)
		}
		lower, below = x.le, x.n
	}
	return lower
}
