package scenarios

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// base is a valid scenario; malformed cases edit it.
const base = `name: t
target:
  builtin:
    workers: 2
traffic:
  - name: light
    weight: 9
    path: /light
  - name: heavy
    weight: 1
    path: /cpu?ms=20
phases:
  - duration: 5s
    rate: 100
`

func TestParseValid(t *testing.T) {
	s, err := Parse([]byte(base), "base.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.File != "base.yaml" || s.Repeat != 1 || s.Phases[0].Name != "phase 1" || s.Traffic[0].Method != "GET" ||
		s.Sample.Interval != DefaultInterval || *s.Phases[0].Rate != (Rate{100, 100}) {
		t.Errorf("defaults not applied: %+v", s)
	}
	if len(s.Sample.Metrics) != 1 || s.Sample.Metrics[0].URL != DefaultMetricsURL || s.Sample.Metrics[0].Names[0] != LoopLagMetric {
		t.Errorf("default metrics source = %+v", s.Sample.Metrics)
	}
}

// TestPausePhase checks that a phase at rate 0 (a pause after load) is
// valid.
func TestPausePhase(t *testing.T) {
	for _, pause := range []string{"rate: 0", "rate: {from: 0, to: 0}", "rate: 0.0"} {
		y := base + "  - name: settle\n    duration: 5s\n    " + pause + "\n"
		s, err := Parse([]byte(y), "p.yaml")
		if err != nil {
			t.Errorf("%s: %v", pause, err)
			continue
		}
		if r := s.Phases[1].Rate; r == nil || r.From != 0 || r.To != 0 {
			t.Errorf("%s: rate %+v", pause, r)
		}
	}
}

func TestParseCommandDefaults(t *testing.T) {
	s, err := Parse([]byte(`name: c
target:
  command:
    argv: [/bin/server, "--port={{port}}"]
    stop: {signal: SIGINT}
traffic: [{name: a, weight: 1, path: /}]
phases: [{duration: 1s, concurrency: 3}]
`), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := s.Target.Command
	if c.BaseURL != DefaultBaseURL || c.Ready.URL != "/" || c.Ready.Timeout != DefaultReadyTimeout ||
		c.Stop.Signal != "INT" || c.Stop.Grace != DefaultStopGrace {
		t.Errorf("command defaults: %+v", c)
	}
	if len(s.Sample.Metrics) != 0 {
		t.Errorf("command target got a default metrics source: %+v", s.Sample.Metrics)
	}
}

// TestMalformed checks that each broken scenario is rejected with an error
// at the right line naming the right field.
func TestMalformed(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		line int
		path string
		msg  string // a fragment of the message
	}{
		{"unknown top-level field", base + "colour: blue\n", 15, "colour", "unknown field"},
		{"unknown nested field", strings.Replace(base, "    rate: 100\n", "    rate: 100\n    rtae: 5\n", 1), 15, "phases[0].rtae", "unknown field"},
		{"wrong type for weight", strings.Replace(base, "weight: 9", "weight: lots", 1), 7, "traffic[0].weight", "want a finite number"},
		{"missing path", strings.Replace(base, "    path: /light\n", "", 1), 6, "traffic[0].path", "missing"},
		{"missing name", strings.Replace(base, "name: t\n", "", 1), 1, "name", "missing"},
		{"NaN rate", strings.Replace(base, "rate: 100", "rate: .nan", 1), 14, "phases[0].rate", "want a rate"},
		{"Inf rate", strings.Replace(base, "rate: 100", "rate: .inf", 1), 14, "phases[0].rate", "want a rate"},
		{"-Inf rate", strings.Replace(base, "rate: 100", "rate: -.Inf", 1), 14, "phases[0].rate", "want a rate"},
		{"NaN ramp", strings.Replace(base, "rate: 100", "rate: {from: .NaN, to: 10}", 1), 14, "phases[0].rate.from", "want a finite number"},
		{"Inf ramp", strings.Replace(base, "rate: 100", "rate: {from: 1, to: .inf}", 1), 14, "phases[0].rate.to", "want a finite number"},
		{"NaN weight", strings.Replace(base, "weight: 9", "weight: .nan", 1), 7, "traffic[0].weight", "want a finite number"},
		{"Inf threshold", base + "thresholds:\n  - light.p99 < 1e400s\n", 16, "thresholds[0]", "want a finite number"},
		{"only pauses", strings.Replace(base, "rate: 100", "rate: 0", 1), 13, "phases", "every phase is a pause"},
		{"negative rate", strings.Replace(base, "rate: 100", "rate: -5", 1), 14, "phases[0].rate", "want rates"},
		{"rate and concurrency", strings.Replace(base, "    rate: 100\n", "    rate: 100\n    concurrency: 4\n", 1), 15, "phases[0].concurrency", "both rate and concurrency"},
		{"neither rate nor concurrency", strings.Replace(base, "    rate: 100\n", "", 1), 13, "phases[0]", "neither rate nor concurrency"},
		{"bad duration", strings.Replace(base, "duration: 5s", "duration: 5 parsecs", 1), 13, "phases[0].duration", "want a duration"},
		{"zero weight", strings.Replace(base, "weight: 1", "weight: 0", 1), 10, "traffic[1].weight", "want a number > 0"},
		{"duplicate class", strings.Replace(base, "name: heavy", "name: light", 1), 9, "traffic[1].name", "duplicate class"},
		{"both builtin and command", strings.Replace(base, "target:\n", "target:\n  command: {argv: [x]}\n", 1), 3, "target", "both builtin and command"},
		{"neither builtin nor command", strings.Replace(base, "  builtin:\n    workers: 2\n", "  {}\n", 1), 3, "target", "neither builtin nor command"},
		{"empty traffic", strings.Replace(base, "traffic:\n  - name: light\n    weight: 9\n    path: /light\n  - name: heavy\n    weight: 1\n    path: /cpu?ms=20\n", "traffic: []\n", 1), 5, "traffic", "at least one request class"},
		{"unknown builtin flag", strings.Replace(base, "workers: 2", "wrokers: 2", 1), 4, "target.builtin.wrokers", "unknown flag"},
		{"bad builtin value", strings.Replace(base, "workers: 2", "workers: 0", 1), 4, "target.builtin.workers", "integer ≥ 1"},
		{"bad worker model", strings.Replace(base, "workers: 2", "worker_model: async", 1), 4, "target.builtin.worker_model", "sync, threads, loop"},
		{"bad size", strings.Replace(base, "workers: 2", "max_rss: 12 parsecs", 1), 4, "target.builtin.max_rss", "a size"},
		{"variant set unknown key", base + "variants:\n  - name: a\n    set: {max_request: 5}\n", 17, "variants[0].set.max_request", "unknown flag"},
		{"duplicate variant", base + "variants:\n  - name: a\n  - name: a\n", 17, "variants[1].name", "duplicate variant"},
		{"bad threshold", base + "thresholds:\n  - light.p99 << 5ms\n", 16, "thresholds[0]", "METRIC OP VALUE"},
		{"threshold unknown class", base + "thresholds:\n  - medium.p99 < 5ms\n", 16, "thresholds[0]", "does not define"},
		{"threshold wrong unit", base + "thresholds:\n  - light.p99 < 5MiB\n", 16, "thresholds[0]", "is a duration"},
		{"threshold unknown metric", base + "thresholds:\n  - memory.vms.peak < 5MiB\n", 16, "thresholds[0]", "unknown metric"},
		{"matrix value invalid", base + "matrix:\n  max_requests: [0, -3]\n", 16, "matrix.max_requests[1]", "integer ≥ 0"},
		{"repeat out of range", base + "repeat: 0\n", 15, "repeat", "from 1 to"},
		{"sample interval too small", base + "sample: {interval: 1ms}\n", 15, "sample.interval", "want a duration from"},
		{"method invalid", strings.Replace(base, "    path: /light\n", "    path: /light\n    method: FETCH\n", 1), 9, "traffic[0].method", "want one of GET"},
		{"path not relative", strings.Replace(base, "path: /light", "path: http://example.com/light", 1), 8, "traffic[0].path", "starting with /"},
		{"reserved class name", strings.Replace(base, "name: heavy", "name: all", 1), 9, "traffic[1].name", "reserved"},
		{"duplicate key", strings.Replace(base, "name: t\n", "name: t\nname: u\n", 1), 2, "name", "given twice"},
		{"traffic not a list", strings.Replace(base, "traffic:\n  - name: light", "traffic: 5\nx:\n  - name: light", 1), 5, "traffic", "want a list"},
	}
	cmdCases := []struct {
		name, yaml string
		line       int
		path, msg  string
	}{
		{"undefined placeholder", "    argv: [/bin/srv, '--port={{port}}', '--w={{workers}}']\n", 1, "target.command.argv[2]", "undefined placeholder {{workers}}"},
		{"bad regex", "    argv: [/bin/srv]\n    events:\n      - pattern: 'pid (\\d+'\n        event: spawn\n", 3, "target.command.events[0].pattern", "bad regular expression"},
		{"bad named group", "    argv: [/bin/srv]\n    events:\n      - {pattern: 'pid (?P<worker>\\d+)', event: spawn}\n", 3, "target.command.events[0].pattern", `named group "worker"`},
		{"bad signal", "    argv: [/bin/srv]\n    stop: {signal: SIGFOO}\n", 2, "target.command.stop.signal", "unknown signal"},
		{"negative grace", "    argv: [/bin/srv]\n    stop: {grace: -1s}\n", 2, "target.command.stop.grace", "not negative"},
		{"empty argv", "    argv: []\n", 1, "target.command.argv", "empty"},
		{"set of an undefined var", "    argv: [/bin/srv, '{{w}}']\n    vars: {w: '2'}\nvariants:\n  - name: a\n    set: {workers: 4}\n", 5, "variants[0].set.workers", "not a variable"},
	}
	for _, c := range cmdCases {
		y := "name: c\ntraffic: [{name: a, weight: 1, path: /}]\nphases: [{duration: 1s, rate: 5}]\ntarget:\n  command:\n" + c.yaml
		cases = append(cases, struct {
			name, yaml string
			line       int
			path, msg  string
		}{c.name, y, c.line + 5, c.path, c.msg})
	}
	if len(cases) < 15 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml), "bad.yaml")
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			for _, fe := range ve.Errors {
				if fe.Path == c.path && fe.Line == c.line && strings.Contains(fe.Msg, c.msg) {
					if fe.File != "bad.yaml" || fe.Column == 0 {
						t.Errorf("error lacks file or column: %v", fe)
					}
					if !strings.HasPrefix(fe.Error(), "bad.yaml:") || !strings.Contains(fe.Error(), "field "+c.path+": ") {
						t.Errorf("formatted error %q", fe.Error())
					}
					return
				}
			}
			t.Errorf("want an error at line %d, field %s, containing %q; got:\n%v", c.line, c.path, c.msg, err)
		})
	}
}

// TestAllErrorsCollected checks that the loader reports every problem, not
// just the first, in file order.
func TestAllErrorsCollected(t *testing.T) {
	y := strings.Replace(base, "workers: 2", "workers: -1", 1)
	y = strings.Replace(y, "weight: 1", "weight: -1", 1)
	y += "repeat: many\n"
	_, err := Parse([]byte(y), "x.yaml")
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	var paths []string
	for _, fe := range ve.Errors {
		paths = append(paths, fe.Path)
	}
	want := []string{"target.builtin.workers", "traffic[1].weight", "repeat"}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Errorf("paths = %v, want %v\n%v", paths, want, err)
	}
	if n := strings.Count(err.Error(), "\n"); n != 2 {
		t.Errorf("Error() has %d newlines, want one line per error:\n%v", n, err)
	}
}

func TestSyntaxError(t *testing.T) {
	_, err := Parse([]byte("name: t\ntarget: [\n"), "s.yaml")
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Errors[0].Line == 0 || !strings.Contains(err.Error(), "invalid YAML") {
		t.Errorf("err = %v, want an invalid-YAML error with a line", err)
	}
	// Scanner and parser errors both name the 1-based line: a bad
	// indent under the list item on line 5, and a stray colon on line 3.
	for in, line := range map[string]int{
		"name: x\ntarget:\n  builtin: {}\ntraffic:\n  - name: a\n   weight: 1\n": 5,
		"name: x\nname: y\nfoo: : bar\n":                                         3,
	} {
		_, err := Parse([]byte(in), "s.yaml")
		if !errors.As(err, &ve) || ve.Errors[0].Line != line {
			t.Errorf("Parse(%q) = %v, want an error on line %d", in, err, line)
		}
	}
	for _, in := range []string{"", "# only a comment\n", "~\n"} {
		if _, err := Parse([]byte(in), "e.yaml"); err == nil || !strings.Contains(err.Error(), "empty scenario") {
			t.Errorf("Parse(%q) = %v, want empty scenario", in, err)
		}
	}
	if _, err := Parse([]byte(base+"---\nname: u\n"), "two.yaml"); err == nil || !strings.Contains(err.Error(), "second document") {
		t.Errorf("two documents: %v", err)
	}
}

func TestAliasBomb(t *testing.T) {
	// 400 aliases of a class whose headers have 400 entries: a small file
	// that expands to 160,000 values.
	var b strings.Builder
	b.WriteString("name: t\nh: &h {")
	for i := 0; i < 400; i++ {
		fmt.Fprintf(&b, "X-H%d: v, ", i)
	}
	b.WriteString("}\nc: &c {name: a, weight: 1, path: /, headers: *h}\ntraffic: [")
	for i := 0; i < 400; i++ {
		b.WriteString("*c, ")
	}
	b.WriteString("]\n")
	if b.Len() > 20000 {
		t.Fatalf("bomb is %d bytes, want a small file", b.Len())
	}
	_, err := Parse([]byte(b.String()), "bomb.yaml")
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("err = %v, want document too large", err)
	}
}

func TestManyErrorsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(base + "variants:\n")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "  - {name: v, set: {bogus%d: 1}}\n", i)
	}
	_, err := Parse([]byte(b.String()), "many.yaml")
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a *ValidationError", err)
	}
	if len(ve.Errors) != maxErrors+1 || !strings.Contains(err.Error(), "the rest are not shown") {
		t.Fatalf("got %d errors, want %d and a note", len(ve.Errors), maxErrors+1)
	}
}

func TestMetricsURL(t *testing.T) {
	for y, want := range map[string]string{
		"sample: {metrics: [{url: /metrics}]}\n":                       "want an http URL",
		"sample: {metrics: [{url: 'ftp://x/metrics'}]}\n":              "want a path starting with / or an http URL",
		"sample: {metrics: [{url: '{{nope}}/metrics'}]}\n":             "undefined placeholder {{nope}}",
		"sample: {metrics: [{url: '{{admin_url}}/m', names: [9x]}]}\n": "Prometheus metric name",
	} {
		_, err := Parse([]byte(base+y), "m.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", y, err, want)
		}
	}
	if _, err := Parse([]byte(base+"sample: {metrics: [{url: 'http://127.0.0.1:{{admin_port}}/metrics'}]}\n"), "m.yaml"); err != nil {
		t.Error(err)
	}
}
