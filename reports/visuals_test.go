package reports

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/analysis"
	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// TestWriteFiles: every chart of a matrix run is written as a non-empty,
// decodable PNG and a well-formed SVG; report.html embeds them and makes
// no network reference; summary.json is written at the top and per run.
func TestWriteFiles(t *testing.T) {
	cl := []fixture.Class{{Name: "light", Weight: 4, Latency: 0.002}, {Name: "heavy", Weight: 1, Latency: 0.05}}
	var vs []fixture.Variant
	for i, mr := range []int{0, 60, 120} {
		vs = append(vs, fixture.Variant{Name: "max_requests=" + itoa(mr) + ",workers=2",
			Params: map[string]string{"max_requests": itoa(mr), "workers": "2"}, Repeats: 1, Duration: 6, Rate: 30,
			Classes: cl, Workers: 2, MaxRequests: mr, LeakPerRequest: 50 << 10, ErrorsNearExit: 1, Lag: true, Seed: uint64(i + 1)})
	}
	dir := filepath.Join(t.TempDir(), "run")
	if err := fixture.Write(dir, fixture.Scenario("matrix", cl, []string{"all.p99 < 1s"}), vs); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteFiles(); err != nil {
		t.Fatal(err)
	}
	charts := []string{"latency", "throughput", "memory", "workers", "lag", "percentiles", "p99-memory", "tradeoff"}
	for _, name := range charts {
		pngPath := filepath.Join(dir, PlotsDir, name+".png")
		f, err := os.Open(pngPath)
		if err != nil {
			t.Errorf("chart %s: %v", name, err)
			continue
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: not a PNG: %v", pngPath, err)
		} else if w := img.Bounds().Dx(); w != 1200 {
			t.Errorf("%s is %d px wide, want 1200", pngPath, w)
		}
		svg, err := os.ReadFile(filepath.Join(dir, PlotsDir, name+".svg"))
		if err != nil || len(svg) == 0 {
			t.Errorf("chart %s: svg missing or empty: %v", name, err)
			continue
		}
		if err := wellFormed(svg); err != nil {
			t.Errorf("%s.svg is not well-formed XML: %v", name, err)
		}
		if !bytes.Contains(svg, []byte("<text")) {
			t.Errorf("%s.svg has no text: want a title, axis labels and a legend", name)
		}
	}

	page, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	network := regexp.MustCompile(`(?i)\b(src|href)\s*=\s*["']?\s*(https?:)?//`)
	if m := network.Find(page); m != nil {
		t.Errorf("report.html makes a network reference: %s", m)
	}
	for _, name := range charts {
		if !bytes.Contains(page, []byte(`id="plot-`+name+`"`)) {
			t.Errorf("report.html lacks the %s chart", name)
		}
	}
	if n := bytes.Count(page, []byte("<svg")); n < len(charts) {
		t.Errorf("report.html embeds %d SVGs, want ≥ %d", n, len(charts))
	}
	for _, want := range []string{"all.p99 &lt; 1s", "Cost of recycling", "Harness health", "max_requests=60,workers=2"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("report.html lacks %q", want)
		}
	}

	var top analysis.Summary
	if err := rundir.ReadJSON(filepath.Join(dir, SummaryFile), &top); err != nil || top.Version != analysis.SummaryVersion || len(top.Variants) != 3 {
		t.Errorf("summary.json: %v, version %d, %d variants", err, top.Version, len(top.Variants))
	}
	var one analysis.RunFileSummary
	if err := rundir.ReadJSON(filepath.Join(dir, rundir.RunPath(vs[1].Name, 1), SummaryFile), &one); err != nil || one.Variant != vs[1].Name || len(one.Metrics) == 0 {
		t.Errorf("per-run summary.json: %v, variant %q, %d metrics", err, one.Variant, len(one.Metrics))
	}
	md, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil || !strings.Contains(string(md), "## Thresholds: all 3 pass") {
		t.Errorf("report.md: %v\n%s", err, md)
	}
}

func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
