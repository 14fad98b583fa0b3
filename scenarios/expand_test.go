package scenarios

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustParse(t *testing.T, y string) *Scenario {
	t.Helper()
	s, err := Parse([]byte(y), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestExpandDefault(t *testing.T) {
	s := mustParse(t, base)
	vs := s.Expand()
	if len(vs) != 1 || vs[0].Name != "default" || !maps.Equal(vs[0].Set, map[string]string{"workers": "2"}) {
		t.Errorf("Expand() = %+v", vs)
	}
}

func TestExpandVariants(t *testing.T) {
	s := mustParse(t, base+`variants:
  - name: a
  - name: b
    set: {workers: 4, max_requests: 100}
`)
	vs := s.Expand()
	want := []Variant{
		{Name: "a", Set: map[string]string{"workers": "2"}},
		{Name: "b", Set: map[string]string{"workers": "4", "max_requests": "100"}},
	}
	if !reflect.DeepEqual(vs, want) {
		t.Errorf("Expand() = %+v, want %+v", vs, want)
	}
	// Expand must not alias the scenario's maps.
	vs[0].Set["workers"] = "9"
	if s.Target.Builtin["workers"] != "2" {
		t.Error("Expand returned the base map itself")
	}
}

func TestExpandMatrix(t *testing.T) {
	s := mustParse(t, base+`matrix:
  max_requests: [0, 100, 500]
  workers: [2, 4]
`)
	vs := s.Expand()
	var names []string
	for _, v := range vs {
		names = append(names, v.Name)
	}
	want := []string{
		"max_requests=0,workers=2", "max_requests=0,workers=4",
		"max_requests=100,workers=2", "max_requests=100,workers=4",
		"max_requests=500,workers=2", "max_requests=500,workers=4",
	}
	if !slices.Equal(names, want) {
		t.Fatalf("names = %v, want %v", names, want)
	}
	if v := vs[3]; !maps.Equal(v.Params, map[string]string{"max_requests": "100", "workers": "4"}) ||
		!maps.Equal(v.Set, map[string]string{"max_requests": "100", "workers": "4"}) {
		t.Errorf("variant 3 = %+v", v)
	}
}

func TestExpandCommandVars(t *testing.T) {
	s := mustParse(t, `name: c
target:
  command:
    argv: [/bin/srv, "--workers={{w}}", "--max={{max}}"]
    vars: {w: 2, max: 0}
traffic: [{name: a, weight: 1, path: /}]
phases: [{duration: 1s, rate: 5}]
variants:
  - {name: plain}
  - {name: recycle, set: {max: 100}}
`)
	vs := s.Expand()
	if len(vs) != 2 || !maps.Equal(vs[1].Set, map[string]string{"w": "2", "max": "100"}) || !maps.Equal(vs[0].Set, map[string]string{"w": "2", "max": "0"}) {
		t.Errorf("Expand() = %+v", vs)
	}
	argv1, err := Substitute(s.Target.Command.Argv[2], vs[1].Set)
	if err != nil || argv1 != "--max=100" {
		t.Errorf("Substitute = %q, %v", argv1, err)
	}
	if _, err := Substitute("{{nope}}", vs[1].Set); err == nil {
		t.Error("Substitute of an undefined placeholder gave no error")
	}
	if err := s.ApplySet([]string{"w=8"}); err != nil {
		t.Fatal(err)
	}
	if got := s.Expand()[1].Set["w"]; got != "8" {
		t.Errorf("after --set w=8, w = %q", got)
	}
	err = s.ApplySet([]string{"workers=8"})
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Errors[0].File != "--set workers=8" || !strings.Contains(err.Error(), "not a variable of the command, want one of max, w") {
		t.Errorf("ApplySet(workers=8) on a command = %v", err)
	}
}

func TestApplySet(t *testing.T) {
	s := mustParse(t, base+`variants:
  - name: a
  - name: b
    set: {max_requests: 100, overlap: true}
`)
	if err := s.ApplySet([]string{"max_requests=500", "repeat=3", " workers = 4 "}); err != nil {
		t.Fatal(err)
	}
	vs := s.Expand()
	for _, v := range vs {
		if v.Set["max_requests"] != "500" || v.Set["workers"] != "4" {
			t.Errorf("variant %s: Set = %v, want --set to win", v.Name, v.Set)
		}
	}
	if vs[1].Set["overlap"] != "true" || s.Repeat != 3 {
		t.Errorf("b's own set lost or repeat not set: %+v, repeat %d", vs[1], s.Repeat)
	}

	err := s.ApplySet([]string{"max_requests=-1", "bogus=1", "repeat=0", "noequals", "worker_model=async", "offload_workers=257", "lag_threshold=0"})
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != 7 {
		t.Fatalf("err = %v, want 7 errors", err)
	}
	for i, want := range []string{
		"--set max_requests=-1: field max_requests: got \"-1\", want an integer ≥ 0",
		"--set bogus=1: field bogus: unknown flag",
		"--set repeat=0: field repeat: got \"0\", want an integer from 1",
		"--set noequals: want key=value",
		"--set worker_model=async: field worker_model: got \"async\", want one of sync, threads, loop",
		"--set offload_workers=257: field offload_workers: got \"257\", want an integer in [1, 256]",
		"--set lag_threshold=0: field lag_threshold: got \"0\", want a duration > 0",
	} {
		if !strings.HasPrefix(ve.Errors[i].Error(), want) {
			t.Errorf("error %d = %q, want prefix %q", i, ve.Errors[i], want)
		}
	}
	if s.Target.Builtin["max_requests"] != "500" {
		t.Error("a rejected --set changed the scenario")
	}
}

func TestApplySetMatrix(t *testing.T) {
	s := mustParse(t, base+"matrix:\n  max_requests: [0, 100]\n  workers: [2, 4]\n")
	if err := s.ApplySet([]string{"workers=3"}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range s.Expand() {
		names = append(names, v.Name)
	}
	if want := []string{"max_requests=0,workers=3", "max_requests=100,workers=3"}; !slices.Equal(names, want) {
		t.Errorf("names = %v, want %v", names, want)
	}
}

func TestScale(t *testing.T) {
	s := mustParse(t, base+"  - {duration: 2m, rate: 10}\n  - {duration: 500ms, rate: 10}\n  - {duration: 4s, rate: 10}\n")
	s.Scale(0.1)
	var got []time.Duration
	for _, p := range s.Phases {
		got = append(got, p.Duration.D())
	}
	want := []time.Duration{time.Second, 12 * time.Second, 500 * time.Millisecond, time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("scaled durations = %v, want %v", got, want)
	}
	if s.TotalDuration() != 14500*time.Millisecond {
		t.Errorf("TotalDuration = %v", s.TotalDuration())
	}
}

// roundTrip checks Parse(Marshal(s)) == s.
func roundTrip(t *testing.T, s *Scenario) {
	t.Helper()
	out, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out, s.File)
	if err != nil {
		t.Fatalf("Parse(Marshal()): %v\n%s", err, out)
	}
	a, b := *s, *back
	a.Thresholds, b.Thresholds = clearPos(a.Thresholds), clearPos(b.Thresholds)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("round trip differs:\nbefore %+v\nafter  %+v\n%s", a, b, out)
	}
	again, err := back.Marshal()
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("Marshal is not stable:\n%s\n---\n%s", out, again)
	}
}

func clearPos(ts []Threshold) []Threshold {
	out := slices.Clone(ts)
	for i := range out {
		out[i].Line, out[i].Column = 0, 0
	}
	return out
}

func TestMarshalRoundTrip(t *testing.T) {
	s := mustParse(t, `name: full
description: every field
target:
  command:
    argv: [/usr/bin/gunicorn, "-b", "127.0.0.1:{{port}}", "--max-requests={{max}}", app:app]
    env: {A: "1", B: "{{max}}"}
    dir: testdata
    vars: {max: "0", flag: "true", ratio: "1.50"}
    base_url: "http://127.0.0.1:{{port}}/api"
    ready: {url: /healthz, timeout: 5s}
    stop: {signal: INT, grace: 1500ms}
    events:
      - {pattern: 'Booting worker with pid: (?P<pid>\d+)', event: spawn}
      - {pattern: 'Autorestarting worker', event: exit, reason: max_requests}
traffic:
  - {name: light, weight: 0.5, path: "/light?x=1", headers: {X-Request-Id: abc}}
  - {name: post, weight: 2, method: POST, path: /p, body: '{"a": 1}'}
phases:
  - {name: ramp, duration: 90s, rate: {from: 0, to: 400}}
  - {duration: 1h, concurrency: 100}
sample:
  interval: 100ms
  metrics: [{url: "{{base_url}}/metrics"}]
variants:
  - {name: a}
  - {name: b, set: {max: "100"}}
repeat: 3
thresholds:
  - light.p99 < 50ms
  - memory.pss.slope < 1MiB/min
  - lag.p99 < 100ms
`)
	roundTrip(t, s)
	if err := s.ApplySet([]string{"max=7", "repeat=2"}); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, s)

	m := mustParse(t, base+"matrix:\n  max_rss: [64MiB, 128MiB]\n  overlap: [true, false]\n")
	roundTrip(t, m)
	e := mustParse(t, strings.Replace(base, "  builtin:\n    workers: 2\n", "  builtin: {}\n", 1))
	roundTrip(t, e)
}

func TestShipped(t *testing.T) {
	infos := Shipped()
	names := map[string]bool{}
	for _, i := range infos {
		names[i.Name] = true
		if i.Err != nil {
			t.Errorf("shipped %s: %v", i.Name, i.Err)
			continue
		}
		if i.Description == "" || i.Path != "embedded:"+i.Name+".yaml" {
			t.Errorf("shipped %s: info %+v", i.Name, i)
		}
		s, err := Load(i.Name)
		if err != nil {
			t.Errorf("Load(%q): %v", i.Name, err)
			continue
		}
		if s.File != "" || s.Name != i.Name {
			t.Errorf("Load(%q): File %q, Name %q; want File \"\" and the file's name", i.Name, s.File, s.Name)
		}
		roundTrip(t, s)
		// Traffic to loopback only: every built-in or command target here
		// is started on 127.0.0.1 by the runner; paths are relative.
		for _, c := range s.Traffic {
			if !strings.HasPrefix(c.Path, "/") {
				t.Errorf("%s: class %s path %q is not relative", i.Name, c.Name, c.Path)
			}
		}
		if cmd := s.Target.Command; cmd != nil && !strings.Contains(cmd.BaseURL, "127.0.0.1") {
			t.Errorf("%s: base_url %q is not loopback", i.Name, cmd.BaseURL)
		}
	}
	for _, n := range []string{"quickstart", "recycling", "offload", "seed-table"} {
		if !names[n] {
			t.Errorf("shipped scenario %s missing", n)
		}
	}
	q, _ := Load("quickstart")
	var vn []string
	for _, v := range q.Expand() {
		vn = append(vn, v.Name)
	}
	if !slices.Equal(vn, []string{"no-recycling", "max-requests"}) || q.TotalDuration() > 30*time.Second {
		t.Errorf("quickstart: variants %v, %v per variant", vn, q.TotalDuration())
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/mine.yaml"
	if err := writeFile(p, base); err != nil {
		t.Fatal(err)
	}
	s, err := Load(p)
	if err != nil || s.File != p {
		t.Fatalf("Load(%q) = %+v, %v", p, s, err)
	}
	if _, err := Load("no-such-scenario"); err == nil || !strings.Contains(err.Error(), "quickstart") {
		t.Errorf("Load of an unknown name = %v, want the shipped names listed", err)
	}
	if _, err := Load(dir + "/missing.yaml"); err == nil {
		t.Error("Load of a missing path gave no error")
	}
	if err := writeFile(p, base+"bogus: 1\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.HasPrefix(err.Error(), p+":15:1: field bogus:") {
		t.Errorf("Load of a bad file = %v", err)
	}
	data, err := ShippedFile("quickstart.yaml")
	if err != nil || !bytes.Contains(data, []byte("name: quickstart")) {
		t.Errorf("ShippedFile = %v", err)
	}
}

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o644) }
