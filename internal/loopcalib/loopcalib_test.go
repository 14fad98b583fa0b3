package loopcalib

import (
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := Median(tc.xs); got != tc.want {
			t.Errorf("Median(%v) = %g, want %g", tc.xs, got, tc.want)
		}
	}
	xs := []float64{3, 1, 2}
	Median(xs)
	if xs[0] != 3 || xs[1] != 1 {
		t.Errorf("Median sorted its argument: %v", xs)
	}
}

// Append adds a later run's repeats to the same variant's, so the ratios
// become medians of all of them.
func TestAppendAndRatios(t *testing.T) {
	rows := []Row{
		{Variant: "offload=none", Model: Figures{LightP99: []float64{2, 4, 9}, LagP99: []float64{1, 1, 1}}, Real: Figures{LightP99: []float64{2, 2, 2}, LagP99: []float64{2, 2, 2}}},
		{Variant: "offload=threads", Model: Figures{LightP99: []float64{1}, LagP99: []float64{1}}, Real: Figures{LightP99: []float64{1}, LagP99: []float64{1}}},
	}
	if got := rows[0].LightRatio(); got != 2 {
		t.Errorf("light ratio of medians 4 and 2 = %g, want 2", got)
	}
	if got := rows[0].LagRatio(); got != 0.5 {
		t.Errorf("lag ratio of medians 1 and 2 = %g, want 0.5", got)
	}
	more := []Row{
		{Variant: "offload=threads", Model: Figures{LightP99: []float64{3}, LagP99: []float64{3}}, Real: Figures{LightP99: []float64{1}, LagP99: []float64{1}}},
		{Variant: "offload=none", Model: Figures{LightP99: []float64{1, 1}, LagP99: []float64{1, 1}}, Real: Figures{LightP99: []float64{2, 2}, LagP99: []float64{2, 2}}},
	}
	rows = Append(rows, more)
	if n := len(rows[0].Model.LightP99); n != 5 {
		t.Fatalf("none has %d model repeats after Append, want 5", n)
	}
	if got := rows[0].LightRatio(); got != 1 {
		t.Errorf("light ratio after Append = %g, want the median 2 over 2 = 1", got)
	}
	if got := rows[1].Model.LagP99; len(got) != 2 || got[1] != 3 {
		t.Errorf("threads' model lag after Append = %v, want [1 3]", got)
	}
	var b strings.Builder
	WriteTable(&b, rows, 0.7, 1.3)
	if !strings.Contains(b.String(), "| offload=none | 2000.00 ms | 2000.00 ms | 1.00 | 1000.00 ms | 2000.00 ms | **0.50** |") || !strings.Contains(b.String(), "**2.00**") {
		t.Errorf("table:\n%s", b.String())
	}
}
