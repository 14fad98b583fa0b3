// Package loopcalib calibrates the built-in loop worker model against real
// uvicorn: it runs the shipped scenarios offload (sawtooth's own loop
// worker) and uvicorn-offload (FastAPI on /usr/bin/uvicorn) with the same
// traffic, phases and pool size, and compares them variant by variant
// (offload none, threads, processes, and threads with work that releases
// the GIL) on the light requests' p99 latency and the loop-lag heartbeat's
// p99. Both the integration test and bench/loop
// use it, so they measure the same thing.
package loopcalib

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sawtooth-dev/sawtooth/reports"
	"github.com/sawtooth-dev/sawtooth/runner"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// The shipped scenarios compared, and their variants in the order the
// model must rank them (worst light p99 first).
const (
	ModelScenario = "offload"
	RealScenario  = "uvicorn-offload"
)

// Variants are the offload variants of both scenarios, worst first.
var Variants = []string{"offload=none", "offload=threads", "offload=processes"}

// Released is the row of the threads variant run with work that releases
// the GIL (--set gil=false on both sides: the built-in worker's --gil=false,
// the app's /cpu hashing with the GIL released, NumPy-style). Run returns
// it after Variants' rows; it is not part of their ordering.
const Released = "offload=threads, gil=false"

// A pass is one run of a scenario: the --set values it adds, the variants
// it runs (all when nil) and the row each of them fills.
type pass struct {
	name     string // the run directory's infix
	set      []string
	variants []string
	rows     []string
}

// passes are the runs each repeat makes of each side: the scenario's
// variants as shipped, then its threads variant with gil=false.
var passes = []pass{
	{name: "", rows: Variants},
	{name: "-gil-false", set: []string{"gil=false"}, variants: []string{"offload=threads"}, rows: []string{Released}},
}

// Options configure a calibration run.
type Options struct {
	// Apps is the testdata/apps folder (the FastAPI app).
	Apps string
	// Dir is where the run directories are created, one per scenario, pass
	// and repeat (offload-1, offload-gil-false-1, uvicorn-offload-1, ...).
	Dir string
	// Binary is the sawtooth executable for the built-in target.
	Binary string
	// Repeat is the repeats of every variant (default 1), the two sides
	// taking turns.
	Repeat int
	// Phases, when set, replace both scenarios' phases (the same for both).
	Phases []scenarios.Phase
	// Progress receives the runner's progress lines (none when nil).
	Progress io.Writer
}

// Figures are one side's numbers for one variant, one entry per repeat, in
// seconds.
type Figures struct {
	LightP99 []float64
	LagP99   []float64
}

// Row is one variant of both sides.
type Row struct {
	Variant     string
	Model, Real Figures
}

// Run runs the model's scenario and the real one in turn, one repeat of
// each at a time (model, real, model, real, ...), so that a change in the
// machine's load during the calibration falls on both sides alike, and
// returns a row per variant in Variants' order, then Released's.
func Run(ctx context.Context, opt Options) ([]Row, error) {
	if opt.Repeat == 0 {
		opt.Repeat = 1
	}
	var rows []Row
	index := map[string]int{}
	for _, p := range passes {
		for _, name := range p.rows {
			index[name] = len(rows)
			rows = append(rows, Row{Variant: name})
		}
	}
	for r := range opt.Repeat {
		for _, side := range []struct {
			name string
			get  func(*Row) *Figures
		}{
			{ModelScenario, func(r *Row) *Figures { return &r.Model }},
			{RealScenario, func(r *Row) *Figures { return &r.Real }},
		} {
			for _, p := range passes {
				rep, err := runScenario(ctx, side.name, p, r, opt)
				if err != nil {
					return nil, err
				}
				variants := p.variants
				if variants == nil {
					variants = p.rows
				}
				for j, v := range variants {
					f, err := figures(rep, v)
					if err != nil {
						return nil, fmt.Errorf("%s%s, repeat %d: %w", side.name, p.name, r+1, err)
					}
					got := side.get(&rows[index[p.rows[j]]])
					got.LightP99 = append(got.LightP99, f.LightP99...)
					got.LagP99 = append(got.LagP99, f.LagP99...)
				}
			}
		}
	}
	return rows, nil
}

// runScenario runs pass p of the shipped scenario name once, in its own run
// directory for repeat r, and builds its report.
func runScenario(ctx context.Context, name string, p pass, r int, opt Options) (*reports.Report, error) {
	s, err := scenarios.Load(name)
	if err != nil {
		return nil, fmt.Errorf("load shipped scenario %s: %w", name, err)
	}
	sets := append([]string{"repeat=1"}, p.set...)
	if name == RealScenario {
		sets = append(sets, "apps="+opt.Apps)
	}
	if err := s.ApplySet(sets); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", name, err)
	}
	if opt.Phases != nil {
		s.Phases = opt.Phases
	}
	res, err := runner.Run(ctx, s, runner.Options{
		Dir:      filepath.Join(opt.Dir, fmt.Sprintf("%s%s-%d", name, p.name, r+1)),
		Variants: p.variants,
		Seed:     1,
		Binary:   opt.Binary,
		Timeout:  20 * time.Second,
		Progress: opt.Progress,
		CI:       true,
	})
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", name, err)
	}
	rep, err := reports.Build(res.Dir, reports.Options{})
	if err != nil {
		return nil, fmt.Errorf("report of %s: %w", name, err)
	}
	return rep, nil
}

// figures picks a variant's per-repeat light p99 and lag p99 out of rep.
func figures(rep *reports.Report, variant string) (Figures, error) {
	var f Figures
	for _, v := range rep.Summary.Variants {
		if v.Name != variant {
			continue
		}
		for _, r := range v.Runs {
			light := -1.0
			for _, c := range r.Classes {
				if c.Class == "light" && c.OK > 0 {
					light = c.Latency.P99
				}
			}
			if light < 0 {
				return f, fmt.Errorf("%s repeat %d: no successful light requests", variant, r.Repeat)
			}
			if r.Lag == nil || r.Lag.Count == 0 {
				return f, fmt.Errorf("%s repeat %d: no loop-lag observations", variant, r.Repeat)
			}
			f.LightP99 = append(f.LightP99, light)
			f.LagP99 = append(f.LagP99, r.Lag.P99)
		}
		if len(f.LightP99) == 0 {
			return f, fmt.Errorf("%s: no runs", variant)
		}
		return f, nil
	}
	return f, fmt.Errorf("no variant %s", variant)
}

// Append adds the repeats of more, a later Run's rows, to those of rows,
// variant by variant, and returns rows.
func Append(rows, more []Row) []Row {
	for i := range rows {
		for _, m := range more {
			if m.Variant != rows[i].Variant {
				continue
			}
			rows[i].Model.LightP99 = append(rows[i].Model.LightP99, m.Model.LightP99...)
			rows[i].Model.LagP99 = append(rows[i].Model.LagP99, m.Model.LagP99...)
			rows[i].Real.LightP99 = append(rows[i].Real.LightP99, m.Real.LightP99...)
			rows[i].Real.LagP99 = append(rows[i].Real.LagP99, m.Real.LagP99...)
		}
	}
	return rows
}

// Median returns the median of xs (the mean of the middle two for an even
// count); xs must not be empty.
func Median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// LightRatio is the model's median light p99 over the real one's.
func (r Row) LightRatio() float64 { return Median(r.Model.LightP99) / Median(r.Real.LightP99) }

// LagRatio is the model's median lag p99 over the real one's.
func (r Row) LagRatio() float64 { return Median(r.Model.LagP99) / Median(r.Real.LagP99) }

// WriteTable writes rows as a Markdown table of medians and ratios; a
// ratio outside [lo, hi] is marked in bold.
func WriteTable(w io.Writer, rows []Row, lo, hi float64) {
	fmt.Fprintln(w, "| variant | model light p99 | real light p99 | model / real | model lag p99 | real lag p99 | model / real |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	mark := func(x float64) string {
		if x < lo || x > hi {
			return fmt.Sprintf("**%.2f**", x)
		}
		return fmt.Sprintf("%.2f", x)
	}
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", r.Variant,
			ms(Median(r.Model.LightP99)), ms(Median(r.Real.LightP99)), mark(r.LightRatio()),
			ms(Median(r.Model.LagP99)), ms(Median(r.Real.LagP99)), mark(r.LagRatio()))
	}
}

func ms(s float64) string { return fmt.Sprintf("%.2f ms", 1000*s) }

// LoadAverage returns /proc/loadavg's 1-, 5- and 15-minute figures, to
// print beside a calibration table ("unknown" when they cannot be read).
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
