package plots

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/sawtooth-dev/sawtooth/internal/metric"
	"github.com/sawtooth-dev/sawtooth/reports/analysis"
)

const mib = 1 << 20

func latencyChart(vs []Variant) (*figure, error) {
	fig := &figure{cols: 1, rowH: 330 * vg.Inch / DPI}
	for _, v := range vs {
		pn := newPanel("Latency p50 (solid) and p99 (dashed): "+v.Name, "time since start (s)", "latency (ms, log scale)")
		logY(pn.p)
		any := false
		for i, c := range v.Classes {
			line(&pn, c.Class+" p50", c.T, scaled(c.P50, 1e3), i, false, positive)
			line(&pn, c.Class+" p99", c.T, scaled(c.P99, 1e3), i, true, positive)
			any = any || len(c.T) > 0
		}
		if !any {
			continue
		}
		niceLogRange(&pn.p.Y)
		addExits(&pn, v.Exits)
		addMarks(&pn, v.Marks)
		fig.panels = append(fig.panels, pn)
	}
	if len(fig.panels) == 0 {
		return nil, nil
	}
	return fig, nil
}

func throughputChart(vs []Variant) (*figure, error) {
	fig := &figure{cols: 1, rowH: 280 * vg.Inch / DPI}
	for _, v := range vs {
		for _, c := range v.Classes {
			if c.Class != metric.AllClass || len(c.T) == 0 {
				continue
			}
			pn := newPanel("Throughput and errors: "+v.Name, "time since start (s)", "responses per second")
			line(&pn, "successful /s", c.T, c.OK, 2, false, nil)
			line(&pn, "errors /s", c.T, c.Errors, 0, true, nil)
			pn.p.Y.Min = 0
			addExits(&pn, v.Exits)
			addMarks(&pn, v.Marks)
			fig.panels = append(fig.panels, pn)
		}
	}
	if len(fig.panels) == 0 {
		return nil, nil
	}
	return fig, nil
}

func memoryChart(vs []Variant) (*figure, error) {
	label := "total PSS"
	for _, v := range vs {
		if v.MemLabel != "" {
			label = v.MemLabel
		}
	}
	pn := newPanel("The sawtooth: "+label+" of the target's process tree", "time since start (s)", label+" (MiB)")
	n := 0
	for i, v := range vs {
		if len(v.MemT) == 0 {
			continue
		}
		line(&pn, v.Name, v.MemT, scaled(v.Mem, 1.0/mib), i, false, nil)
		n++
	}
	if n == 0 {
		return nil, nil
	}
	return &figure{panels: []panel{pn}, cols: 1, rowH: 420 * vg.Inch / DPI}, nil
}

func workersChart(vs []Variant) (*figure, error) {
	var v *Variant
	for i := range vs {
		if len(vs[i].Workers) > 0 && (v == nil || (len(v.Exits) == 0 && len(vs[i].Exits) > 0)) {
			v = &vs[i]
		}
	}
	if v == nil {
		return nil, nil
	}
	pn := newPanel("RSS of each worker process: "+v.Name, "time since start (s)", "worker RSS (MiB)")
	ws := append([]WorkerSeries(nil), v.Workers...)
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].T[0] < ws[j].T[0] })
	const maxLegend = 12
	for i, w := range ws {
		name := ""
		if i < maxLegend {
			name = fmt.Sprintf("pid %d", w.PID)
		}
		if l := line(&pn, name, w.T, scaled(w.RSS, 1.0/mib), i, false, nil); l != nil {
			l.Color = distinctColor(i, len(ws))
		}
	}
	if len(ws) > maxLegend {
		pn.legend.Add(fmt.Sprintf("… %d more workers", len(ws)-maxLegend))
	}
	addExits(&pn, v.Exits)
	return &figure{panels: []panel{pn}, cols: 1, rowH: 420 * vg.Inch / DPI}, nil
}

func lagChart(vs []Variant) (*figure, error) {
	pn := newPanel("Event-loop lag per scrape interval: p99 (solid) and mean (dashed)", "time since start (s)", "loop lag (ms, log scale)")
	logY(pn.p)
	n := 0
	for i, v := range vs {
		if len(v.LagT) == 0 {
			continue
		}
		// A target without loop lag (sync workers) reports only zeros:
		// no line, and no chart when no variant has one.
		p99 := line(&pn, v.Name+" p99", v.LagT, scaled(v.LagP99, 1e3), i, false, positive)
		mean := line(&pn, v.Name+" mean", v.LagT, scaled(v.LagMean, 1e3), i, true, positive)
		if p99 != nil || mean != nil {
			n++
		}
	}
	if n == 0 {
		return nil, nil
	}
	niceLogRange(&pn.p.Y)
	return &figure{panels: []panel{pn}, cols: 1, rowH: 380 * vg.Inch / DPI}, nil
}

// nines maps a percentile to -log10(1-p/100): 90 → 1, 99 → 2, 99.9 → 3.
func nines(pct float64) float64 { return -math.Log10(1 - pct/100) }

type percentileTicks struct{}

func (percentileTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for _, p := range analysis.PercentilePoints {
		out = append(out, plot.Tick{Value: nines(p), Label: fmt.Sprintf("p%g", p)})
	}
	return out
}

func percentileChart(vs []Variant) (*figure, error) {
	pn := newPanel("Latency by percentile, all request classes", "percentile (spaced by nines)", "latency (ms, log scale)")
	logY(pn.p)
	pn.p.X.Tick.Marker = percentileTicks{}
	n := 0
	for i, v := range vs {
		if len(v.Percentiles) != len(analysis.PercentilePoints) {
			continue
		}
		xs := make([]float64, len(analysis.PercentilePoints))
		for j, p := range analysis.PercentilePoints {
			xs[j] = nines(p)
		}
		line(&pn, v.Name, xs, scaled(v.Percentiles, 1e3), i, false, positive)
		pts := make(plotter.XYs, 0, len(xs))
		for j := range xs {
			if v.Percentiles[j] > 0 {
				pts = append(pts, plotter.XY{X: xs[j], Y: v.Percentiles[j] * 1e3})
			}
		}
		if s, err := plotter.NewScatter(pts); err == nil && len(pts) > 0 {
			s.Color = plotutil.Color(i)
			s.Shape = draw.CircleGlyph{}
			pn.p.Add(s)
		}
		n++
	}
	if n == 0 {
		return nil, nil
	}
	niceLogRange(&pn.p.Y)
	pn.p.X.Min, pn.p.X.Max = nines(analysis.PercentilePoints[0])-0.15, nines(analysis.PercentilePoints[len(analysis.PercentilePoints)-1])+0.15
	return &figure{panels: []panel{pn}, cols: 1, rowH: 400 * vg.Inch / DPI}, nil
}

func barsChart(vs []Variant) (*figure, error) {
	classSet := map[string]bool{}
	for _, v := range vs {
		for c := range v.ClassP99 {
			classSet[c] = true
		}
	}
	if len(vs) == 0 || len(classSet) == 0 {
		return nil, nil
	}
	var classes []string
	for c := range classSet {
		if c != metric.AllClass {
			classes = append(classes, c)
		}
	}
	sort.Strings(classes)
	if classSet[metric.AllClass] {
		classes = append(classes, metric.AllClass)
	}
	lat := newPanel("p99 latency per request class", "request class", "p99 latency (ms)")
	w := vg.Points(math.Min(28, 300/float64(len(vs))))
	for i, v := range vs {
		vals := make(plotter.Values, len(classes))
		for j, c := range classes {
			vals[j] = v.ClassP99[c] * 1e3
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		b.Offset = vg.Length(float64(i)-float64(len(vs)-1)/2) * w
		lat.p.Add(b)
		lat.legend.Add(v.Name, b)
	}
	lat.p.NominalX(classes...)
	padBars(lat.p, len(classes))

	mem := newPanel("Peak total memory per variant", "variant", "peak memory (MiB)")
	names := make([]string, len(vs))
	for i, v := range vs {
		vals := make(plotter.Values, len(vs))
		vals[i] = v.PeakMem / mib
		b, err := plotter.NewBarChart(vals, vg.Points(40))
		if err != nil {
			return nil, err
		}
		b.Color = plotutil.Color(i)
		b.LineStyle.Width = 0
		mem.p.Add(b)
		mem.legend.Add(v.Name, b)
		names[i] = v.Name
	}
	mem.p.NominalX(names...)
	padBars(mem.p, len(vs))
	return &figure{panels: []panel{lat, mem}, cols: 1, rowH: 360 * vg.Inch / DPI}, nil
}

// tradeoffChart plots p99 and peak memory against each numeric swept
// parameter, one line per combination of the other parameters.
func tradeoffChart(vs []Variant) (*figure, error) {
	names := paramNames(vs)
	if len(names) == 0 || len(vs) < 2 {
		return nil, nil
	}
	fig := &figure{cols: 2, rowH: 360 * vg.Inch / DPI}
	for _, x := range names {
		groups, order, numeric := groupByOthers(vs, x)
		if !numeric {
			continue
		}
		lat := newPanel("p99 against "+x, x, "p99 latency, all classes (ms)")
		mem := newPanel("peak memory against "+x, x, "peak memory (MiB)")
		for gi, key := range order {
			tradeoffSeries(&lat, &mem, vs, x, groups[key], key, gi)
		}
		lat.p.Y.Min, mem.p.Y.Min = 0, 0
		lat.p.Y.Max *= 1.1
		mem.p.Y.Max *= 1.1
		fig.panels = append(fig.panels, lat, mem)
	}
	if len(fig.panels) == 0 {
		return nil, nil
	}
	return fig, nil
}

// paramNames returns the sorted names of the variants' parameters.
func paramNames(vs []Variant) []string {
	params := map[string]bool{}
	for _, v := range vs {
		for k := range v.Params {
			params[k] = true
		}
	}
	var names []string
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// groupByOthers groups the variants' indexes by their parameters other
// than x (keys in order of first appearance), and reports whether every
// variant's x is a number.
func groupByOthers(vs []Variant, x string) (groups map[string][]int, order []string, numeric bool) {
	groups = map[string][]int{}
	numeric = true
	for i, v := range vs {
		if _, err := parseFloat(v.Params[x]); err != nil {
			numeric = false
		}
		key := otherParams(v.Params, x)
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], i)
	}
	return groups, order, numeric
}

// tradeoffSeries draws the group idx of variants, the gi-th, named key, as
// a line with points in lat (p99 against x) and mem (peak memory against
// x), sorted by x. It sorts idx.
func tradeoffSeries(lat, mem *panel, vs []Variant, x string, idx []int, key string, gi int) {
	sort.Slice(idx, func(a, b int) bool {
		fa, _ := parseFloat(vs[idx[a]].Params[x])
		fb, _ := parseFloat(vs[idx[b]].Params[x])
		return fa < fb
	})
	var xs, p99, peak []float64
	for _, i := range idx {
		f, _ := parseFloat(vs[i].Params[x])
		xs = append(xs, f)
		p99 = append(p99, vs[i].ClassP99[metric.AllClass]*1e3)
		peak = append(peak, vs[i].PeakMem/mib)
	}
	label := key
	if label == "" {
		label = "p99"
	}
	line(lat, label, xs, p99, gi, false, nil)
	line(mem, orDefault(key, "peak"), xs, peak, gi, false, nil)
	scatter(lat, xs, p99, gi)
	scatter(mem, xs, peak, gi)
}

// scatter marks the points (xs[j], ys[j]) in pn with circles of the gi-th
// colour.
func scatter(pn *panel, xs, ys []float64, gi int) {
	pts := make(plotter.XYs, len(xs))
	for j := range xs {
		pts[j] = plotter.XY{X: xs[j], Y: ys[j]}
	}
	if s, err := plotter.NewScatter(pts); err == nil {
		s.Color = plotutil.Color(gi)
		s.Shape = draw.CircleGlyph{}
		pn.p.Add(s)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func otherParams(ps map[string]string, except string) string {
	var keys []string
	for k := range ps {
		if k != except {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ","
		}
		s += k + "=" + ps[k]
	}
	return s
}

func parseFloat(s string) (float64, error) {
	var f float64
	_, err := fmt.Sscanf(s, "%g", &f)
	return f, err
}

// padBars leaves half a category of room at each side of a bar chart and
// a tenth of headroom above the tallest bar.
func padBars(p *plot.Plot, n int) {
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.Y.Min = 0
	p.Y.Max *= 1.1
}

// niceLogRange widens a log axis to the 1-2-5 values around its data, so
// that both ends carry a labelled tick.
func niceLogRange(a *plot.Axis) {
	switch {
	case a.Max <= 0: // nothing positive to show
		a.Min, a.Max = 0.1, 1
	case a.Min <= 0:
		a.Min = a.Max / 100
	}
	if a.Max <= a.Min {
		a.Max = a.Min * 10
	}
	down := func(v float64) float64 {
		e := math.Pow(10, math.Floor(math.Log10(v)))
		for _, m := range []float64{5, 2, 1} {
			if m*e <= v {
				return m * e
			}
		}
		return e
	}
	up := func(v float64) float64 {
		e := math.Pow(10, math.Floor(math.Log10(v)))
		for _, m := range []float64{1, 2, 5, 10} {
			if m*e >= v {
				return m * e
			}
		}
		return 10 * e
	}
	a.Min, a.Max = down(a.Min), up(a.Max)
}

// plainTicks are gonum's default ticks labelled without trailing zeros
// ("75" rather than "75.00").
type plainTicks struct{}

func (plainTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', 6, 64)
		}
	}
	return ticks
}
