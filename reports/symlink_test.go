package reports

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
)

// TestWriteFilesNoSymlinkFollow checks that symlinks planted in a run
// directory (one downloaded from elsewhere) at the report's file names and
// at their old fixed temporary names are replaced, not followed: the files
// they point at are left as they were.
func TestWriteFilesNoSymlinkFollow(t *testing.T) {
	cl := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	dir := filepath.Join(t.TempDir(), "run")
	vs := []fixture.Variant{{Name: "a", Repeats: 1, Duration: 4, Rate: 20, Classes: cl, Workers: 1, Seed: 1}}
	if err := fixture.Write(dir, fixture.Scenario("s", cl, nil), vs); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, PlotsDir), 0o755); err != nil {
		t.Fatal(err)
	}
	var planted []string
	for _, name := range []string{SummaryFile, MarkdownFile, HTMLFile, filepath.Join(PlotsDir, "latency.png"), filepath.Join("a", "1", SummaryFile)} {
		for _, p := range []string{name, name + ".tmp"} {
			p = filepath.Join(dir, p)
			if err := os.Symlink(victim, p); err != nil {
				t.Fatal(err)
			}
			planted = append(planted, p)
		}
	}
	rep, err := Build(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteFiles(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(victim); err != nil || string(b) != "precious" {
		t.Fatalf("the symlinks' target was overwritten: %q, %v", b, err)
	}
	for _, p := range planted {
		fi, err := os.Lstat(p)
		if filepath.Ext(p) == ".tmp" {
			continue // left alone; never written through
		}
		if err != nil || !fi.Mode().IsRegular() {
			t.Errorf("%s: %v, want a regular file in place of the symlink", p, err)
		}
	}
}
