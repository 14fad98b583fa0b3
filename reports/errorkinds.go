package reports

import (
	"slices"
	"strings"

	"github.com/sawtooth-dev/sawtooth/reports/analysis"
)

// errorKindsLegend explains the errors-by-kind table.
const errorKindsLegend = "Per variant and class, counts per repeat. Reuse failures are requests with an attempt that failed on a reused keep-alive connection before any response byte; with the client's retry on (Go's default) net/http re-sent the idempotent ones, which then count as errors only if the re-send failed too. Kinds: timeout, conn_refused, conn_reset, conn_closed (EOF: the server closed the connection before answering), status CODE (an HTTP error status), other."

// errorKindOrder is the order of error kinds in the errors-by-kind table;
// http_<code> kinds come after the connection errors, by code.
var errorKindOrder = []string{analysis.ErrTimeout, analysis.ErrRefused, analysis.ErrReset, analysis.ErrEOF}

// errorKindsGrid is the errors by kind per variant and class, with the
// reuse failures beside them: what failed, not only how often.
func (r *Report) errorKindsGrid() grid {
	kinds := map[string]bool{}
	for _, v := range r.OrderedVariants() {
		for _, c := range v.Classes {
			for k := range c.Errors {
				kinds[k] = true
			}
		}
	}
	cols := slices.Clone(errorKindOrder)
	var http []string
	for k := range kinds {
		if strings.HasPrefix(k, "http_") {
			http = append(http, k)
		}
	}
	slices.Sort(http)
	cols = append(append(cols, http...), analysis.ErrOther)
	g := grid{header: []string{"variant", "class", "requests", "reuse failures", "errors"}, left: 2}
	for _, k := range cols {
		g.header = append(g.header, strings.Replace(k, "http_", "status ", 1))
	}
	for _, v := range r.OrderedVariants() {
		n := float64(max(v.Repeats, 1))
		perRepeat := func(x int64) string { return analysis.FormatValue(float64(x)/n, analysis.UnitCount) }
		for _, c := range v.Classes {
			reuse := analysis.Unmeasured
			if c.ReuseFailures != nil {
				reuse = perRepeat(*c.ReuseFailures)
			}
			row := []cell{{text: v.Name}, {text: c.Class}, {text: perRepeat(c.Count)}, {text: reuse}, {text: perRepeat(c.Count - c.OK)}}
			for _, k := range cols {
				row = append(row, cell{text: perRepeat(c.Errors[k])})
			}
			g.rows = append(g.rows, row)
		}
	}
	return g
}
