package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// parseStartAt takes RFC 3339 times and +DURATION from now, and says
// what it wants otherwise.
func TestParseStartAt(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"+30s":                        now.Add(30 * time.Second),
		"+0s":                         now,
		"2026-12-01T10:05:00Z":        now.Add(5 * time.Minute),
		"2026-12-01T11:05:00.5+01:00": now.Add(5*time.Minute + 500*time.Millisecond),
	} {
		got, err := parseStartAt(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseStartAt(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"30s", "+-3s", "+x", "tomorrow", "2026-12-01 10:00"} {
		if _, err := parseStartAt(bad, now); err == nil || !strings.Contains(err.Error(), "want") {
			t.Errorf("parseStartAt(%q) = %v, want an error saying what it wants", bad, err)
		}
	}
}

// A bad --shard, --shard without --start-at, and a shard of a scenario
// whose target sawtooth would start (builtin, command) exit 2 before
// anything starts.
func TestShardUsage(t *testing.T) {
	out := t.TempDir()
	for _, args := range [][]string{
		{"run", "quickstart", "--shard", "4/4", "--start-at", "+1s"},
		{"run", "quickstart", "--shard", "x", "--start-at", "+1s"},
		{"run", "quickstart", "--shard", "0/2"},
		{"run", "quickstart", "--shard", "0/2", "--start-at", "soon"},
		{"run", "quickstart", "--shard", "0/2", "--start-at", "+1s", "--out", out},
	} {
		got := exitCode(t, args...)
		if got != 2 {
			t.Errorf("sawtooth %q: exit %d, want 2", args, got)
		}
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("a refused shard left %d entries in --out", len(ents))
	}
}
