package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/stats"
)

// vegetaVariant names the one variant of a run directory made from a bare
// vegeta results file.
const vegetaVariant = "vegeta"

// importVegeta makes the run directory dir, which must not exist, from the
// vegeta results file (gob, JSON or CSV, as "vegeta attack" or "vegeta
// encode" write it): one variant "vegeta" with results.bin, timeline.csv
// and run.json, and no memory, events or metrics. Each result's Attack
// (vegeta attack -name) is its request class ("default" when empty).
func importVegeta(file, dir string) error {
	start, end, n, err := vegetaSpan(file)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s: no results", file)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("create run directory: %w", err)
	}
	ref := rundir.RunRef{Variant: vegetaVariant, Repeat: 1, Dir: rundir.RunPath(vegetaVariant, 1)}
	if err := os.MkdirAll(filepath.Join(dir, ref.Dir), 0o755); err != nil {
		return fmt.Errorf("create run directory: %w", err)
	}
	if err := writeVegetaRun(file, filepath.Join(dir, ref.Dir), start, end); err != nil {
		return err
	}
	dur := end.Sub(start).Seconds()
	info := rundir.RunInfo{Variant: vegetaVariant, Repeat: 1, Start: start.UTC(), End: end.UTC(),
		Phases:  []rundir.PhaseInfo{{Name: "attack", Start: 0, End: dur}},
		Harness: rundir.Harness{Requests: n}}
	if err := rundir.WriteJSON(filepath.Join(dir, ref.Dir, rundir.RunFile), info); err != nil {
		return err
	}
	host, _ := os.Hostname()
	meta := rundir.Meta{FormatVersion: rundir.FormatVersion, ToolVersion: toolVersion(), GoVersion: runtime.Version(), Host: host,
		CommandLine: os.Args, Scenario: "vegeta: " + filepath.Base(file), Start: start.UTC(), End: end.UTC(), Runs: []rundir.RunRef{ref}}
	return rundir.WriteJSON(filepath.Join(dir, rundir.MetaFile), meta)
}

// eachVegeta calls fn for every result in file, whatever its encoding.
func eachVegeta(file string, fn func(*vegeta.Result) error) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("read vegeta results: %w", err)
	}
	defer f.Close()
	dec := vegeta.DecoderFor(bufio.NewReader(f))
	if dec == nil {
		return fmt.Errorf("%s: not a vegeta results stream (gob, JSON or CSV)", file)
	}
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return fmt.Errorf("%s: %w", file, err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
}

// vegetaSpan returns when the first request was sent, when the last answer
// came, and the number of results.
func vegetaSpan(file string) (start, end time.Time, n int64, err error) {
	err = eachVegeta(file, func(r *vegeta.Result) error {
		if n == 0 || r.Timestamp.Before(start) {
			start = r.Timestamp
		}
		if e := r.Timestamp.Add(r.Latency); e.After(end) {
			end = e
		}
		n++
		return nil
	})
	return start, end, n, err
}

// writeVegetaRun writes results.bin (gob, as sawtooth run does) and
// timeline.csv of file into the variant directory vdir.
func writeVegetaRun(file, vdir string, start, end time.Time) error {
	rf, err := rundir.Create(filepath.Join(vdir, rundir.ResultsFile))
	if err != nil {
		return err
	}
	defer rf.Close()
	tf, err := rundir.Create(filepath.Join(vdir, rundir.TimelineFile))
	if err != nil {
		return err
	}
	defer tf.Close()
	rw, tw := bufio.NewWriter(rf), bufio.NewWriter(tf)
	tlw, err := rundir.NewTimelineWriter(tw)
	if err != nil {
		return err
	}
	// Results come in completion order: hold every interval until the end.
	tl := stats.NewTimeline(start, time.Second, end.Sub(start)+time.Second, tlw.Write)
	enc := vegeta.NewEncoder(rw)
	if err := eachVegeta(file, func(r *vegeta.Result) error {
		if r.Attack == "" {
			r.Attack = "default"
		}
		tl.Add(r.Attack, r.Timestamp, r.Latency, r.Error == "" && r.Code >= 200 && r.Code < 400, false) // reuse failures: not measured by vegeta
		return enc.Encode(r)
	}); err != nil {
		return err
	}
	for _, e := range []error{tl.Close(), tlw.Flush(), tw.Flush(), rw.Flush(), rf.Close(), tf.Close()} {
		if e != nil && !errors.Is(e, os.ErrClosed) {
			return fmt.Errorf("write run directory: %w", e)
		}
	}
	return nil
}
