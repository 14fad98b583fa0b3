package analysis

import (
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
)

// BenchmarkBuildLong builds the report of a synthetic soak at 500 req/s
// with recycling workers, 10 and 60 minutes long, two repeats, and
// reports the memory the build needs: peak-heap-B is the largest heap
// (live and not yet collected objects) seen while it ran, live-B the
// heap still reachable once it returned. Neither should grow with the
// length of the run.
func BenchmarkBuildLong(b *testing.B) {
	for _, minutes := range []int{10, 60} {
		b.Run(fmt.Sprintf("minutes=%d", minutes), func(b *testing.B) {
			dir := filepath.Join(b.TempDir(), "run")
			cl := []fixture.Class{{Name: "light", Weight: 4, Latency: 0.002}, {Name: "heavy", Weight: 1, Latency: 0.05}}
			vs := []fixture.Variant{{Name: "soak", Repeats: 2, Duration: float64(60 * minutes), Rate: 500, Classes: cl,
				Workers: 4, MaxRequests: 20000, LeakPerRequest: 1 << 10, NoiseRSS: 64 << 10, Seed: 1}}
			if err := fixture.Write(dir, "", vs); err != nil {
				b.Fatal(err)
			}
			var peak, live uint64
			for b.Loop() {
				runtime.GC()
				p := watchHeap()
				r, err := Build(dir, Options{})
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, p.stop())
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				live = max(live, ms.HeapAlloc)
				runtime.KeepAlive(r)
			}
			b.ReportMetric(float64(peak), "peak-heap-B")
			b.ReportMetric(float64(live), "live-B")
		})
	}
}

// heapWatch samples the heap's object bytes until stopped.
type heapWatch struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func watchHeap() *heapWatch {
	w := &heapWatch{done: make(chan struct{})}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			w.peak = max(w.peak, s[0].Value.Uint64())
			select {
			case <-w.done:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *heapWatch) stop() uint64 {
	close(w.done)
	w.wg.Wait()
	return w.peak
}
