package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/reports"
)

// TestReportVegeta checks that a bare vegeta results stream, gob or JSON,
// in completion order, becomes a run directory whose report has its
// latencies, per class and over time.
func TestReportVegeta(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, newEnc := range map[string]func(*bytes.Buffer) vegeta.Encoder{
		"gob":  func(b *bytes.Buffer) vegeta.Encoder { return vegeta.NewEncoder(b) },
		"json": func(b *bytes.Buffer) vegeta.Encoder { return vegeta.NewJSONEncoder(b) },
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			enc := newEnc(&b)
			// 5 s at 20/s, two classes; written in completion order.
			for i := 99; i >= 0; i-- {
				r := vegeta.Result{Attack: "", Seq: uint64(i), Code: 200, Timestamp: t0.Add(time.Duration(i) * 50 * time.Millisecond), Latency: 10 * time.Millisecond}
				if i%4 == 0 {
					r.Attack, r.Latency = "slow", 100*time.Millisecond
				}
				if i == 7 {
					r.Code, r.Error = 0, "connection refused"
				}
				if err := enc.Encode(&r); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "results."+name)
			if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "report")
			if err := importVegeta(file, out); err != nil {
				t.Fatal(err)
			}
			rep, err := reports.Build(out, reports.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := rep.WriteFiles(); err != nil {
				t.Fatal(err)
			}
			v := &rep.Summary.Variants[0]
			for name, want := range map[string]float64{"slow.p50": 0.1, "default.p50": 0.01, "errors.count": 1} {
				m, ok := v.Metric(name)
				if !ok || m.Value < want*0.97 || m.Value > want*1.03 {
					t.Errorf("%s = %v (%v), want %v", name, m.Value, ok, want)
				}
			}
			var md bytes.Buffer
			if err := rep.Markdown(&md); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"slow", "default", "vegeta"} {
				if !bytes.Contains(md.Bytes(), []byte(want)) {
					t.Errorf("report lacks %q:\n%s", want, md.String())
				}
			}
			if _, err := os.Stat(filepath.Join(out, reports.PlotsDir, "latency.png")); err != nil {
				t.Errorf("no latency plot: %v", err)
			}
			if err := importVegeta(file, out); err == nil {
				t.Error("importVegeta over an existing directory succeeded")
			}
		})
	}
	empty := filepath.Join(t.TempDir(), "empty.bin")
	os.WriteFile(empty, nil, 0o644)
	if err := importVegeta(empty, filepath.Join(t.TempDir(), "r")); err == nil {
		t.Error("an empty file made a report")
	}
}
