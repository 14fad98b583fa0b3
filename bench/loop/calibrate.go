package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sawtooth-dev/sawtooth/internal/loopcalib"
)

// calibrate runs the shipped offload and uvicorn-offload scenarios, as
// shipped (phases and traffic), repeat times each, and writes the table of
// model/real light p99 and lag p99 per variant, with the load average
// before and after.
func calibrate(p params, apps string, repeat int, w io.Writer) error {
	if p.sawtooth == "" {
		return fmt.Errorf("-calibrate needs -sawtooth BINARY for the built-in target")
	}
	before := loopcalib.LoadAverage()
	rows, err := loopcalib.Run(context.Background(), loopcalib.Options{
		Apps:     apps,
		Dir:      p.dir,
		Binary:   p.sawtooth,
		Repeat:   repeat,
		Progress: p.serverLog,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Shipped %s (built-in loop worker) vs %s (/usr/bin/uvicorn), as shipped, median of %d; load average (1, 5, 15 min) %s before, %s after.\n\n",
		loopcalib.ModelScenario, loopcalib.RealScenario, repeat, before, loopcalib.LoadAverage())
	loopcalib.WriteTable(w, rows, 0.7, 1.3)
	return nil
}

// runCalibrate is calibrate with the run directories in p.dir, or in a
// temporary directory removed afterwards.
func runCalibrate(p params, apps string, repeat int) error {
	if p.dir == "" {
		dir, err := os.MkdirTemp("", "bench-loop-calibrate-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		p.dir = dir
	}
	abs, err := filepath.Abs(apps)
	if err != nil {
		return err
	}
	return calibrate(p, abs, repeat, os.Stdout)
}
