package scenarios

import (
	"strings"
	"testing"
	"time"
)

const streamsYAML = `name: s
target:
  builtin: {}
streams:
  - name: light
    traffic:
      - {name: light, weight: 1, path: /light}
    phases:
      - {duration: 20s, rate: 100}
  - name: heavy
    arrival: poisson
    traffic:
      - {name: heavy, weight: 1, path: /heavy}
    phases:
      - {duration: 20s, rate: 5}
  - name: batch
    traffic:
      - {name: batch, weight: 1, path: /light}
    phases:
      - {duration: 10s, concurrency: 4}
probes:
  - {name: live, kind: liveness, path: /healthz, every: 2s}
  - {name: ready, kind: readiness, path: /healthz, success_threshold: 2}
thresholds:
  - probe.live.restarts == 0
  - probe.ready.unready_seconds < 5s
  - heavy.p99 < 1s
`

func TestParseStreamsAndProbes(t *testing.T) {
	s, err := Parse([]byte(streamsYAML), "s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sl := s.StreamList()
	if len(sl) != 3 || sl[1].Name != "heavy" || PhaseArrival(sl[1], sl[1].Phases[0]) != ArrivalPoisson ||
		PhaseArrival(sl[0], sl[0].Phases[0]) != ArrivalUniform || sl[0].Traffic[0].Method != "GET" || sl[2].Phases[0].Name != "phase 1" {
		t.Errorf("streams = %+v", sl)
	}
	if got := strings.Join(s.ClassNames(), ","); got != "light,heavy,batch" {
		t.Errorf("classes %s", got)
	}
	if s.TotalDuration() != 20*time.Second {
		t.Errorf("total %v, want the longest stream's 20s", s.TotalDuration())
	}
	live, ready := s.Probes[0], s.Probes[1]
	if live.Every.D() != 2*time.Second || live.Timeout != DefaultProbeTimeout || live.FailureThreshold != 3 || live.SuccessThreshold != 1 {
		t.Errorf("liveness defaults: %+v", live)
	}
	if ready.Every != DefaultProbeEvery || ready.SuccessThreshold != 2 {
		t.Errorf("readiness: %+v", ready)
	}
	if s.Thresholds[1].Value != 5 {
		t.Errorf("unready_seconds threshold value %v, want 5 (seconds)", s.Thresholds[1].Value)
	}
	// The single form is one stream named default.
	b, err := Parse([]byte(base), "b.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if sl := b.StreamList(); len(sl) != 1 || sl[0].Name != DefaultStream || len(sl[0].Traffic) != 2 {
		t.Errorf("single form: %+v", sl)
	}
	// A marshalled scenario parses back with its streams and probes.
	y, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if again, err := Parse(y, "again.yaml"); err != nil || len(again.Streams) != 3 || len(again.Probes) != 2 {
		t.Errorf("round trip: %v\n%s", err, y)
	}
}

// A malformed stream or probe is reported at FILE:LINE:COL with the field
// and what was expected.
func TestMalformedStreamsAndProbes(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{strings.Replace(streamsYAML, "arrival: poisson", "arrival: bursty", 1), "s.yaml:11:14: field streams[1].arrival: got \"bursty\", want uniform"},
		{strings.Replace(streamsYAML, "{duration: 10s, concurrency: 4}", "{duration: 10s, concurrency: 4, arrival: poisson}", 1), "s.yaml:20:50: field streams[2].phases[0].arrival: given for a closed-model phase"},
		{strings.Replace(streamsYAML, "- name: heavy\n    arrival", "- name: light\n    arrival", 1), "s.yaml:10:11: field streams[1].name: duplicate stream name \"light\""},
		{strings.Replace(streamsYAML, "{name: heavy, weight: 1", "{name: light, weight: 1", 1), "s.yaml:13:16: field streams[1].traffic[0].name: duplicate class name \"light\""},
		{strings.Replace(streamsYAML, "{duration: 20s, rate: 5}", "{duration: 20s}", 1), "s.yaml:15:9: field streams[1].phases[0]: neither rate nor concurrency"},
		{strings.Replace(streamsYAML, "kind: liveness", "kind: alive", 1), "s.yaml:22:24: field probes[0].kind: got \"alive\", want liveness"},
		{strings.Replace(streamsYAML, "path: /healthz, every: 2s", "path: /healthz, every: 2s, timeout: 3s", 1), "s.yaml:22:70: field probes[0].timeout: got 3s, want a timeout from 1ms up to every (2s)"},
		{strings.Replace(streamsYAML, "kind: liveness, path: /healthz", "kind: liveness, path: healthz", 1), "s.yaml:22:40: field probes[0].path: got \"healthz\""},
		{strings.Replace(streamsYAML, "{name: live, kind: liveness, path: /healthz, every: 2s}", "{name: live, kind: liveness, path: /healthz, success_threshold: 2}", 1), "probes[0].success_threshold: got 2 for a liveness probe, want 1"},
		{strings.Replace(streamsYAML, "{name: live, kind", "{name: heavy, kind", 1), "probes[0].name: \"heavy\" is also a request class"},
		{strings.Replace(streamsYAML, "{name: live, kind", "{kind", 1), "probes[0].name: missing"},
		{strings.Replace(streamsYAML, "probe.live.restarts", "probe.dead.restarts", 1), "thresholds[0]: metric \"probe.dead.restarts\" names probe \"dead\", which probes does not define"},
		{strings.Replace(streamsYAML, "probe.live.restarts", "probe.live.kills", 1), "unknown metric \"probe.live.kills\""},
		{strings.Replace(streamsYAML, "streams:\n", "traffic:\n  - {name: x, weight: 1, path: /}\nstreams:\n", 1), "traffic: both streams and top-level traffic given"},
		{strings.Replace(base, "phases:\n  - duration: 5s\n    rate: 100\n", "", 1), "phases: missing, want a list of phases (or streams)"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml), "s.yaml")
		if err == nil {
			t.Errorf("want error %q, got none", c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("error:\n%v\nwant it to contain %q", err, c.want)
		}
	}
}

// schema.json accepts a scenario with streams and probes, and rejects one
// with both streams and top-level traffic, or a probe of unknown kind, as
// the loader does.
func TestSchemaStreamsAndProbes(t *testing.T) {
	sch := compileSchema(t)
	if err := sch.Validate(yamlToJSON(t, []byte(streamsYAML))); err != nil {
		t.Errorf("schema.json rejects streams and probes: %v", err)
	}
	for _, bad := range []string{
		strings.Replace(streamsYAML, "streams:\n", "traffic:\n  - {name: x, weight: 1, path: /}\nstreams:\n", 1),
		strings.Replace(streamsYAML, "kind: liveness", "kind: alive", 1),
		strings.Replace(streamsYAML, "arrival: poisson", "arrival: bursty", 1),
	} {
		if err := sch.Validate(yamlToJSON(t, []byte(bad))); err == nil {
			t.Errorf("schema.json accepts what the loader rejects:\n%s", bad)
		}
	}
}
