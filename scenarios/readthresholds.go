package scenarios

import (
	"errors"
	"fmt"

	"gopkg.in/yaml.v3"
)

// ReadThresholds reads only the thresholds of a scenario file's text,
// without validating the rest, so that a run directory whose
// scenario.yaml no longer validates (one an older sawtooth wrote, say)
// keeps its thresholds. It returns the thresholds that parse and an error
// naming each one that does not.
func ReadThresholds(data []byte) ([]Threshold, error) {
	var doc struct {
		Thresholds []string `yaml:"thresholds"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("thresholds: %w", err)
	}
	var out []Threshold
	var errs []error
	for i, expr := range doc.Thresholds {
		t, err := ParseThreshold(expr)
		if err != nil {
			errs = append(errs, fmt.Errorf("thresholds[%d]: %w", i, err))
			continue
		}
		out = append(out, t)
	}
	return out, errors.Join(errs...)
}
