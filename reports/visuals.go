package reports

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/sawtooth-dev/sawtooth/reports/plots"
	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// plotData collects what the charts show: the first repeat's series of
// every variant and numbers merged over its repeats.
func (r *Report) plotData() []plots.Variant {
	var out []plots.Variant
	for _, v := range r.Summary.Variants {
		runs := r.runs[v.Name]
		if len(runs) == 0 {
			continue
		}
		first := runs[0]
		pv := plots.Variant{Name: v.Name, Params: v.Params, ClassP99: map[string]float64{}}
		classes := make([]string, 0, len(first.timeline))
		for c := range first.timeline {
			classes = append(classes, c)
		}
		sort.Slice(classes, func(i, j int) bool {
			if (classes[i] == AllClass) != (classes[j] == AllClass) {
				return classes[i] == AllClass
			}
			return classes[i] < classes[j]
		})
		for _, c := range classes {
			cs := plots.ClassSeries{Class: c}
			for _, row := range first.timeline[c] {
				iv := row.Interval
				if iv <= 0 {
					iv = 1
				}
				cs.T = append(cs.T, row.T+iv/2)
				cs.P50 = append(cs.P50, row.P50)
				cs.P99 = append(cs.P99, row.P99)
				cs.OK = append(cs.OK, float64(row.OK)/iv)
				cs.Errors = append(cs.Errors, float64(row.Errors)/iv)
			}
			pv.Classes = append(pv.Classes, cs)
		}
		for _, x := range first.exits {
			pv.Exits = append(pv.Exits, x.T)
		}
		pv.Marks = probeMarks(first.info.Probes)
		usePSS := first.summary.Memory.PSSAvailable
		pv.MemLabel = "total PSS"
		if !usePSS {
			pv.MemLabel = "total RSS"
		}
		for _, p := range first.total {
			pv.MemT = append(pv.MemT, p.T)
			if usePSS {
				pv.Mem = append(pv.Mem, float64(p.PSS))
			} else {
				pv.Mem = append(pv.Mem, float64(p.RSS))
			}
		}
		for pid, ser := range first.workers {
			ws := plots.WorkerSeries{PID: pid}
			for _, p := range ser {
				ws.T = append(ws.T, p.T)
				ws.RSS = append(ws.RSS, float64(p.RSS))
			}
			pv.Workers = append(pv.Workers, ws)
		}
		for _, p := range first.lag {
			pv.LagT = append(pv.LagT, p.T)
			pv.LagP99 = append(pv.LagP99, p.P99)
			pv.LagMean = append(pv.LagMean, p.Mean)
		}
		var all sample
		for _, run := range runs {
			if s := run.classes[AllClass]; s != nil {
				all.merge(s)
			}
		}
		for _, p := range plots.PercentilePoints {
			pv.Percentiles = append(pv.Percentiles, all.quantile(p/100))
		}
		for _, c := range v.Classes {
			pv.ClassP99[c.Class] = c.Latency.P99
		}
		if m, ok := v.Metric("memory.pss.peak"); ok {
			pv.PeakMem = m.Value
		} else if m, ok := v.Metric("memory.rss.peak"); ok {
			pv.PeakMem = m.Value
		}
		out = append(out, pv)
	}
	return out
}

// writeVisuals writes plots/ and report.html: one self-contained page
// with the scenario, the comparison, the thresholds, the harness's health
// and every chart as inline SVG.
func (r *Report) writeVisuals() error {
	// report.html is written with the charts that could be drawn.
	charts, plotErr := plots.Render(filepath.Join(r.Dir, PlotsDir), r.plotData())
	var b bytes.Buffer
	if err := r.html(&b, charts); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(r.Dir, HTMLFile), b.Bytes()); err != nil {
		return err
	}
	return plotErr
}

//go:embed report.html.tmpl
var htmlTemplate string

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"value":   FormatValue,
	"hrate":   harnessRate,
	"verdict": VerdictText,
	"dur":     formatDuration,
	"cell":    formatCell,
}).Parse(htmlTemplate))

// svgProlog is the XML declaration and DOCTYPE of a standalone SVG,
// which do not belong inside HTML.
var svgProlog = regexp.MustCompile(`(?s)^.*?(<svg\b)`)

// svgSize is the fixed size of a gonum SVG; the page scales it instead.
var svgSize = regexp.MustCompile(`(<svg\b[^>]*?)\swidth="[^"]*"\s+height="[^"]*"`)

// htmlGrid is a grid with exported fields for the template.
type htmlGrid struct {
	Header []string
	Rows   [][]htmlCell
	// Code is true when the first column holds metric names.
	Code bool
}

type htmlCell struct{ Text, Change string }

func toHTMLGrid(g grid) htmlGrid {
	h := htmlGrid{Header: g.header, Code: len(g.rows) > 0 && g.rows[0][0].code}
	for _, row := range g.rows {
		var cells []htmlCell
		for _, c := range row {
			cells = append(cells, htmlCell{Text: c.text, Change: c.change})
		}
		h.Rows = append(h.Rows, cells)
	}
	return h
}

type htmlChart struct {
	Name, Title string
	SVG         template.HTML
}

func (r *Report) html(w io.Writer, charts []plots.Chart) error {
	var hc []htmlChart
	for _, c := range charts {
		svg := svgProlog.ReplaceAll(c.SVG, []byte("$1"))
		svg = svgSize.ReplaceAll(svg, []byte(`$1 width="100%"`))
		hc = append(hc, htmlChart{Name: c.Name, Title: c.Title, SVG: template.HTML(svg)})
	}
	var scenario string
	if b, err := scenarios.ReadFile(filepath.Join(r.Dir, rundir.ScenarioFile), scenarios.MaxFileSize); err == nil {
		scenario = string(b)
	}
	data := struct {
		S           *Summary
		RunLine     string
		Failed      int
		Headline    htmlGrid
		Legend      string
		Unmeasured  string
		Key, All    htmlGrid
		Recycle     htmlGrid
		Probes      htmlGrid
		Streams     htmlGrid
		ProbeNote   string
		ErrorKinds  htmlGrid
		KindsNote   string
		Charts      []htmlChart
		Scenario    string
		RecycleNote string
		Leak        htmlLeak
	}{&r.Summary, r.runLine(), len(r.Failed()), toHTMLGrid(r.headlineGrid()), r.legend(), Unmeasured, toHTMLGrid(r.comparisonGrid(false)), toHTMLGrid(r.comparisonGrid(true)), toHTMLGrid(r.recyclingGrid()), toHTMLGrid(r.probeGrid()), toHTMLGrid(r.streamGrid()), probeNote, toHTMLGrid(r.errorKindsGrid()), errorKindsLegend, hc, scenario, r.recyclingNote(), r.htmlLeak()}
	if err := pageTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("report.html: %w", err)
	}
	return nil
}
