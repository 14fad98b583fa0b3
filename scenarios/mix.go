package scenarios

import (
	"math"
	"slices"
	"strings"
)

// validateMix checks a phase's mix: every key a request class of the
// phase's stream (classes), every weight finite and non-negative, and the
// phase's weights (its mix over the classes') not all zero.
func validateMix(classes []RequestClass, ph Phase, path string, at func(path, format string, args ...any)) {
	if len(ph.Mix) == 0 {
		return
	}
	var names []string
	for _, rc := range classes {
		names = append(names, rc.Name)
	}
	sum := 0.0
	for _, rc := range classes {
		w, ok := ph.Mix[rc.Name]
		if !ok {
			w = rc.Weight
		}
		if w > 0 {
			sum += w
		}
	}
	bad := false
	for _, k := range sortedKeys(ph.Mix) {
		w := ph.Mix[k]
		switch {
		case !slices.Contains(names, k):
			at(join(path+".mix", k), "unknown request class %q, want one of the traffic's: %s", k, strings.Join(names, ", "))
			bad = true
		case w < 0 || math.IsNaN(w) || math.IsInf(w, 0):
			at(join(path+".mix", k), "got weight %v, want a number ≥ 0", w)
			bad = true
		}
	}
	if !bad && sum <= 0 {
		at(path+".mix", "every request class has weight 0 in this phase, want at least one above 0")
	}
}

// validateWarmup checks sample.warmup: not negative, and shorter than the
// load, so that some samples are left to fit.
func validateWarmup(s *Scenario, at func(path, format string, args ...any)) {
	w := s.Sample.Warmup.D()
	if w == 0 {
		return
	}
	load := s.streamsDuration()
	if w < 0 || (load > 0 && w >= load) {
		at("sample.warmup", "got %v, want a duration from 0 to less than the load's length (the longest stream's phases), %v", s.Sample.Warmup, Duration(load))
	}
}
