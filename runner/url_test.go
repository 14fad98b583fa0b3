package runner

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

// A url target is driven without being started: its before hook runs once
// per variant with the variant's vars, traffic paths and headers take the
// variant's values, and a failing hook fails the run before any request.
func TestURLTargetVariantsAndBefore(t *testing.T) {
	var hits atomic.Int64
	paths := map[string]*atomic.Int64{"/t/a": {}, "/t/b": {}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		hits.Add(1)
		if c := paths[r.URL.Path]; c != nil && r.Header.Get("X-Tenant") == strings.TrimPrefix(r.URL.Path, "/t/") {
			c.Add(1)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	yml := fmt.Sprintf(`name: url-variants
target:
  url:
    base_url: %s
    ready: {url: /healthz, timeout: 5s}
    vars: {tenant: a, code: "0"}
    before: {argv: [/bin/sh, -c, 'echo configuring {{tenant}}; touch %s/{{tenant}}; exit {{code}}', hook], timeout: 10s}
traffic: [{name: light, weight: 1, path: "/t/{{tenant}}", headers: {X-Tenant: "{{tenant}}"}}]
phases: [{duration: 1s, rate: 20}]
variants:
  - {name: a}
  - {name: b, set: {tenant: b}}
  - {name: broken, set: {tenant: c, code: "3"}}
`, srv.URL, dir)
	s := parseScenario(t, "v.yaml", yml)
	res, err := Run(context.Background(), s, testOptions(t))
	if err == nil || !strings.Contains(err.Error(), "variant broken") || !strings.Contains(err.Error(), "target.url.before") ||
		!strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "configuring c") {
		t.Fatalf("err = %v, want variant broken to fail in target.url.before with exit status 3 and its output", err)
	}
	for _, tenant := range []string{"a", "b", "c"} {
		if _, err := os.Stat(filepath.Join(dir, tenant)); err != nil {
			t.Errorf("the before hook did not run for tenant %s: %v", tenant, err)
		}
	}
	if a, b := paths["/t/a"].Load(), paths["/t/b"].Load(); a == 0 || b == 0 || a+b != hits.Load() {
		t.Errorf("requests: %d to /t/a, %d to /t/b with the right X-Tenant, %d in all; want each variant's own", a, b, hits.Load())
	}
	d := openDir(t, res.Dir)
	for _, ref := range d.Meta.Runs {
		b, err := os.ReadFile(d.File(ref, rundir.TargetLog))
		if err != nil || !strings.Contains(string(b), "configuring") {
			t.Errorf("%s: target.log %q, %v; want the hook's output", ref.Dir, b, err)
		}
		if ref.Variant == "broken" {
			if _, err := os.Stat(d.File(ref, rundir.ResultsFile)); err == nil {
				t.Errorf("variant broken sent requests after its hook failed")
			}
		}
	}
}
