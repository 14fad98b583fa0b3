package reports

// Headline is what every report leads with: the four numbers of the
// source article's load-test table (mean response time, p99, throughput,
// error rate), over all requests of a variant merged over its repeats.
// A number that was not measured is nil (null in summary.json).
type Headline struct {
	// Mean and P99 are latencies of class "all", in seconds.
	Mean *float64 `json:"mean"`
	P99  *float64 `json:"p99"`
	// Throughput is successful responses per second of load (all.rps).
	Throughput *float64 `json:"throughput"`
	// ErrorRate is failed / sent, all classes (errors.ratio).
	ErrorRate *float64 `json:"error_rate"`
}

// headlineRows are the headline's rows: label and metric, in the order
// of the article's table.
var headlineRows = [...]struct{ label, metric string }{
	{"mean response time", AllClass + ".mean"},
	{"p99", AllClass + ".p99"},
	{"throughput", AllClass + ".rps"},
	{"error rate", "errors.ratio"},
}

// headline takes a variant's headline numbers from its metrics.
func headline(v *VariantSummary) Headline {
	get := func(name string) *float64 {
		if m, ok := v.Metric(name); ok {
			x := m.Value
			return &x
		}
		return nil
	}
	return Headline{Mean: get(headlineRows[0].metric), P99: get(headlineRows[1].metric),
		Throughput: get(headlineRows[2].metric), ErrorRate: get(headlineRows[3].metric)}
}

// headlineGrid lays the headline out as the article does: a row per
// number, a column per variant, the baseline first.
func (r *Report) headlineGrid() grid {
	order := r.orderedVariants()
	g := grid{header: []string{"all requests"}}
	for i, v := range order {
		h := v.Name
		if i == 0 && len(order) > 1 {
			h += " (base)"
		}
		g.header = append(g.header, h)
	}
	for _, hr := range headlineRows {
		row := []cell{{text: hr.label}}
		for _, v := range order {
			row = append(row, cell{text: v.cellText(hr.metric)})
		}
		g.rows = append(g.rows, row)
	}
	return g
}
