package analysis

import (
	"testing"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

// TestHarnessMetricsClosedModel checks that a run with no open-model
// phase has no harness rate metrics rather than 0/s.
func TestHarnessMetricsClosedModel(t *testing.T) {
	closed := rundir.Harness{CPUPercent: 12}
	for _, m := range processMetrics(&RunSummary{Harness: closed}) {
		if m.Name == "harness.achieved_rate" || m.Name == "harness.requested_rate" {
			t.Errorf("closed model: metric %s = %v, want it left out", m.Name, m.Value)
		}
	}
}
