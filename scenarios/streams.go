package scenarios

import (
	"fmt"
	"slices"
	"time"
)

// Arrival processes of open-model phases (Phase.Arrival, Stream.Arrival).
const (
	ArrivalUniform = "uniform"
	ArrivalPoisson = "poisson"
)

// DefaultStream is the name of the one stream of a scenario written with
// top-level traffic and phases.
const DefaultStream = "default"

// Stream is one named traffic stream: its own request classes (weights
// within the stream) and its own phases, run at the same time as the
// scenario's other streams, from the start of the load.
type Stream struct {
	Name string `yaml:"name" json:"name"`
	// Arrival is the arrival process of the stream's open-model phases
	// that give none: "uniform" (default) or "poisson".
	Arrival string         `yaml:"arrival,omitempty" json:"arrival,omitempty"`
	Traffic []RequestClass `yaml:"traffic" json:"traffic"`
	Phases  []Phase        `yaml:"phases" json:"phases"`
}

// StreamList returns the scenario's streams: Streams, or one stream named
// "default" of the top-level Traffic and Phases.
func (s *Scenario) StreamList() []Stream {
	if len(s.Streams) > 0 {
		return s.Streams
	}
	return []Stream{{Name: DefaultStream, Traffic: s.Traffic, Phases: s.Phases}}
}

// ClassNames returns the names of every request class of every stream, in
// file order.
func (s *Scenario) ClassNames() []string {
	var out []string
	for _, st := range s.StreamList() {
		for _, c := range st.Traffic {
			out = append(out, c.Name)
		}
	}
	return out
}

// PhaseArrival returns the arrival process of phase ph of stream st:
// its own, the stream's, or uniform.
func PhaseArrival(st Stream, ph Phase) string {
	switch {
	case ph.Arrival != "":
		return ph.Arrival
	case st.Arrival != "":
		return st.Arrival
	}
	return ArrivalUniform
}

// streamsDuration is the length of the load: the longest stream.
func (s *Scenario) streamsDuration() time.Duration {
	var longest time.Duration
	for _, st := range s.StreamList() {
		var t time.Duration
		for _, p := range st.Phases {
			t += p.Duration.D()
		}
		longest = max(longest, t)
	}
	return longest
}

// streamDefaults fills in the defaults of every stream's classes and
// phases.
func (s *Scenario) streamDefaults() {
	for i := range s.Streams {
		st := &s.Streams[i]
		for j := range st.Traffic {
			if st.Traffic[j].Method == "" {
				st.Traffic[j].Method = DefaultMethod
			}
		}
		for j := range st.Phases {
			if st.Phases[j].Name == "" {
				st.Phases[j].Name = fmt.Sprintf("phase %d", j+1)
			}
		}
	}
}

// validateStreams checks the streams, or that the single-stream form is
// complete; seen collects class names.
func (s *Scenario) validateStreams(d *decoder, at func(string, string, ...any), seen map[string]bool) {
	_, hasStreams := d.pos["streams"]
	_, hasTraffic := d.pos["traffic"]
	_, hasPhases := d.pos["phases"]
	switch {
	case hasStreams && (hasTraffic || hasPhases):
		field := "traffic"
		if !hasTraffic {
			field = "phases"
		}
		at(field, "both streams and top-level %s given, want either streams or traffic and phases", field)
	case hasStreams:
	default:
		if !hasTraffic {
			d.add(d.at(""), "traffic", "missing, want a list of request classes (or streams)")
		}
		if !hasPhases {
			d.add(d.at(""), "phases", "missing, want a list of phases (or streams)")
		}
	}
	if hasStreams && len(s.Streams) == 0 && !d.has("streams") {
		at("streams", "empty, want at least one stream")
	}
	names := map[string]bool{}
	for i, st := range s.Streams {
		p := index("streams", i)
		switch {
		case st.Name == "":
		case !classNameRE.MatchString(st.Name):
			at(p+".name", "got %q, want letters, digits, _ and - only", st.Name)
		case names[st.Name]:
			at(p+".name", "duplicate stream name %q, want each stream once", st.Name)
		}
		names[st.Name] = true
		checkArrival(at, p+".arrival", st.Arrival)
		validateClasses(d, at, p+".traffic", st.Traffic, seen)
		validatePhases(d, at, p+".phases", st.Phases, st.Traffic)
		for j, ph := range st.Phases {
			checkPhaseArrival(at, index(p+".phases", j), ph)
		}
	}
	for j, ph := range s.Phases {
		checkPhaseArrival(at, index("phases", j), ph)
	}
}

func checkArrival(at func(string, string, ...any), path, arrival string) bool {
	if arrival != "" && !slices.Contains([]string{ArrivalUniform, ArrivalPoisson}, arrival) {
		at(path, "got %q, want uniform (evenly spaced) or poisson (exponential gaps)", arrival)
		return false
	}
	return true
}

func checkPhaseArrival(at func(string, string, ...any), path string, ph Phase) {
	if checkArrival(at, path+".arrival", ph.Arrival) && ph.Arrival != "" && ph.Rate == nil && ph.Concurrency > 0 {
		at(path+".arrival", "given for a closed-model phase (concurrency), want it only with rate: clients send back to back")
	}
}
