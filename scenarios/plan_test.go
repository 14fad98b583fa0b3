package scenarios

import (
	"strings"
	"testing"
)

// TestPlanMixWarmup: the plan block, a phase's mix, sample.warmup and
// target.worker_header parse, and bad values are errors at their field.
func TestPlanMixWarmup(t *testing.T) {
	const base = `name: x
target:
  builtin: {workers: "2"}
  worker_header: X-Worker-Id
traffic:
  - {name: leak, weight: 1, path: "/leak?bytes=1024"}
  - {name: light, weight: 1, path: /light}
phases:
  - {duration: 2s, rate: 10, mix: {leak: 4}}
sample: {warmup: 1s}
plan: {worker_rss_budget: 300MiB, margin: 10MiB}
`
	s, err := Parse([]byte(base), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Target.WorkerIDHeader() != "X-Worker-Id" || s.Phases[0].Mix["leak"] != 4 || s.Sample.Warmup.D().Seconds() != 1 {
		t.Errorf("parsed %+v", s)
	}
	if b, m := s.Plan.Budget(); b != 300<<20 || m != 10<<20 {
		t.Errorf("budget %d margin %d", b, m)
	}
	back, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(back, "again.yaml"); err != nil {
		t.Errorf("marshalled scenario does not parse: %v\n%s", err, back)
	}
	for _, c := range []struct{ old, new, want string }{
		{"mix: {leak: 4}", "mix: {heavy: 4}", `phases[0].mix.heavy: unknown request class "heavy"`},
		{"mix: {leak: 4}", "mix: {leak: -1}", "phases[0].mix.leak: got weight -1"},
		{"mix: {leak: 4}", "mix: {leak: 0, light: 0}", "every request class has weight 0"},
		{"mix: {leak: 4}", "mix: {leak: lots}", "phases[0].mix.leak"},
		{"warmup: 1s", "warmup: 2s", "sample.warmup: got 2s"},
		{"worker_rss_budget: 300MiB", "worker_rss_budget: lots", "plan.worker_rss_budget"},
		{"margin: 10MiB", "margin: 400MiB", "plan.margin"},
	} {
		_, err := Parse([]byte(strings.Replace(base, c.old, c.new, 1)), "x.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to say %q", c.new, err, c.want)
		}
	}
}

// A phase's mix names classes of its own stream: another stream's class
// is an error at the field.
func TestStreamMix(t *testing.T) {
	const base = `name: x
target:
  builtin: {workers: "2"}
streams:
  - name: web
    traffic:
      - {name: leak, weight: 1, path: "/leak?bytes=1024"}
      - {name: light, weight: 1, path: /light}
    phases:
      - {duration: 2s, rate: 10, mix: {leak: 4}}
  - name: batch
    traffic:
      - {name: heavy, weight: 1, path: "/cpu?ms=5"}
    phases:
      - {duration: 2s, rate: 1}
`
	s, err := Parse([]byte(base), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Streams[0].Phases[0].Mix["leak"] != 4 {
		t.Errorf("parsed %+v", s.Streams[0])
	}
	for _, c := range []struct{ old, new, want string }{
		{"mix: {leak: 4}", "mix: {heavy: 4}", `streams[0].phases[0].mix.heavy: unknown request class "heavy", want one of the traffic's: leak, light`},
		{"rate: 1}", "rate: 1, mix: {leak: 1}}", `streams[1].phases[0].mix.leak: unknown request class "leak"`},
		{"mix: {leak: 4}", "mix: {leak: 0, light: 0}", "streams[0].phases[0].mix: every request class has weight 0"},
	} {
		_, err := Parse([]byte(strings.Replace(base, c.old, c.new, 1)), "x.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to say %q", c.new, err, c.want)
		}
	}
}
