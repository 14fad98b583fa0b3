package reports

import (
	"fmt"
	"strings"

	"github.com/sawtooth-dev/sawtooth/reports/analysis"
)

// leakGrid is the per-class leak table: a row per variant and class.
// notes says, per variant, why its classes could not be separated.
func (r *Report) leakGrid() (g grid, notes []string) {
	g = grid{header: []string{"variant", "class", "share", "leak per request", "95% interval", "VIF"}, left: 2}
	for _, v := range r.Summary.Variants {
		if v.Leak == nil {
			continue
		}
		f := v.Leak.RSS
		if !f.Identifiable {
			notes = append(notes, fmt.Sprintf("%s: the split by class is not identifiable: %s", v.Name, f.Reason))
		}
		if f.Mix != nil {
			g.rows = append(g.rows, []cell{{text: v.Name}, {text: analysis.AllClass}, {text: analysis.FormatPercent(1)},
				{text: analysis.FormatValue(f.Mix.Value, analysis.UnitBytesReq)}, {text: interval(*f.Mix)}, {text: ""}})
		}
		for _, c := range f.Classes {
			row := []cell{{text: v.Name}, {text: c.Class}, {text: analysis.FormatPercent(c.Share)}, {text: analysis.Unmeasured}, {text: analysis.Unmeasured}, {text: ""}}
			if c.PerRequest != nil {
				row[3].text, row[4].text = analysis.FormatValue(c.PerRequest.Value, analysis.UnitBytesReq), interval(*c.PerRequest)
			}
			if c.VIF > 0 {
				row[5].text = fmt.Sprintf("%.1f", c.VIF)
			}
			g.rows = append(g.rows, row)
		}
	}
	return g, notes
}

func interval(i analysis.Interval) string {
	return analysis.FormatValue(i.Low, analysis.UnitBytesReq) + " to " + analysis.FormatValue(i.High, analysis.UnitBytesReq)
}

// markdownLeak writes the per-class leak and the plan sections of
// report.md.
func (r *Report) markdownLeak(b *errWriter) {
	g, notes := r.leakGrid()
	if len(g.rows) > 0 {
		b.printf("\n## Leak per request class\n\nWorker RSS against each class's requests served (one intercept per worker life, 95%% intervals; docs/reports.md).\n\n")
		writeMarkdownGrid(b, g)
		for _, n := range notes {
			b.printf("\n%s\n", mdEscape(n))
		}
	}
	if p := r.Summary.Plan; p != nil {
		b.printf("\n## Recommendation for the memory budget\n\nFrom variant %s (docs/plan.md):\n\n", mdEscape(p.Variant))
		for _, l := range p.Lines() {
			b.printf("- %s\n", mdEscape(strings.TrimSpace(l)))
		}
	}
}

// htmlLeak is the data of the HTML report's leak and plan sections.
type htmlLeak struct {
	Grid  htmlGrid
	Notes []string
	Plan  *analysis.PlanSection
	Lines []string
}

func (r *Report) htmlLeak() htmlLeak {
	g, notes := r.leakGrid()
	h := htmlLeak{Notes: notes, Plan: r.Summary.Plan}
	if len(g.rows) > 0 {
		h.Grid = toHTMLGrid(g)
	}
	if h.Plan != nil {
		h.Lines = h.Plan.Lines()
	}
	return h
}
