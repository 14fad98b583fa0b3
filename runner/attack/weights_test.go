package attack

import (
	"math"
	"testing"
)

// TestSetWeights: a phase's mix changes the share of each class from
// then on, nil restores the classes' own weights, and bad weights are
// refused without changing anything.
func TestSetWeights(t *testing.T) {
	tg, err := NewTargeter([]Class{{Name: "a", Weight: 1, URL: "http://127.0.0.1/a"}, {Name: "b", Weight: 1, URL: "http://127.0.0.1/b"}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	share := func() float64 {
		n := 0
		for i := 0; i < 10000; i++ {
			if tg.Next() == 0 {
				n++
			}
		}
		return float64(n) / 10000
	}
	if err := tg.SetWeights([]float64{4, 1}); err != nil {
		t.Fatal(err)
	}
	if got := share(); math.Abs(got-0.8) > 0.02 {
		t.Errorf("mix 4:1: share of a = %.3f, want 0.8 ±0.02", got)
	}
	for _, bad := range [][]float64{{1}, {-1, 2}, {0, 0}} {
		if err := tg.SetWeights(bad); err == nil {
			t.Errorf("SetWeights(%v) = nil, want an error", bad)
		}
	}
	if got := share(); math.Abs(got-0.8) > 0.02 {
		t.Errorf("after refused weights: share of a = %.3f, want still 0.8", got)
	}
	if err := tg.SetWeights(nil); err != nil {
		t.Fatal(err)
	}
	if got := share(); math.Abs(got-0.5) > 0.02 {
		t.Errorf("weights restored: share of a = %.3f, want 0.5 ±0.02", got)
	}
}
