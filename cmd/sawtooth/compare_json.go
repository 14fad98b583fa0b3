package main

import (
	"github.com/sawtooth-dev/sawtooth/reports"
	"github.com/sawtooth-dev/sawtooth/reports/analysis"
)

// compareJSON is "compare --format json": every delta, the regressions
// that fail the comparison, and the caveats.
type compareJSON struct {
	Base          string              `json:"base"`
	New           string              `json:"new"`
	Scenario      string              `json:"scenario"`
	MaxRegression float64             `json:"max_regression"`
	Alpha         float64             `json:"alpha"`
	Deltas        []analysis.Delta    `json:"deltas"`
	Regressions   []analysis.GateTest `json:"regressions"`
	Notes         []string            `json:"notes"`
}

func compareResult(dirs []string, cmp *reports.RunComparison) compareJSON {
	return compareJSON{Base: dirs[0], New: dirs[1], Scenario: cmp.New.Summary.Scenario,
		MaxRegression: cmp.MaxRegression, Alpha: cmp.Alpha,
		Deltas: nonNil(cmp.Deltas), Regressions: nonNil(cmp.Regressions), Notes: nonNil(cmp.Notes)}
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
