package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A malformed stream or probe makes validate and run exit 2 (the message,
// FILE:LINE:COL: field: what was expected, is checked in package
// scenarios); the shipped seed-table with its probe validates.
func TestMalformedStreamOrProbeExit2(t *testing.T) {
	data, err := os.ReadFile("../../scenarios/shipped/seed-table.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, old, new string) string {
		p := filepath.Join(dir, name)
		if !strings.Contains(string(data), old) {
			t.Fatalf("seed-table.yaml lacks %q", old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badProbe := write("probe.yaml", "kind: liveness", "kind: alive")
	badStream := write("stream.yaml", "traffic:\n  - name: light", "streams:\n  - name: x\n    arrival: bursty\n    traffic: []\n    phases: []\ntraffic:\n  - name: light")
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"validate", "seed-table"}, 0},
		{[]string{"validate", "seed-table-uvicorn"}, 0},
		{[]string{"validate", badProbe}, 2},
		{[]string{"run", badProbe}, 2},
		{[]string{"validate", badStream}, 2},
		{[]string{"run", badStream}, 2},
	} {
		got := exitCode(t, tc.args...)
		if got != tc.want {
			t.Errorf("sawtooth %q: exit %d, want %d", tc.args, got, tc.want)
		}
	}
}
