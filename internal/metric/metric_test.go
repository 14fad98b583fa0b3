package metric

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	for name, want := range map[string]string{
		"light.p99":                     "CLASS.p99",
		"all.rps":                       "CLASS.rps",
		"errors.ratio":                  "errors.ratio",
		"errors.timeout":                "errors.KIND",
		"errors.http_502":               "errors.KIND",
		"restarts.reason.max_requests":  "restarts.reason.REASON",
		"memory.worker_rss.per_request": "memory.worker_rss.per_request",
	} {
		if d, ok := Lookup(name); !ok || d.Name != want {
			t.Errorf("Lookup(%q) = %q, %v, want %q", name, d.Name, ok, want)
		}
	}
	for _, name := range []string{"errors.p99", "lag.p50", "memory.pss", "light.p98", ".p99", "errors.bogus", "restarts.reason.", "light.p99.x"} {
		if d, ok := Lookup(name); ok {
			t.Errorf("Lookup(%q) = %q, want no metric", name, d.Name)
		}
	}
}

func TestCatalogueWellFormed(t *testing.T) {
	r := ReservedClassNames()
	if r[0] != AllClass || !slices.Contains(r, "memory") || !slices.Contains(r, "reuse_failures") || slices.Contains(r, PlaceholderClass) {
		t.Errorf("reserved class names %q", r)
	}
	for _, d := range Catalogue() {
		if d.Kind() == 0 {
			t.Errorf("%s: unit %q has no kind", d.Name, d.Unit)
		}
		if d.Better != "" && d.Better != Lower && d.Better != Higher {
			t.Errorf("%s: better %q", d.Name, d.Better)
		}
		if d.Gated && d.Better == "" {
			t.Errorf("%s is gated but has no better direction", d.Name)
		}
	}
}

// TestDocsThresholdTable: docs/scenarios.md's threshold table lists
// every metric of the catalogue, each with its kind, and nothing else.
func TestDocsThresholdTable(t *testing.T) {
	b, err := os.ReadFile("../../docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(b), "\n## thresholds\n")
	section, _, _ = strings.Cut(section, "\nUnits by kind")
	listed := map[string]bool{}
	name := regexp.MustCompile("`([a-zA-Z_0-9.]+)`")
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.Contains(cells[1], "`") {
			continue
		}
		kind := strings.TrimSpace(cells[2])
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			d, ok := Lookup(m[1])
			if !ok {
				t.Errorf("docs/scenarios.md lists %s, which is no metric", m[1])
				continue
			}
			listed[d.Name] = true
			if d.Kind().String() != kind {
				t.Errorf("docs/scenarios.md: %s is a %s, the catalogue says %s", m[1], kind, d.Kind())
			}
		}
	}
	for _, d := range Catalogue() {
		if !listed[d.Name] {
			t.Errorf("docs/scenarios.md's threshold table leaves out %s", d.Name)
		}
	}
}
