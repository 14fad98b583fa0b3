package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A malformed client block, variant client or class timeout fails
// validate and run with exit status 2, before anything runs.
func TestClientFieldsExit2(t *testing.T) {
	const scenario = `name: t
target:
  builtin: {}
traffic:
  - {name: light, weight: 1, path: /light}
phases:
  - {duration: 1s, rate: 10}
`
	for i, extra := range []string{
		"client: {retry: maybe}\n",
		"client: {keepalive: 2}\n",
		"client: {connections: 0}\n",
		"client: {timeout: fast}\n",
		"client: {max_body: lots}\n",
		"client: {http2: [x]}\n",
		"variants: [{name: a, client: {retry: 7}}]\n",
		"class timeout",
	} {
		path := filepath.Join(t.TempDir(), "bad.yaml")
		body := scenario + extra
		if extra == "class timeout" {
			body = strings.Replace(scenario, "path: /light}", "path: /light, timeout: never}", 1)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"validate", path}, {"run", "--out", t.TempDir(), path}} {
			got := exitCode(t, args...)
			if got != 2 {
				t.Errorf("case %d: sawtooth %s with %q: exit %d, want 2", i, args[0], extra, got)
			}
		}
	}
}
