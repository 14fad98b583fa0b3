package plots

import (
	"fmt"
	"image/color"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLagChartWithoutLag: a target whose loop-lag series holds only
// zeros (sync workers) gets no lag chart, not an empty one.
func TestLagChartWithoutLag(t *testing.T) {
	vs := []Variant{{Name: "sync", LagT: []float64{1, 2, 3}, LagP99: []float64{0, 0, 0}, LagMean: []float64{0, 0, 0}}}
	if fig, err := lagChart(vs); err != nil || fig != nil {
		t.Errorf("lagChart of zeros = %v, %v; want no chart", fig, err)
	}
	vs = append(vs, Variant{Name: "loop", LagT: []float64{1, 2}, LagP99: []float64{0.01, 0.02}, LagMean: []float64{0.001, 0.002}})
	if fig, err := lagChart(vs); err != nil || fig == nil {
		t.Errorf("lagChart with one variant's lag = %v, %v; want a chart", fig, err)
	}
}

// TestWorkerColours: the workers of one panel never share a colour,
// however many restarts there were: each worker's line is drawn in a
// stroke colour of its own.
func TestWorkerColours(t *testing.T) {
	for _, n := range []int{2, 7, 8, 20, 60} {
		seen := map[color.NRGBA]int{}
		for i := range n {
			c := color.NRGBAModel.Convert(distinctColor(i, n)).(color.NRGBA)
			if j, dup := seen[c]; dup {
				t.Errorf("%d workers: %d and %d share colour %v", n, j, i, c)
			}
			seen[c] = i
		}
		v := Variant{Name: "v"}
		for i := range n {
			v.Workers = append(v.Workers, WorkerSeries{PID: 100 + i, T: []float64{float64(i), float64(i) + 1}, RSS: []float64{1 << 20, 2 << 20}})
		}
		fig, err := workersChart([]Variant{v})
		if err != nil || fig == nil {
			t.Fatalf("%d workers: chart %v, %v", n, fig, err)
		}
		svg, err := fig.save(filepath.Join(t.TempDir(), "workers"))
		if err != nil {
			t.Fatal(err)
		}
		strokes := map[string]bool{}
		for _, m := range regexp.MustCompile(`stroke:(#[0-9A-Fa-f]{6})`).FindAllStringSubmatch(string(svg), -1) {
			strokes[strings.ToUpper(m[1])] = true
		}
		for i := range n {
			c := color.NRGBAModel.Convert(distinctColor(i, n)).(color.NRGBA)
			if hex := fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B); !strokes[hex] {
				t.Errorf("%d workers: worker %d's colour %s not drawn", n, i, hex)
			}
		}
	}
}
