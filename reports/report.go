// Package reports is the format layer of sawtooth's reports: it lays out
// what package analysis computed of a run directory as the terminal
// table, report.md, summary.json, report.html and plots/ (package plots
// draws the charts), and the comparison of two runs.
//
// The reports work like benchstat, in three layers with imports one
// way: runread reads a run directory (package rundir) into typed series,
// analysis computes the numbers (its Summary is summary.json's schema),
// and this package formats them (Table, Markdown, JSON, WriteFiles).
// Everything is rebuilt from the run directory alone, so
// `sawtooth report RUN_DIR` can redo it later.
package reports

import "github.com/sawtooth-dev/sawtooth/reports/analysis"

// Files a report writes into the run directory.
const (
	SummaryFile  = "summary.json"
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
	PlotsDir     = "plots"
)

// Options configure Build (see analysis.Options).
type Options = analysis.Options

// Report is a built report of one run directory: the analysis, with the
// methods that format it.
type Report struct {
	*analysis.Report
}

// Build reads the run directory dir and computes its report. It does
// not write anything; see WriteFiles.
func Build(dir string, opts Options) (*Report, error) {
	a, err := analysis.Build(dir, opts)
	if err != nil {
		return nil, err
	}
	return &Report{a}, nil
}
