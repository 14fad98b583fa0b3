package analysis

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

const kib = 1 << 10

// synthLives simulates worker lives serving a random mix: each sample
// interval a worker serves perStep requests, each of class leak with
// probability pLeak; RSS is a base plus leakBytes per leak request plus
// AR(1) noise of standard deviation noise (correlation rho).
func synthLives(seed uint64, lives, samples, perStep int, pLeak float64, leakBytes, noise, rho float64) []leakLife {
	rng := rand.New(rand.NewPCG(seed, 1))
	var out []leakLife
	for w := 0; w < lives; w++ {
		l := leakLife{counts: map[string][]float64{}}
		base := 20*mib + float64(w)*mib
		var nLeak, nLight, e float64
		for s := 0; s < samples; s++ {
			for r := 0; r < perStep; r++ {
				if rng.Float64() < pLeak {
					nLeak++
				} else {
					nLight++
				}
			}
			e = rho*e + math.Sqrt(1-rho*rho)*noise*rng.NormFloat64()
			l.rss = append(l.rss, base+leakBytes*nLeak+e)
			l.counts["leak"] = append(l.counts["leak"], nLeak)
			l.counts["light"] = append(l.counts["light"], nLight)
		}
		out = append(out, l)
	}
	return out
}

// TestLeakSplitSynthetic: a 50/50 random mix where only one class leaks
// 100 KiB per request gives back both classes, intervals containing the
// truth, and across 200 simulated runs the 95% intervals cover the truth
// at least 90% of the time despite autocorrelated noise.
func TestLeakSplitSynthetic(t *testing.T) {
	classes := []string{"leak", "light"}
	f := fitLeak(synthLives(1, 4, 60, 20, 0.5, 100*kib, 512*kib, 0.5), classes, "rss")
	if !f.Identifiable {
		t.Fatalf("not identifiable: %s", f.Reason)
	}
	leak, _ := f.Leak("leak")
	light, _ := f.Leak("light")
	t.Logf("leak %.0f [%.0f, %.0f], light %.0f [%.0f, %.0f], R² %.3f, cond %.1f, base %.0f",
		leak.Value, leak.Low, leak.High, light.Value, light.Low, light.High, f.R2, f.Condition, f.Base)
	if math.Abs(leak.Value/(100*kib)-1) > 0.1 || !leak.Contains(100*kib) {
		t.Errorf("leak = %.0f [%.0f, %.0f], want 102400 ±10%% inside the interval", leak.Value, leak.Low, leak.High)
	}
	if math.Abs(light.Value) > 5*kib || !light.Contains(0) {
		t.Errorf("light = %.0f [%.0f, %.0f], want 0 ±5KiB inside the interval", light.Value, light.Low, light.High)
	}
	if f.Base < 20*mib || f.Base > 22*mib {
		t.Errorf("base = %.0f, want the lives' bases, 20 to 22 MiB", f.Base)
	}

	const runs = 200
	covered := 0
	for seed := uint64(100); seed < 100+runs; seed++ {
		f := fitLeak(synthLives(seed, 4, 60, 20, 0.5, 100*kib, 512*kib, 0.5), classes, "rss")
		leak, ok1 := f.Leak("leak")
		light, ok2 := f.Leak("light")
		if ok1 && ok2 && leak.Contains(100*kib) && light.Contains(0) {
			covered++
		}
	}
	t.Logf("both intervals covered the truth in %d of %d simulated runs", covered, runs)
	if covered < runs*90/100 {
		t.Errorf("intervals covered the truth in %d of %d runs, want ≥ 90%%", covered, runs)
	}
}

// TestLeakSplitRefusals: when a class asked for was never served, or the
// classes come in exactly fixed proportions, the split says why it is
// not identifiable and gives no per-class number, while the mix's leak
// is still measured.
func TestLeakSplitRefusals(t *testing.T) {
	oneClass := synthLives(2, 3, 40, 20, 1, 100*kib, 64*kib, 0)
	for i := range oneClass {
		delete(oneClass[i].counts, "light")
	}
	fixed := synthLives(3, 3, 40, 20, 1, 100*kib, 64*kib, 0)
	for i, l := range fixed {
		// Every request of "leak" is followed by one of "light".
		fixed[i].counts["light"] = append([]float64(nil), l.counts["leak"]...)
	}
	for name, c := range map[string]struct {
		lives []leakLife
		want  string
	}{
		"one class": {oneClass, "no response of light"},
		"fixed mix": {fixed, "collinear"},
	} {
		f := fitLeak(c.lives, []string{"leak", "light"}, "rss")
		if f.Identifiable || !strings.Contains(f.Reason, c.want) {
			t.Errorf("%s: identifiable %v, reason %q, want not identifiable saying %q", name, f.Identifiable, f.Reason, c.want)
		}
		for _, cl := range f.Classes {
			if cl.PerRequest != nil {
				t.Errorf("%s: class %s has a leak %v, want none", name, cl.Class, *cl.PerRequest)
			}
		}
		ms := leakMetrics(&LeakStats{RSS: f})
		for _, m := range ms {
			if m.Name != "all.leak_per_request" {
				t.Errorf("%s: metric %s = %v, want only all.leak_per_request", name, m.Name, m.Value)
			}
		}
		// 100 KiB per leak request, i.e. 50 KiB per request of the fixed mix.
		want := 100 * kib
		if name == "fixed mix" {
			want = 50 * kib
		}
		if f.Mix == nil || math.Abs(f.Mix.Value/float64(want)-1) > 0.05 {
			t.Errorf("%s: mix leak %v, want %d ±5%%", name, f.Mix, want)
		}
	}
	// One class asked for, one served: identifiable.
	f := fitLeak(oneClass, []string{"leak"}, "rss")
	if got, ok := f.Leak("leak"); !ok || math.Abs(got.Value/(100*kib)-1) > 0.05 {
		t.Errorf("one class alone: leak %v (%s), want 100 KiB ±5%%", got, f.Reason)
	}
}
