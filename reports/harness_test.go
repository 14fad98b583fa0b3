package reports

import (
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/analysis"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// TestHarnessRateClosedModel checks that a run with no open-model phase
// shows its harness rates as not measured rather than 0/s.
func TestHarnessRateClosedModel(t *testing.T) {
	closed := rundir.Harness{CPUPercent: 12}
	if got := harnessRate(closed, closed.AchievedRate); got != analysis.Unmeasured {
		t.Errorf("closed model: harnessRate = %q, want %q", got, analysis.Unmeasured)
	}
	open := rundir.Harness{RequestedRate: 100, AchievedRate: 0}
	if got := harnessRate(open, open.AchievedRate); got == analysis.Unmeasured {
		t.Errorf("open model achieving 0/s: harnessRate = %q, want a measured 0", got)
	}
}
