package reports

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/sawtooth-dev/sawtooth/reports/analysis"
)

// Markdown writes report.md: fit for a pull-request comment or a CI job
// summary. It leads with threshold verdicts and the key numbers, then
// the cost of recycling, harness health, and every number in a
// collapsed section.
func (r *Report) Markdown(w io.Writer) error {
	s := &r.Summary
	b := &errWriter{w: w}
	b.printf("# sawtooth report: %s\n\n", mdEscape(s.Scenario))
	if s.Description != "" {
		b.printf("%s\n\n", strings.TrimSpace(s.Description))
	}
	b.printf("%s.\n\n", mdEscape(r.runLine()))
	r.writeFindings(b, "- ")
	for _, h := range s.HiddenErrors {
		b.printf("> **Hidden by retries:** %s\n\n", mdEscape(h))
	}
	writeMarkdownGrid(b, r.headlineGrid())
	b.printf("\n")

	r.markdownThresholds(b)
	if b.err != nil {
		return b.err
	}

	b.printf("## Key numbers\n\n%s. Bold is better, bold with 🔺 worse; %s means not measured.\n\n", mdEscape(upperFirst(r.legend())), analysis.Unmeasured)
	writeMarkdownGrid(b, r.comparisonGrid(false))

	b.printf("\n## Cost of recycling\n\n%s\n\n", mdEscape(r.recyclingNote()))
	writeMarkdownGrid(b, r.recyclingGrid())
	if r.HasProbes() {
		b.printf("\n## Health probes\n\n%s\n\n", mdEscape(probeNote))
		writeMarkdownGrid(b, r.probeGrid())
	}
	r.markdownLeak(b)
	b.printf("\n## Errors by kind\n\n%s\n\n", errorKindsLegend)
	writeMarkdownGrid(b, r.errorKindsGrid())
	r.markdownHarness(b)
	if len(s.Warnings) > 0 {
		b.printf("\n**Warnings**\n\n")
		for _, wn := range s.Warnings {
			b.printf("- %s\n", mdEscape(wn))
		}
	} else {
		b.printf("\nNo warnings: every run kept its requested rate.\n")
	}
	for _, n := range s.Notes {
		b.printf("\n%s\n", mdEscape(n))
	}

	b.printf("\n<details><summary>All numbers</summary>\n\n")
	writeMarkdownGrid(b, r.comparisonGrid(true))
	b.printf("\n</details>\n")
	return b.err
}

// markdownThresholds writes the thresholds' verdicts, if any.
func (r *Report) markdownThresholds(b *errWriter) {
	s := &r.Summary
	if len(s.Thresholds) == 0 {
		return
	}
	failed := len(r.Failed())
	if failed == 0 {
		b.printf("## Thresholds: all %d pass\n\n", len(s.Thresholds))
	} else {
		b.printf("## Thresholds: %d of %d FAIL\n\n", failed, len(s.Thresholds))
	}
	b.printf("| | variant | threshold | measured | limit |\n|---|---|---|--:|--:|\n")
	for _, v := range s.Thresholds {
		mark := "✅ pass"
		if !v.Pass {
			mark = "❌ **FAIL**"
		}
		measured, limit := analysis.FormatValue(v.Measured, v.Unit), v.Op+" "+analysis.FormatValue(v.Limit, v.Unit)
		if v.Error != "" {
			measured, limit = mdEscape(v.Error), ""
		}
		b.printf("| %s | %s | `%s` | %s | %s |\n", mark, mdEscape(v.Variant), v.Threshold, measured, limit)
	}
	b.printf("\n")
}

// markdownHarness writes the harness's health per run, and per stream
// when the scenario had several.
func (r *Report) markdownHarness(b *errWriter) {
	b.printf("\n## Harness health\n\n| variant | repeat | requested | achieved | send lag p99 | harness CPU |\n|---|--:|--:|--:|--:|--:|\n")
	for _, v := range r.Summary.Variants {
		for _, run := range v.Runs {
			h := run.Harness
			b.printf("| %s | %d | %s | %s | %s | %s |\n", mdEscape(v.Name), run.Repeat, harnessRate(h, h.RequestedRate),
				harnessRate(h, h.AchievedRate), analysis.FormatDuration(h.SendLagP99), analysis.FormatValue(h.CPUPercent, analysis.UnitPercentCPU))
		}
	}
	if g := r.streamGrid(); len(g.rows) > 0 {
		b.printf("\nPer stream:\n\n")
		writeMarkdownGrid(b, g)
	}
}

func writeMarkdownGrid(b *errWriter, g grid) {
	b.printf("|")
	for _, h := range g.header {
		b.printf(" %s |", mdEscape(h))
	}
	b.printf("\n|---|")
	for i := range g.header[1:] {
		if i+1 < g.left {
			b.printf("---|")
		} else {
			b.printf("--:|")
		}
	}
	b.printf("\n")
	for _, row := range g.rows {
		b.printf("|")
		for _, c := range row {
			text := mdEscape(c.text)
			switch {
			case c.code:
				text = "`" + c.text + "`"
			case c.change == "worse":
				text = "**" + text + "** 🔺"
			case c.change == "better":
				text = "**" + text + "**"
			}
			b.printf(" %s |", text)
		}
		b.printf("\n")
	}
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`).Replace(s)
}

// JSON writes summary.json: the Summary, indented.
func (r *Report) JSON(w io.Writer) error {
	return writeJSON(w, &r.Summary)
}

// writeJSON writes v as indented JSON without HTML escaping, so that
// thresholds read "light.p99 < 50ms".
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
