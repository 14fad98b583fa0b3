package reports

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

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
	for _, rs := range r.RunFiles() {
		path := filepath.Join(r.Dir, rundir.RunPath(rs.Variant, rs.Repeat), SummaryFile)
		var b bytes.Buffer
		if err := writeJSON(&b, &rs); err != nil {
			return err
		}
		if err := writeAtomic(path, b.Bytes()); err != nil {
			return err
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
