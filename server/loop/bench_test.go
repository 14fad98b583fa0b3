package loop

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// BenchmarkLightRoundTrip measures one /light request through the loop over
// a kept-alive connection.
func BenchmarkLightRoundTrip(b *testing.B) {
	for _, offload := range []string{OffloadNone, OffloadThreads} {
		b.Run(offload, func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Offload = offload
			ts := startServer(b, cfg, Options{})
			url := ts.base + "/light"
			b.ResetTimer()
			for range b.N {
				resp, err := ts.client.Get(url)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
	}
}

// BenchmarkGILUncontended measures Acquire+Release with nobody waiting,
// the cost the loop pays per batch of callbacks.
func BenchmarkGILUncontended(b *testing.B) {
	g := NewGIL(5 * time.Millisecond)
	for range b.N {
		g.Acquire()
		g.Yield()
		g.Release()
	}
}
