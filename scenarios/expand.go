package scenarios

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"
)

// Expand returns the variants to run, in order, each with Set fully
// resolved: the base target's values (builtin flags, or the command's vars)
// overlaid with the variant's own set or matrix values. A variant keeps
// its client overrides; ClientFor resolves them. Overrides from
// ApplySet are already folded into all of these. With neither variants nor
// matrix, there is one variant named "default".
func (s *Scenario) Expand() []Variant {
	base := s.Target.Builtin
	if s.Target.Command != nil {
		base = s.Target.Command.Vars
	}
	if s.Target.URL != nil {
		base = s.Target.URL.Vars
	}
	resolve := func(over map[string]string) map[string]string {
		set := maps.Clone(base)
		if set == nil {
			set = map[string]string{}
		}
		maps.Copy(set, over)
		return set
	}
	switch {
	case len(s.Matrix) > 0:
		var out []Variant
		idx := make([]int, len(s.Matrix))
		for {
			params := map[string]string{}
			names := make([]string, len(s.Matrix))
			for i, m := range s.Matrix {
				params[m.Name] = m.Values[idx[i]]
				names[i] = m.Name + "=" + m.Values[idx[i]]
			}
			out = append(out, Variant{Name: strings.Join(names, ","), Set: resolve(params), Params: params})
			// Advance the last parameter fastest.
			i := len(idx) - 1
			for ; i >= 0; i-- {
				idx[i]++
				if idx[i] < len(s.Matrix[i].Values) {
					break
				}
				idx[i] = 0
			}
			if i < 0 {
				return out
			}
		}
	case len(s.Variants) > 0:
		out := make([]Variant, len(s.Variants))
		for i, v := range s.Variants {
			out[i] = Variant{Name: v.Name, Set: resolve(v.Set), Client: v.Client}
		}
		return out
	}
	return []Variant{{Name: "default", Set: resolve(nil)}}
}

// ClientFor returns the client model of variant v: the scenario's client
// block with v's overrides.
func (s *Scenario) ClientFor(v Variant) Client { return s.Client.Merge(v.Client) }

// ApplySet applies command-line overrides "key=value". A key is a builtin
// flag (underscore form, e.g. max_requests) or a variable of the command,
// and wins over everything: it sets the base target, every variant's set
// that names it, and collapses a matrix parameter of that name to the one
// value. The key "repeat" sets Repeat. Values are validated as in a file;
// the error is a *ValidationError naming each bad "--set key=value".
func (s *Scenario) ApplySet(sets []string) error {
	var errs errorList
	fail := func(kv, path, format string, args ...any) {
		errs.file = "--set " + kv
		errs.add(position{}, path, format, args...)
	}
	_, check := s.settable()
	for _, kv := range sets {
		key, value, ok := strings.Cut(kv, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch {
		case !ok || key == "":
			fail(kv, "", "want key=value, e.g. max_requests=500")
		case key == "repeat":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 || n > MaxRepeat {
				fail(kv, "repeat", "got %q, want an integer from 1 to %d", value, MaxRepeat)
				continue
			}
			s.Repeat = n
		default:
			if err := check(key, value); err != nil {
				fail(kv, key, "%v", err)
				continue
			}
			s.set(key, value)
		}
	}
	if len(errs.errs) == 0 && len(sets) > 0 {
		// An override can make a combination invalid (worker_model=sync
		// under offload: threads), which the run would refuse.
		for _, e := range s.loopFlagErrors() {
			fail(strings.Join(sets, " --set "), e.path, "%s", e.msg)
		}
	}
	if len(errs.errs) > 0 {
		return &ValidationError{Errors: errs.errs}
	}
	return nil
}

// set overrides key everywhere in the scenario.
func (s *Scenario) set(key, value string) {
	if c := s.Target.Command; c != nil {
		c.Vars[key] = value
	} else if u := s.Target.URL; u != nil {
		u.Vars[key] = value
	} else {
		if s.Target.Builtin == nil {
			s.Target.Builtin = map[string]string{}
		}
		s.Target.Builtin[key] = value
	}
	for _, v := range s.Variants {
		if _, ok := v.Set[key]; ok {
			v.Set[key] = value
		}
	}
	for i := range s.Matrix {
		if s.Matrix[i].Name == key {
			s.Matrix[i].Values = []string{value}
		}
	}
}

// Scale multiplies every phase's duration by f (for a quick smoke run),
// rounding to the millisecond, with a floor of one second per phase (a
// phase already shorter keeps its length). f ≤ 0 leaves the phases as
// they are.
func (s *Scenario) Scale(f float64) {
	if !(f > 0) {
		return
	}
	scale := func(phases []Phase) {
		for i := range phases {
			d := phases[i].Duration.D()
			nd := time.Duration(float64(d) * f).Round(time.Millisecond)
			nd = max(nd, min(d, time.Second))
			phases[i].Duration = Duration(min(nd, MaxPhase))
		}
	}
	scale(s.Phases)
	for i := range s.Streams {
		scale(s.Streams[i].Phases)
	}
}

// TotalDuration is the sum of the phases' durations (of the longest
// stream): the length of one run of one variant, not counting the
// target's start and stop.
func (s *Scenario) TotalDuration() time.Duration { return s.streamsDuration() }

// Substitute replaces every placeholder "{{name}}" in text with values[name].
// It returns an error naming the first placeholder without a value.
func Substitute(text string, values map[string]string) (string, error) {
	var missing string
	out := placeholderRE.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholderRE.FindStringSubmatch(m)[1]
		v, ok := values[name]
		if !ok && missing == "" {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", fmt.Errorf("placeholder {{%s}} in %q has no value", missing, text)
	}
	return out, nil
}
