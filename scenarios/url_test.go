package scenarios

import (
	"errors"
	"strings"
	"testing"
)

const urlBase = `name: u
target:
  url:
    base_url: http://127.0.0.1:8000/
    vars: {tenant: a}
traffic:
  - name: light
    weight: 1
    path: /t/{{tenant}}/light
    headers: {X-Tenant: "{{tenant}}"}
phases:
  - duration: 5s
    rate: 10
sample:
  prometheus:
    url: http://127.0.0.1:9090
    memory: sawtooth_worker_rss_bytes
variants:
  - name: b
    set: {tenant: b}
`

func TestParseURLTarget(t *testing.T) {
	s, err := Parse([]byte(urlBase), "u.yaml")
	if err != nil {
		t.Fatal(err)
	}
	u := s.Target.URL
	if u == nil || u.BaseURL != "http://127.0.0.1:8000" || u.Ready.URL != "/" || u.Ready.Timeout != DefaultReadyTimeout {
		t.Fatalf("url target defaults: %+v", u)
	}
	if p := s.Sample.Prometheus; p == nil || p.Worker != "pid" || p.Restarts != "" {
		t.Errorf("prometheus defaults: %+v", p)
	}
	if len(s.Sample.Metrics) != 0 {
		t.Errorf("a url target got the built-in server's metrics source: %+v", s.Sample.Metrics)
	}
	if vs := s.Expand(); len(vs) != 1 || vs[0].Set["tenant"] != "b" {
		t.Errorf("variants = %+v", vs)
	}
	// Marshal and parse again: the same scenario.
	y, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Parse(y, "again.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	if s2.Target.URL.BaseURL != u.BaseURL || s2.Sample.Prometheus.Memory != "sawtooth_worker_rss_bytes" {
		t.Errorf("round trip: %+v %+v", s2.Target.URL, s2.Sample.Prometheus)
	}
}

// TestURLTargetMalformed checks each broken url target or Prometheus
// source is rejected at its FILE:LINE:COL with its field named.
func TestURLTargetMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		line, col      int
		path, want     string
	}{
		{"base_url not http", "base_url: http://127.0.0.1:8000/", "base_url: ftp://x", 4, 15, "target.url.base_url", "want an http URL"},
		{"base_url placeholder", "base_url: http://127.0.0.1:8000/", "base_url: 'http://127.0.0.1:{{port}}'", 4, 15, "target.url.base_url", "no placeholders"},
		{"base_url missing", "    base_url: http://127.0.0.1:8000/\n", "", 4, 5, "target.url.base_url", "missing"},
		{"unknown field", "    vars: {tenant: a}\n", "    vars: {tenant: a}\n    argv: [x]\n", 6, 5, "target.url.argv", "unknown field"},
		{"undefined placeholder", "path: /t/{{tenant}}/light", "path: /t/{{tenat}}/light", 9, 11, "traffic[0].path", "undefined placeholder {{tenat}}"},
		{"set unknown var", "set: {tenant: b}", "set: {workers: 4}", 20, 20, "variants[0].set.workers", "not a variable of the url target"},
		{"with builtin", "target:\n", "target:\n  builtin: {workers: 2}\n", 3, 3, "target", "both builtin and url given"},
		{"before empty", "    vars: {tenant: a}\n", "    vars: {tenant: a}\n    before: {argv: []}\n", 6, 20, "target.url.before.argv", "want the program"},
		{"before placeholder", "    vars: {tenant: a}\n", "    vars: {tenant: a}\n    before: {argv: [/usr/bin/kubectl, '{{replicas}}']}\n", 6, 39, "target.url.before.argv[1]", "undefined placeholder {{replicas}}"},
		{"prometheus url", "url: http://127.0.0.1:9090", "url: 127.0.0.1:9090", 16, 10, "sample.prometheus.url", "want the Prometheus server's http URL"},
		{"memory missing", "    memory: sawtooth_worker_rss_bytes\n", "", 16, 5, "sample.prometheus.memory", "missing"},
		{"memory empty", "memory: sawtooth_worker_rss_bytes", "memory: '  '", 17, 13, "sample.prometheus.memory", "want a PromQL query"},
		{"worker label", "memory: sawtooth_worker_rss_bytes", "memory: x\n    worker: pod-name", 18, 13, "sample.prometheus.worker", "want a label name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(urlBase, tc.from) {
				t.Fatalf("base has no %q", tc.from)
			}
			y := strings.Replace(urlBase, tc.from, tc.to, 1)
			_, err := Parse([]byte(y), "u.yaml")
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a ValidationError\n%s", err, y)
			}
			for _, fe := range ve.Errors {
				if fe.Path == tc.path && strings.Contains(fe.Msg, tc.want) {
					if fe.File != "u.yaml" || fe.Line != tc.line || fe.Column != tc.col {
						t.Errorf("%s at %s:%d:%d, want u.yaml:%d:%d", fe.Path, fe.File, fe.Line, fe.Column, tc.line, tc.col)
					}
					return
				}
			}
			t.Errorf("no error at %s saying %q in:\n%v", tc.path, tc.want, err)
		})
	}
}
