package reports

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sawtooth-dev/sawtooth/reports/analysis"
	"github.com/sawtooth-dev/sawtooth/reports/stats"
)

// cell is one table cell; change ("better", "worse", "same" or "")
// colours it on a terminal; code is true for a metric name, set as code
// in Markdown.
type cell struct {
	text   string
	change string
	code   bool
}

// grid is the comparison table: a metric per row, and per variant its
// value (with the spread across repeats) and, for all but the baseline,
// its ratio to the baseline.
type grid struct {
	header []string
	rows   [][]cell
	// left is how many leading columns are text, aligned left (at least 1).
	left int
}

// comparisonGrid builds the comparison table, with every metric or only
// the key ones.
func (r *Report) comparisonGrid(all bool) grid {
	s := &r.Summary
	order := r.OrderedVariants()
	base := order[0]
	g := grid{header: []string{"metric", base.Name + " (base)"}}
	for _, v := range order[1:] {
		g.header = append(g.header, v.Name, "vs base")
	}
	names := comparedMetrics(order, all)
	deltas := map[string]analysis.Delta{}
	for _, d := range s.Comparison {
		deltas[d.Variant+"\x00"+d.Metric] = d
	}
	for _, name := range names {
		g.rows = append(g.rows, comparisonRow(order, name, deltas))
	}
	return g
}

// comparedMetrics returns the names of the metrics the comparison table
// shows (all, or only the key ones), in the variants' order, grouped.
func comparedMetrics(order []*analysis.VariantSummary, all bool) []string {
	var names []string
	seen := map[string]bool{}
	shown := func(name string) bool { return !hiddenMetric(name) && (all || keyMetric(name)) }
	for _, v := range order {
		for j, m := range v.Metrics {
			if seen[m.Name] || !shown(m.Name) {
				continue
			}
			seen[m.Name] = true
			// Before the next of this variant's metrics already listed,
			// when it is of the same group (a metric the baseline did not
			// measure keeps its place), else after the group.
			at := -1
			for _, next := range v.Metrics[j+1:] {
				if seen[next.Name] {
					if group(next.Name) == group(m.Name) {
						at = slices.Index(names, next.Name)
					}
					break
				}
			}
			if at >= 0 {
				names = slices.Insert(names, at, m.Name)
			} else {
				names = insertGrouped(names, m.Name)
			}
		}
	}
	return names
}

// comparisonRow is the comparison table's row of the metric name: its
// value per variant and, after each but the baseline, the delta in
// deltas (keyed by variant and metric).
func comparisonRow(order []*analysis.VariantSummary, name string, deltas map[string]analysis.Delta) []cell {
	row := []cell{{text: name, code: true}}
	for i, v := range order {
		m, ok := v.Metric(name)
		row = append(row, cell{text: cellText(v, name)})
		if i == 0 {
			continue
		}
		d, compared := deltas[v.Name+"\x00"+name]
		switch {
		case compared:
			row = append(row, cell{text: formatDelta(d), change: d.Change})
		case ok && m.Better == "":
			row = append(row, cell{}) // a number without a direction
		default:
			row = append(row, cell{text: analysis.Unmeasured}) // not measured on a side
		}
	}
	return row
}

// cellText formats a variant's metric for a table, Unmeasured when the
// variant has no such metric.
func cellText(v *analysis.VariantSummary, name string) string {
	if m, ok := v.Metric(name); ok {
		return formatCell(m)
	}
	return analysis.Unmeasured
}

// recyclingGrid is the cost of recycling per variant: restarts, the
// share of the run inside restart windows, the requests inside against
// the others (counts and errors per repeat, latencies pooled) and the
// excess per restart.
func (r *Report) recyclingGrid() grid {
	g := grid{header: []string{"variant", "restarts", "most at once", "exit → ready", "in windows",
		"inside: requests", "errors", "p50", "p99", "outside: requests", "errors", "p50", "p99",
		"extra errors / restart", "extra delay / restart"}}
	for _, v := range r.OrderedVariants() {
		row := []cell{{text: v.Name}}
		for _, name := range []string{"restarts.count", "restarts.max_concurrent", "restarts.replace_mean", "recycle.window_share"} {
			row = append(row, cell{text: cellText(v, name)})
		}
		for _, side := range []string{"recycle.in_window.", "recycle.out_window."} {
			errs := cellText(v, side+"errors")
			if m, ok := v.Metric(side + "error_ratio"); ok && m.Value > 0 {
				errs += " (" + analysis.FormatPercent(m.Value) + ")"
			}
			row = append(row, cell{text: cellText(v, side+"count")}, cell{text: errs},
				cell{text: cellText(v, side+"p50")}, cell{text: cellText(v, side+"p99")})
		}
		row = append(row, cell{text: cellText(v, "recycle.errors_per_restart")}, cell{text: cellText(v, "recycle.delay_per_restart")})
		g.rows = append(g.rows, row)
	}
	return g
}

// recyclingNote explains the recycling table, and names the variants
// whose windows cover so much of the run that inside against outside is
// no contrast.
func (r *Report) recyclingNote() string {
	s := "A restart window runs from a worker's retirement decision (or its exit, when no decision was seen) until its replacement is ready; " +
		"requests in flight during a window are inside, the others outside (counts per repeat, latencies over all repeats). " +
		"Extra errors and delay per restart are what the requests inside had beyond what as many requests outside have on average, divided by the restarts."
	for _, v := range r.OrderedVariants() {
		if v.Recycling.Share > analysis.NotAContrast {
			s += fmt.Sprintf(" %s: restart windows cover %s of the run, so inside against outside is not a contrast; read the excess per restart with care.",
				v.Name, analysis.FormatPercent(v.Recycling.Share))
		}
	}
	return s
}

// legend says what the comparison table's ratios, "~" and colours mean.
func (r *Report) legend() string {
	s := &r.Summary
	return fmt.Sprintf("baseline %s; ratios are variant/base; %s", s.Baseline, r.marksLegend())
}

// marksLegend says when a change of the comparison is marked.
func (r *Report) marksLegend() string {
	return colourLegend(r.Summary.Comparison, r.Summary.Alpha)
}

// colourLegend says when a change of deltas is marked better (green) or
// worse (red): significant by the U test when tested, beyond the noise
// floor when not.
func colourLegend(deltas []analysis.Delta, alpha float64) string {
	var tested, untested bool
	for _, d := range deltas {
		tested = tested || d.Test.Tested
		untested = untested || !d.Test.Tested
	}
	var parts []string
	if tested {
		parts = append(parts, fmt.Sprintf("~ means no significant difference (Mann-Whitney U over repeats, alpha %.2f); only significant changes are marked better or worse", alpha))
	}
	if untested {
		parts = append(parts, fmt.Sprintf("with fewer than %d repeats nothing is tested: only changes of %.0f%% or more that also exceed 1 ms, 0.1 percentage point or 1 MiB are marked better or worse",
			stats.MinRepeats, 100*analysis.NoiseFloor))
	}
	if len(parts) == 0 {
		return "a single variant: nothing to compare"
	}
	return strings.Join(parts, "; ")
}

// ANSI colours for a terminal.
const (
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiBold  = "\x1b[1m"
	ansiReset = "\x1b[0m"
)

// writeAligned writes g as space-aligned columns: the metric name left,
// numbers right. Colour codes do not count towards the width.
func writeAligned(w io.Writer, g grid, color bool) error {
	widths := make([]int, len(g.header))
	for i, h := range g.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, row := range g.rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}
	line := func(cells []cell, bold bool) string {
		var b strings.Builder
		for i, c := range cells {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c.text))
			text := c.text
			if color {
				switch {
				case bold:
					text = ansiBold + text + ansiReset
				case c.change == "worse":
					text = ansiRed + text + ansiReset
				case c.change == "better":
					text = ansiGreen + text + ansiReset
				}
			}
			if i > 0 {
				b.WriteString("  ")
			}
			if i < max(1, g.left) {
				b.WriteString(text + pad)
			} else {
				b.WriteString(pad + text)
			}
		}
		return strings.TrimRight(b.String(), " ") + "\n"
	}
	head := make([]cell, len(g.header))
	for i, h := range g.header {
		head[i] = cell{text: h}
	}
	if _, err := io.WriteString(w, line(head, true)); err != nil {
		return err
	}
	for _, row := range g.rows {
		if _, err := io.WriteString(w, line(row, false)); err != nil {
			return err
		}
	}
	return nil
}

// Table writes the report for a terminal: the run, the key numbers of
// every variant side by side, threshold verdicts and warnings. With
// color, regressions are red and improvements green.
func (r *Report) Table(w io.Writer, color bool) error {
	s := &r.Summary
	bw := &errWriter{w: w}
	bw.printf("sawtooth report: %s  (%s)\n\n", s.Scenario, r.runLine())
	r.writeFindings(bw, "")
	for _, h := range s.HiddenErrors {
		bw.printf("hidden by retries: %s\n\n", h)
	}
	if bw.err != nil {
		return bw.err
	}
	if err := writeAligned(w, r.headlineGrid(), color); err != nil {
		return err
	}
	marks := ""
	if color {
		marks = " (green better, red worse)"
	}
	bw.printf("\nall numbers: baseline %s; ratios are variant/base; %s means not measured\n%s%s\n\n",
		s.Baseline, analysis.Unmeasured, upperFirst(r.marksLegend()), marks)
	if bw.err != nil {
		return bw.err
	}
	if err := writeAligned(w, r.comparisonGrid(false), color); err != nil {
		return err
	}
	if r.HasProbes() {
		bw.printf("\nhealth probes (the orchestrator's verdict):\n")
		if bw.err == nil {
			bw.err = writeAligned(w, r.probeGrid(), false)
		}
	}
	if g := r.streamGrid(); len(g.rows) > 0 {
		bw.printf("\nstreams:\n")
		if bw.err == nil {
			bw.err = writeAligned(w, g, false)
		}
	}
	r.writeThresholds(bw, color)
	if len(s.Warnings) > 0 {
		bw.printf("\nwarnings:\n")
		for _, wn := range s.Warnings {
			bw.printf("  ! %s\n", wn)
		}
	}
	if len(s.Notes) > 0 {
		bw.printf("\nnotes:\n")
		for _, n := range s.Notes {
			bw.printf("  %s\n", n)
		}
	}
	return bw.err
}

// writeThresholds writes a PASS or FAIL line per threshold, coloured
// when color is set.
func (r *Report) writeThresholds(bw *errWriter, color bool) {
	if len(r.Summary.Thresholds) == 0 {
		return
	}
	bw.printf("\nthresholds:\n")
	for _, v := range r.Summary.Thresholds {
		verdict, colour := "PASS", ansiGreen
		if !v.Pass {
			verdict, colour = "FAIL", ansiRed
		}
		if color {
			verdict = colour + verdict + ansiReset
		}
		bw.printf("  %s  %s\n", verdict, analysis.VerdictText(v))
	}
}

// runLine describes the run in one line.
func (r *Report) runLine() string {
	s := &r.Summary
	parts := []string{analysis.Plural(len(s.Variants), "variant")}
	if len(s.Variants) > 0 {
		parts = append(parts, analysis.Plural(s.Variants[0].Repeats, "repeat"))
	}
	if !s.Start.IsZero() {
		parts = append(parts, s.Start.UTC().Format("2006-01-02 15:04 UTC"))
	}
	if s.Partial {
		parts = append(parts, "PARTIAL")
	}
	return strings.Join(parts, ", ")
}

// errWriter remembers the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// insertGrouped inserts name after the last name of its group (the part
// before its first dot), or at the end.
func insertGrouped(names []string, name string) []string {
	at := len(names)
	for i, n := range names {
		if group(n) == group(name) {
			at = i + 1
		}
	}
	return slices.Insert(names, at, name)
}

// group is a metric's group: the part of its name before the first dot.
func group(name string) string {
	g, _, _ := strings.Cut(name, ".")
	return g
}
