package reports

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"regexp"

	"github.com/sawtooth-dev/sawtooth/reports/analysis"
	"github.com/sawtooth-dev/sawtooth/reports/plots"
)

// writeVisuals writes plots/ and report.html: one self-contained page
// with the scenario, the comparison, the thresholds, the harness's health
// and every chart as inline SVG.
func (r *Report) writeVisuals() error {
	// report.html is written with the charts that could be drawn.
	charts, plotErr := plots.Render(filepath.Join(r.Dir, PlotsDir), r.Series())
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
	"value":   analysis.FormatValue,
	"hrate":   harnessRate,
	"verdict": analysis.VerdictText,
	"dur":     analysis.FormatDuration,
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
	data := struct {
		S           *analysis.Summary
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
	}{&r.Summary, r.runLine(), len(r.Failed()), toHTMLGrid(r.headlineGrid()), r.legend(), analysis.Unmeasured, toHTMLGrid(r.comparisonGrid(false)), toHTMLGrid(r.comparisonGrid(true)), toHTMLGrid(r.recyclingGrid()), toHTMLGrid(r.probeGrid()), toHTMLGrid(r.streamGrid()), probeNote, toHTMLGrid(r.errorKindsGrid()), errorKindsLegend, hc, string(r.ScenarioText), r.recyclingNote(), r.htmlLeak()}
	if err := pageTemplate.Execute(w, data); err != nil {
		return fmt.Errorf("report.html: %w", err)
	}
	return nil
}
