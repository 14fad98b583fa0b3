package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLinearFit: 1 MiB per 100 requests plus noise comes back within 5%
// with a high R²; flat noise gives a slope near zero and a low R².
func TestLinearFit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const slope = (1 << 20) / 100.0
	var x, leak, flat []float64
	for i := 0; i < 400; i++ {
		req := float64(i * 5)
		x = append(x, req)
		leak = append(leak, 50<<20+slope*req+300e3*rng.NormFloat64())
		flat = append(flat, 50<<20+300e3*rng.NormFloat64())
	}
	f := LinearFit(x, leak)
	if math.Abs(f.Slope/slope-1) > 0.05 || f.R2 < 0.9 || f.N != 400 {
		t.Errorf("leak fit = %+v, want slope %.0f ±5%% and R² ≥ 0.9", f, slope)
	}
	f = LinearFit(x, flat)
	if math.Abs(f.Slope) > 0.05*slope || f.R2 > 0.05 {
		t.Errorf("flat fit = %+v, want |slope| < 5%% of %.0f and R² < 0.05", f, slope)
	}
	if f := LinearFit([]float64{1, 1, 1}, []float64{1, 2, 3}); f.Slope != 0 || f.N != 3 || f.Defined() {
		t.Errorf("constant x: fit = %+v, want zero slope", f)
	}
}

func TestCompare(t *testing.T) {
	if c := Compare([]float64{1, 2, 3}, []float64{4, 5, 6}, DefaultAlpha); !c.Tested || !c.Significant {
		t.Errorf("fully separated 3+3: %+v, want significant at alpha 0.1", c)
	}
	if c := Compare([]float64{1, 2, 3}, []float64{1.5, 2.5, 3.5}, DefaultAlpha); c.Significant {
		t.Errorf("interleaved: %+v, want not significant", c)
	}
	if c := Compare([]float64{1, 2}, []float64{4, 5}, DefaultAlpha); c.Tested {
		t.Errorf("2 repeats: %+v, want untested", c)
	}
	if c := Compare([]float64{1, 2, 3}, []float64{4, 5, 6}, 0.05); c.Significant {
		t.Errorf("3+3 at alpha 0.05: %+v, want not significant (the smallest p is 0.1)", c)
	}
}
