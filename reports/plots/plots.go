// Package plots draws sawtooth's report charts with gonum/plot, each as a
// PNG and an SVG sized to read well at 1200 pixels wide: latency and
// throughput over time, the memory sawtooth, per-worker memory, loop lag,
// latency by percentile, p99 and peak memory bars, and the trade-off of a
// matrix scenario. It draws the series package analysis computes
// (analysis.Report.Series); package reports wires it into the report.
package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"

	stdfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/sawtooth-dev/sawtooth/reports/analysis"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// Width is the width of every chart: 1200 pixels at DPI.
const (
	DPI   = 96
	Width = 1200 * vg.Inch / DPI
)

// The series the charts draw, as package analysis computes them.
type (
	// Variant is what the charts show of one variant.
	Variant = analysis.Series
	// ClassSeries is one request class of one run over time.
	ClassSeries = analysis.ClassSeries
	// WorkerSeries is one worker process's memory over its life.
	WorkerSeries = analysis.WorkerSeries
	// Marks are moments to mark on the timeline charts with one label.
	Marks = analysis.Marks
)

// legendWidth is the strip right of each panel that holds its legend.
const legendWidth = 230 * vg.Inch / DPI

// Chart is one rendered chart.
type Chart struct {
	// Name is the file name without extension, e.g. "latency".
	Name  string
	Title string
	// SVG is the chart as an SVG document.
	SVG []byte
}

// Render draws every chart that has data for variants and writes
// DIR/NAME.png and DIR/NAME.svg. workerVariant picks the variant of the
// per-worker chart (the first with restarts when negative).
func Render(dir string, variants []Variant) ([]Chart, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plots: %w", err)
	}
	type chartFn struct {
		name, title string
		fn          func([]Variant) (*figure, error)
	}
	fns := []chartFn{
		{"latency", "Latency over time", latencyChart},
		{"throughput", "Throughput and errors over time", throughputChart},
		{"memory", "Total memory over time", memoryChart},
		{"workers", "Memory of each worker", workersChart},
		{"lag", "Event-loop lag over time", lagChart},
		{"percentiles", "Latency by percentile", percentileChart},
		{"p99-memory", "p99 per class and peak memory", barsChart},
		{"tradeoff", "Trade-off of the swept parameters", tradeoffChart},
	}
	// A chart that cannot be drawn does not stop the others.
	var out []Chart
	var errs []error
	for _, c := range fns {
		svg, err := renderOne(filepath.Join(dir, c.name), variants, c.fn)
		if err != nil {
			errs = append(errs, fmt.Errorf("plots: %s: %w", c.name, err))
			continue
		}
		if svg != nil {
			out = append(out, Chart{Name: c.name, Title: c.title, SVG: svg})
		}
	}
	return out, errors.Join(errs...)
}

// renderOne draws one chart, turning a panic inside gonum/plot (which
// panics on some degenerate data) into an error.
func renderOne(path string, vs []Variant, fn func([]Variant) (*figure, error)) (svg []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("drawing failed: %v", r)
		}
	}()
	fig, err := fn(vs)
	if err != nil || fig == nil {
		return nil, err
	}
	return fig.save(path)
}

// panel is one plot with its legend, drawn to its right.
type panel struct {
	p      *plot.Plot
	legend plot.Legend
}

// figure is panels stacked in rows (cols per row), height per row.
type figure struct {
	panels []panel
	cols   int
	rowH   vg.Length
}

// sans returns the sans-serif face of gonum's bundled Liberation fonts.
func sans(size float64, bold bool) font.Font {
	f := font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(size)}
	if bold {
		f.Weight = stdfont.WeightBold
	}
	return f
}

func newPanel(title, xLabel, yLabel string) panel {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(14, true)
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.X.Label.TextStyle.Font = sans(12, false)
	p.Y.Label.TextStyle.Font = sans(12, false)
	p.X.Tick.Label.Font = sans(11, false)
	p.Y.Tick.Label.Font = sans(11, false)
	p.X.Tick.Marker = plainTicks{}
	p.Y.Tick.Marker = plainTicks{}
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 225}
	grid.Horizontal.Color = color.Gray{Y: 225}
	p.Add(grid)
	l := plot.NewLegend()
	l.Top = true
	l.Left = true
	l.TextStyle.Font = sans(12, false)
	l.ThumbnailWidth = vg.Points(26)
	l.Padding = vg.Points(3)
	return panel{p: p, legend: l}
}

func (f *figure) draw(dc draw.Canvas) {
	cols := max(1, f.cols)
	rows := (len(f.panels) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
	}
	for i, pn := range f.panels {
		grid[i/cols][i%cols] = pn.p
	}
	// Each cell: the plot, then its legend strip.
	cellW := (dc.Max.X - dc.Min.X) / vg.Length(cols)
	for i, pn := range f.panels {
		r, c := i/cols, i%cols
		top := dc.Max.Y - vg.Length(r)*f.rowH
		cell := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: dc.Min.X + vg.Length(c)*cellW, Y: top - f.rowH},
			Max: vg.Point{X: dc.Min.X + vg.Length(c+1)*cellW, Y: top},
		}}
		plotArea := draw.Crop(cell, vg.Points(6), -legendWidth, vg.Points(4), -vg.Points(6))
		pn.p.Draw(plotArea)
		legendArea := draw.Crop(cell, cell.Max.X-cell.Min.X-legendWidth+vg.Points(10), 0, 0, -vg.Points(34))
		leg := pn.legend
		leg.Draw(legendArea)
	}
}

// save writes path.png and path.svg and returns the SVG.
func (f *figure) save(path string) ([]byte, error) {
	rows := (len(f.panels) + max(1, f.cols) - 1) / max(1, f.cols)
	h := f.rowH * vg.Length(rows)
	img := vgimg.NewWith(vgimg.UseWH(Width, h), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
	f.draw(draw.New(img))
	var png bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&png); err != nil {
		return nil, err
	}
	if err := rundir.WriteFile(path+".png", png.Bytes()); err != nil {
		return nil, err
	}
	svg := vgsvg.NewWith(vgsvg.UseWH(Width, h))
	svg.SetColor(color.White)
	svg.Fill(rectPath(0, 0, Width, h))
	f.draw(draw.New(svg))
	var sb bytes.Buffer
	if _, err := svg.WriteTo(&sb); err != nil {
		return nil, err
	}
	if err := rundir.WriteFile(path+".svg", sb.Bytes()); err != nil {
		return nil, err
	}
	return sb.Bytes(), nil
}

func rectPath(x, y, w, h vg.Length) vg.Path {
	var p vg.Path
	p.Move(vg.Point{X: x, Y: y})
	p.Line(vg.Point{X: x + w, Y: y})
	p.Line(vg.Point{X: x + w, Y: y + h})
	p.Line(vg.Point{X: x, Y: y + h})
	p.Close()
	return p
}

// line adds a line of points to pn with a legend entry, in the i-th
// colour; it returns the line, or nil when no point was kept.
func line(pn *panel, name string, xs, ys []float64, i int, dashed bool, keep func(y float64) bool) *plotter.Line {
	pts := make(plotter.XYs, 0, len(xs))
	for j := range xs {
		if j < len(ys) && (keep == nil || keep(ys[j])) && !math.IsNaN(ys[j]) {
			pts = append(pts, plotter.XY{X: xs[j], Y: ys[j]})
		}
	}
	if len(pts) == 0 {
		return nil
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return nil
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	pn.p.Add(l)
	if name != "" {
		pn.legend.Add(name, l)
	}
	return l
}

// distinctColor is the i-th of n colours that all differ: gonum's
// palette for up to its seven, else hues spread by the golden angle
// (consecutive workers far apart on the wheel), alternately bright and
// dark.
func distinctColor(i, n int) color.Color {
	if n <= 7 {
		return plotutil.Color(i)
	}
	h := math.Mod(float64(i)*137.508, 360)
	v := 0.85
	if i%2 == 1 {
		v = 0.55
	}
	return hsv(h, 0.8, v)
}

// hsv converts a hue (degrees), saturation and value (0..1) to RGB.
func hsv(h, s, v float64) color.Color {
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	m := v - c
	var r, g, b float64
	switch {
	case h < 60:
		r, g = c, x
	case h < 120:
		r, g = x, c
	case h < 180:
		g, b = c, x
	case h < 240:
		g, b = x, c
	case h < 300:
		r, b = x, c
	default:
		r, b = c, x
	}
	u := func(f float64) uint8 { return uint8(math.Round(255 * (f + m))) }
	return color.NRGBA{R: u(r), G: u(g), B: u(b), A: 255}
}

// exitMarks draws a thin vertical line at every worker exit.
type exitMarks struct {
	xs    []float64
	style draw.LineStyle
}

func newExitMarks(xs []float64) *exitMarks {
	return &exitMarks{xs: xs, style: draw.LineStyle{Color: color.NRGBA{R: 200, G: 30, B: 30, A: 170}, Width: vg.Points(1),
		Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}}
}

// Plot implements plot.Plotter.
func (m *exitMarks) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, x := range m.xs {
		if x < p.X.Min || x > p.X.Max {
			continue
		}
		c.StrokeLine2(m.style, trX(x), c.Min.Y, trX(x), c.Max.Y)
	}
}

// Thumbnail implements plot.Thumbnailer.
func (m *exitMarks) Thumbnail(c *draw.Canvas) {
	x := (c.Min.X + c.Max.X) / 2
	c.StrokeLine2(m.style, x, c.Min.Y, x, c.Max.Y)
}

func addExits(pn *panel, xs []float64) {
	if len(xs) == 0 {
		return
	}
	m := newExitMarks(xs)
	pn.p.Add(m)
	pn.legend.Add("worker exit", m)
}

func positive(y float64) bool { return y > 0 }

func scaled(ys []float64, k float64) []float64 {
	out := make([]float64, len(ys))
	for i, y := range ys {
		out[i] = y * k
	}
	return out
}

// logY sets a log scale with readable ticks.
func logY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
}

// logTicks labels 1, 2 and 5 times each power of ten in range.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	if min <= 0 || max <= min {
		return plot.LogTicks{Prec: -1}.Ticks(math.Max(min, 1e-9), math.Max(max, 1e-8))
	}
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, e)
			if v >= min*0.999 && v <= max*1.001 {
				out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
			}
		}
	}
	return out
}
