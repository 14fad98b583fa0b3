package analysis

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

// HeadlineRows are the headline's rows: label and metric, in the order
// of the article's table.
var HeadlineRows = [...]struct{ Label, Metric string }{
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
	return Headline{Mean: get(HeadlineRows[0].Metric), P99: get(HeadlineRows[1].Metric),
		Throughput: get(HeadlineRows[2].Metric), ErrorRate: get(HeadlineRows[3].Metric)}
}
