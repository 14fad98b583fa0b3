// Package runread is the read layer of the reports: it opens a run
// directory (package rundir) and gives what it recorded as typed series,
// per variant and repeat, with the scenario and thresholds the run was
// held to. It computes nothing; package analysis turns the series into
// numbers, and package reports formats them.
//
// Every file of a repeat except run.json may be missing (a partial run
// may lack some): a missing file reads as empty.
package runread

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// Dir is an opened run directory with its scenario and thresholds.
type Dir struct {
	*rundir.Dir
	// ScenarioText is scenario.yaml as written (nil when absent).
	ScenarioText []byte
	// Scenario is scenario.yaml parsed, nil when absent or when it no
	// longer validates; ScenarioErr then says why.
	Scenario    *scenarios.Scenario
	ScenarioErr error
	// Thresholds are the thresholds the run was held to (see
	// readThresholds).
	Thresholds Thresholds
}

// Thresholds are a run directory's thresholds and where they came from.
type Thresholds struct {
	List []rundir.Threshold
	// Source is the file they were read from: rundir.ThresholdsFile, or
	// rundir.ScenarioFile for a run directory written before it ("" when
	// there is neither).
	Source string
	// Err says why Source could not be read whole; List then holds those
	// thresholds that could.
	Err error
}

// Open opens the run directory at path and reads its scenario and
// thresholds. A scenario.yaml that does not validate is not an error
// (see Dir.ScenarioErr); one that cannot be read is.
func Open(path string) (*Dir, error) {
	rd, err := rundir.Open(path)
	if err != nil {
		return nil, err
	}
	d := &Dir{Dir: rd}
	file := filepath.Join(path, rundir.ScenarioFile)
	data, err := scenarios.ReadFile(file, scenarios.MaxFileSize)
	switch {
	case err == nil:
		d.ScenarioText = data
		d.Scenario, d.ScenarioErr = scenarios.Parse(data, file)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	d.Thresholds = d.readThresholds()
	return d, nil
}

// readThresholds reads the thresholds the run recorded in
// thresholds.json or, in a run directory written before that file, those
// of its scenario: read alone when the scenario no longer validates.
func (d *Dir) readThresholds() Thresholds {
	recorded, err := rundir.ReadThresholds(filepath.Join(d.Path, rundir.ThresholdsFile))
	switch {
	case err == nil:
		return Thresholds{List: recorded, Source: rundir.ThresholdsFile}
	case !errors.Is(err, fs.ErrNotExist):
		return Thresholds{Source: rundir.ThresholdsFile, Err: err}
	case d.ScenarioErr != nil:
		alone, _ := scenarios.ReadThresholds(d.ScenarioText)
		return Thresholds{List: scenarios.RecordedThresholds(alone), Source: rundir.ScenarioFile, Err: d.ScenarioErr}
	case d.Scenario != nil:
		return Thresholds{List: scenarios.RecordedThresholds(d.Scenario.Thresholds), Source: rundir.ScenarioFile}
	}
	return Thresholds{}
}

// Run is one variant and repeat as recorded: its run.json and the series
// of its files. Results, which can be large, are streamed (EachResult).
type Run struct {
	Ref  rundir.RunRef
	Info rundir.RunInfo
	// Timeline is timeline.csv's rows by class, in file order.
	Timeline map[string][]rundir.TimelineRow
	Events   []rundir.Event
	Memory   []rundir.MemorySample
	Metrics  []rundir.MetricSample
	results  string
}

// Run reads one variant and repeat of d. Its error wraps fs.ErrNotExist
// when run.json is missing (a repeat a partial run never recorded).
func (d *Dir) Run(ref rundir.RunRef) (*Run, error) {
	info, err := d.RunInfo(ref)
	if err != nil {
		return nil, err
	}
	r := &Run{Ref: ref, Info: info, Timeline: map[string][]rundir.TimelineRow{}, results: d.File(ref, rundir.ResultsFile)}
	if err := optional(rundir.EachTimeline(d.File(ref, rundir.TimelineFile), func(row rundir.TimelineRow) error {
		r.Timeline[row.Class] = append(r.Timeline[row.Class], row)
		return nil
	})); err != nil {
		return nil, err
	}
	if r.Events, err = collect(rundir.EachEvent, d.File(ref, rundir.EventsFile)); err != nil {
		return nil, err
	}
	if r.Memory, err = collect(rundir.EachMemory, d.File(ref, rundir.MemoryFile)); err != nil {
		return nil, err
	}
	if r.Metrics, err = collect(rundir.EachMetric, d.File(ref, rundir.MetricsFile)); err != nil {
		return nil, err
	}
	return r, nil
}

// EachResult calls fn for every request result in results.bin, in file
// order; a missing results.bin has none.
func (r *Run) EachResult(fn func(*vegeta.Result) error) error {
	return optional(rundir.EachResult(r.results, fn))
}

// collect reads every row of the file at path with each, a rundir
// reader; a missing file has none.
func collect[T any](each func(string, func(T) error) error, path string) ([]T, error) {
	var out []T
	err := optional(each(path, func(x T) error {
		out = append(out, x)
		return nil
	}))
	return out, err
}

// optional treats a missing file as empty.
func optional(err error) error {
	if err != nil && errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
