package reports

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

// RunFileSummary is the per variant/repeat summary.json.
type RunFileSummary struct {
	Schema  string `json:"schema"`
	Version int    `json:"version"`
	RunSummary
	Metrics []Metric `json:"metrics"`
}

// WriteFiles writes the report into its run directory: summary.json,
// report.md, report.html, plots/*.png and plots/*.svg at the top, and a
// summary.json in every variant/repeat directory.
func (r *Report) WriteFiles() error {
	var js bytes.Buffer
	if err := r.JSON(&js); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(r.Dir, SummaryFile), js.Bytes()); err != nil {
		return err
	}
	for _, runs := range r.runs {
		for _, run := range runs {
			rs := RunFileSummary{Schema: SummarySchema + ".run", Version: SummaryVersion, RunSummary: run.summary, Metrics: runMetrics(&run.summary)}
			path := filepath.Join(r.Dir, rundir.RunPath(run.summary.Variant, run.summary.Repeat), SummaryFile)
			var b bytes.Buffer
			if err := writeJSON(&b, &rs); err != nil {
				return err
			}
			if err := writeAtomic(path, b.Bytes()); err != nil {
				return err
			}
		}
	}
	var md bytes.Buffer
	if err := r.Markdown(&md); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(r.Dir, MarkdownFile), md.Bytes()); err != nil {
		return err
	}
	return r.writeVisuals()
}

// writeAtomic writes data to path through a temporary file renamed over
// it (rundir.WriteFile).
func writeAtomic(path string, data []byte) error {
	if err := rundir.WriteFile(path, data); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
