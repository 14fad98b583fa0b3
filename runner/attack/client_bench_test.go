package attack

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkClient compares a request through the harness's client (traced,
// retry on and off) with one through a plain net/http Transport configured
// as vegeta's, against a loopback server: the per-request cost of
// counting reuse failures.
func BenchmarkClient(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello\n") }))
	defer srv.Close()
	plain := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 10000}}
	for _, bc := range []struct {
		name string
		c    *http.Client
	}{
		{"plain", plain},
		{"traced", NewClient(ClientConfig{Retry: true, KeepAlive: true, Timeout: 30 * time.Second, MaxBody: 4096}).HTTPClient()},
		{"traced-noretry", NewClient(ClientConfig{Retry: false, KeepAlive: true, Timeout: 30 * time.Second, MaxBody: 4096}).HTTPClient()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest("GET", srv.URL+"/#c", nil)
					req.Header.Set("X-Vegeta-Seq", "1")
					resp, err := bc.c.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}
