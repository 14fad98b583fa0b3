package serveflags

import (
	"os"
	"strings"
	"testing"
)

// TestDocTable: docs/server.md's flag table is DocTable, row for row.
func TestDocTable(t *testing.T) {
	b, err := os.ReadFile("../../docs/server.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "| flag | default | meaning |\n")
	if start < 0 {
		t.Fatal("docs/server.md has no flag table")
	}
	end := strings.Index(doc[start:], "\n\n")
	if end < 0 {
		end = len(doc) - start
	}
	if got, want := doc[start:start+end+1], DocTable(); got != want {
		t.Errorf("docs/server.md's flag table is not serveflags.DocTable(); want:\n%s", want)
	}
}

func TestCheck(t *testing.T) {
	for _, c := range []struct{ name, value, want string }{
		{"workers", "2", ""}, {"workers", "0", "an integer ≥ 1"},
		{"offload_workers", "256", ""}, {"offload-workers", "257", "an integer in [1, 256]"},
		{"seed", "-1", "an integer ≥ 0"}, {"keepalive", "0", "a duration > 0 such as 5ms"},
		{"max-lifetime", "0", ""}, {"max-lifetime", "-1s", "a duration such as 500ms, 30s or 10m (0 disables)"},
		{"worker-model", "loop", ""}, {"worker-model", "async", "one of sync, threads, loop"},
	} {
		f, ok := Lookup(c.name)
		if !ok {
			t.Fatalf("no flag %s", c.name)
		}
		if got := f.Check(c.value); got != c.want {
			t.Errorf("%s=%s: %q, want %q", c.name, c.value, got, c.want)
		}
	}
	for _, f := range List() {
		if msg := f.Check(f.Default); msg != "" && f.Type != String {
			t.Errorf("--%s's default %q does not check: %s", f.Name, f.Default, msg)
		}
		if f.Usage == "" || f.Doc == "" || f.DocDefault == "" {
			t.Errorf("--%s is undocumented", f.Name)
		}
	}
}
