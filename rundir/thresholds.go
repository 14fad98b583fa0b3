package rundir

import (
	"errors"
	"fmt"
)

// Threshold is one of the scenario's thresholds as the run recorded it in
// thresholds.json: ready to evaluate against a measured metric without
// parsing the scenario, so a report of an old run directory keeps its
// verdicts when today's scenario validator would refuse its scenario.yaml.
type Threshold struct {
	// Expr is the condition as written in the scenario.
	Expr string `json:"expr"`
	// Metric is the metric's name (docs/reports.md), e.g. "all.p99".
	Metric string `json:"metric"`
	// Op is one of <, <=, >, >=, ==, !=.
	Op string `json:"op"`
	// Limit is in the metric's base unit: seconds, a fraction, bytes,
	// bytes per minute or requests per second.
	Limit float64 `json:"limit"`
}

// Holds reports whether the measured value, in the metric's base unit,
// satisfies the threshold. An unknown Op never holds.
func (t Threshold) Holds(measured float64) bool {
	switch t.Op {
	case "<":
		return measured < t.Limit
	case "<=":
		return measured <= t.Limit
	case ">":
		return measured > t.Limit
	case ">=":
		return measured >= t.Limit
	case "==":
		return measured == t.Limit
	case "!=":
		return measured != t.Limit
	}
	return false
}

// thresholdsDoc is the content of thresholds.json.
type thresholdsDoc struct {
	Thresholds []Threshold `json:"thresholds"`
}

// WriteThresholds writes ths to path (a run directory's thresholds.json)
// atomically. An empty list is written too: it says the scenario had no
// thresholds.
func WriteThresholds(path string, ths []Threshold) error {
	if ths == nil {
		ths = []Threshold{}
	}
	return WriteJSON(path, thresholdsDoc{Thresholds: ths})
}

// ReadThresholds reads a thresholds.json written by WriteThresholds. The
// error wraps fs.ErrNotExist when the file is absent (a run directory an
// older sawtooth wrote), and says which entry is malformed otherwise.
func ReadThresholds(path string) ([]Threshold, error) {
	var doc thresholdsDoc
	if err := ReadJSON(path, &doc); err != nil {
		return nil, err
	}
	var errs []error
	for i, t := range doc.Thresholds {
		switch {
		case t.Metric == "":
			errs = append(errs, fmt.Errorf("%s: thresholds[%d] (%q): no metric", path, i, t.Expr))
		case !validOp(t.Op):
			errs = append(errs, fmt.Errorf("%s: thresholds[%d] (%q): op %q is not one of <, <=, >, >=, ==, !=", path, i, t.Expr, t.Op))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return doc.Thresholds, nil
}

func validOp(op string) bool {
	switch op {
	case "<", "<=", ">", ">=", "==", "!=":
		return true
	}
	return false
}
