package attack

import (
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
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

// BenchmarkAttacker runs a vegeta Attacker with 64 workers against a
// loopback server, with vegeta's own client and with the harness's, and
// reports the process's CPU time per request (server included, the same
// for both), which the machine's load disturbs less than wall time.
func BenchmarkAttacker(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello\n") }))
	defer srv.Close()
	for _, bc := range []struct {
		name string
		opts func() []func(*vegeta.Attacker)
	}{
		{"vegeta", func() []func(*vegeta.Attacker) {
			return []func(*vegeta.Attacker){vegeta.Timeout(30 * time.Second), vegeta.KeepAlive(true)}
		}},
		{"sawtooth", func() []func(*vegeta.Attacker) {
			return NewClient(ClientConfig{Retry: true, KeepAlive: true, Timeout: 30 * time.Second, MaxBody: 4096}).Options()
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			atk := vegeta.NewAttacker(append(bc.opts(), vegeta.Workers(64), vegeta.MaxWorkers(64))...)
			tr := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: srv.URL + "/#c"})
			var ru0, ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			b.ResetTimer()
			n := 0
			for res := range atk.Attack(tr, countPacer(b.N), 0, "b") {
				if res.Error != "" {
					b.Fatal(res.Error)
				}
				n++
			}
			b.StopTimer()
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
			b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-us/req")
		})
	}
}

// countPacer sends n requests as fast as the workers take them.
type countPacer int

func (p countPacer) Pace(_ time.Duration, hits uint64) (time.Duration, bool) {
	return 0, hits >= uint64(p)
}

func (p countPacer) Rate(time.Duration) float64 { return 0 }
