package reports

import "github.com/sawtooth-dev/sawtooth/reports/analysis"

// headlineGrid lays the headline out as the article does: a row per
// number, a column per variant, the baseline first.
func (r *Report) headlineGrid() grid {
	order := r.OrderedVariants()
	g := grid{header: []string{"all requests"}}
	for i, v := range order {
		h := v.Name
		if i == 0 && len(order) > 1 {
			h += " (base)"
		}
		g.header = append(g.header, h)
	}
	for _, hr := range analysis.HeadlineRows {
		row := []cell{{text: hr.Label}}
		for _, v := range order {
			row = append(row, cell{text: cellText(v, hr.Metric)})
		}
		g.rows = append(g.rows, row)
	}
	return g
}
