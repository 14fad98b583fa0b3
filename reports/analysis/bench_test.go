package analysis

import (
	"path/filepath"
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
)

// BenchmarkBuild builds the report of a 20-minute synthetic soak at
// 100 req/s with recycling workers and no X-Worker-* headers, so that
// the per-request fit follows the load (exit events and load share).
func BenchmarkBuild(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "run")
	cl := []fixture.Class{{Name: "light", Weight: 4, Latency: 0.002}, {Name: "heavy", Weight: 1, Latency: 0.05}}
	vs := []fixture.Variant{
		{Name: "recycling", Repeats: 1, Duration: 1200, Rate: 100, Classes: cl, Workers: 4, MaxRequests: 500,
			LeakPerRequest: 10 << 10, NoiseRSS: 64 << 10, Seed: 1},
		{Name: "steady", Repeats: 1, Duration: 1200, Rate: 100, Classes: cl, Workers: 4,
			LeakPerRequest: 10 << 10, NoiseRSS: 64 << 10, Seed: 2},
	}
	if err := fixture.Write(dir, "", vs); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(dir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
