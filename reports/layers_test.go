package reports

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLayers: the reports' imports go one way, format → analysis →
// runread → rundir: the read layer imports neither the compute nor the
// format layer, and the compute layer not the format layer (reports,
// reports/plots).
func TestLayers(t *testing.T) {
	const mod = "github.com/sawtooth-dev/sawtooth/"
	forbidden := map[string][]string{
		"runread":  {"reports", "reports/analysis", "reports/plots"},
		"analysis": {"reports", "reports/plots"},
		"stats":    {"reports", "reports/analysis", "reports/plots", "reports/runread"},
		"plan":     {"reports", "reports/analysis", "reports/plots", "reports/runread"},
	}
	for dir, bad := range forbidden {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, b := range bad {
					if path == mod+b {
						t.Errorf("%s imports %s: the layers go format → analysis → runread → rundir", f, path)
					}
				}
			}
		}
	}
}
