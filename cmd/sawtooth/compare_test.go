package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyRun copies the reports package's fixture run directory to a
// temporary one, with edit applied to its meta.json text.
func copyRun(t *testing.T, edit func(string) string) string {
	t.Helper()
	src := "../../reports/testdata/run"
	dst := filepath.Join(t.TempDir(), "run")
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rel == "meta.json" {
			b = []byte(edit(string(b)))
		}
		return os.WriteFile(to, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestCompareRefuses: compare exits 2 for runs of different scenarios
// and for a --quick run against a full one, unless --force; the same run
// twice passes the gate.
func TestCompareRefuses(t *testing.T) {

	base := copyRun(t, func(s string) string { return s })
	other := copyRun(t, func(s string) string {
		return strings.Replace(s, `"scenario": "fixture"`, `"scenario": "other"`, 1)
	})
	quick := copyRun(t, func(s string) string {
		return strings.Replace(s, `"seed": 1,`, `"seed": 1, "quick": true,`, 1)
	})
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"compare", base, base}, 0},
		{[]string{"compare", base, other}, 2},
		{[]string{"compare", base, quick}, 2},
		{[]string{"compare", "--force", base, other}, 0},
		{[]string{"compare", base, quick, "--force"}, 0},
		{[]string{"compare", "--alpha", "1.5", base, base}, 2},
	} {
		got := exitCode(t, tc.args...)
		if got != tc.want {
			t.Errorf("sawtooth %q: exit %d, want %d", tc.args, got, tc.want)
		}
	}
}
