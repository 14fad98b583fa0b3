package plots

import (
	"path/filepath"
	"strings"
	"testing"
)

// The latency and throughput timelines mark and label a probe's
// verdicts.
func TestProbeMarks(t *testing.T) {
	cs := ClassSeries{Class: "all", T: []float64{0.5, 1.5, 2.5}, P50: []float64{0.01, 0.02, 0.01}, P99: []float64{0.1, 0.2, 0.1}, OK: []float64{10, 10, 10}, Errors: []float64{0, 0, 0}}
	vs := []Variant{{Name: "blocking", Classes: []ClassSeries{cs}, Marks: []Marks{{Label: "healthz restart (liveness)", T: []float64{1.2, 2.2}}}}}
	charts, err := Render(filepath.Join(t.TempDir(), "plots"), vs)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, c := range charts {
		if c.Name == "latency" || c.Name == "throughput" {
			if !strings.Contains(string(c.SVG), "healthz restart (liveness)") {
				t.Errorf("%s chart lacks the probe marks' legend", c.Name)
			}
			found++
		}
	}
	if found != 2 {
		t.Errorf("%d timeline charts, want latency and throughput", found)
	}
}
