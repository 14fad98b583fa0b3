package loop

import (
	"context"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sawtooth-dev/sawtooth/internal/metric"
)

// LagMetricName is the name of the loop-lag histogram.
const LagMetricName = metric.LoopLag

// LagBuckets returns the upper bounds, in seconds, of the loop-lag
// histogram's buckets: 0.1ms to 30s, nine to a decade (1, 1.5, 2, 2.5, 3,
// 4, 5, 6, 8), so that a quantile interpolated within a bucket is off by
// at most half a bucket's width, a quarter of its value. With three to a
// decade (1, 2.5, 5) a p99 between 2.5 and 5ms could read anywhere in that
// range from the same traffic. 5ms (the default switch interval) and 100ms
// (the default threshold) are among them. A master that aggregates its
// workers' observations should use the same buckets, and so does the
// FastAPI app in testdata/apps.
func LagBuckets() []float64 {
	return []float64{
		0.0001, 0.00015, 0.0002, 0.00025, 0.0003, 0.0004, 0.0005, 0.0006, 0.0008,
		0.001, 0.0015, 0.002, 0.0025, 0.003, 0.004, 0.005, 0.006, 0.008,
		0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.06, 0.08,
		0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8,
		1, 1.5, 2, 2.5, 3, 4, 5, 6, 8,
		10, 15, 20, 30,
	}
}

// NewLagHistogram returns an unregistered histogram named LagMetricName with
// LagBuckets.
func NewLagHistogram() prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    LagMetricName,
		Help:    "Delay between scheduling a no-op on the event loop and its running.",
		Buckets: LagBuckets(),
	})
}

// monitor is the loop-lag heartbeat of the source article: it sleeps on a
// loop timer for the interval, as asyncio.sleep does, and measures how late
// the no-op it then runs on the loop is. A watchdog
// dumps the stacks while the probe is still pending past the threshold,
// since that is when the blocking handler is on the loop's stack.
type monitor struct {
	loop     *Loop
	cfg      Config
	log      *slog.Logger
	hist     prometheus.Histogram
	onLag    func(time.Duration)
	onProbe  func() // runs on the loop inside each probe
	stackIDs func() map[uint64]bool
	lastDump time.Time
}

func (m *monitor) run(ctx context.Context) {
	ran := make(chan time.Time, 1)
	probe := func() {
		if m.onProbe != nil {
			m.onProbe()
		}
		ran <- time.Now()
	}
	watchdog := time.NewTimer(time.Hour)
	defer watchdog.Stop()
	for {
		// The heartbeat sleeps on a loop timer, as asyncio.sleep does:
		// it is due after the interval (up to pollResolution later on
		// an idle loop, timers.go), completes a future in that
		// iteration, and the heartbeat task resumes in the next one.
		due := time.Now().Add(m.cfg.LagInterval)
		if !m.loop.CallAt(due, func() { m.loop.Soon(probe) }) {
			return
		}
		watchdog.Reset(time.Until(due) + m.cfg.LagThreshold)
		var lag time.Duration
	wait:
		for {
			select {
			case <-ctx.Done():
				return
			case <-m.loop.Done():
				return
			case end := <-ran:
				lag = max(0, end.Sub(due))
				break wait
			case now := <-watchdog.C:
				pending := now.Sub(due)
				m.warn("event loop blocked: probe still pending", pending, true)
				watchdog.Reset(m.cfg.DumpInterval)
			}
		}
		watchdog.Stop()
		m.hist.Observe(lag.Seconds())
		if m.onLag != nil {
			m.onLag(lag)
		}
		if lag > m.cfg.LagThreshold {
			m.warn("event loop lag above threshold", lag, false)
		}
	}
}

// warn logs a lag warning, with a stack dump unless one was logged less than
// DumpInterval ago. A dump taken while the loop is blocked (blocked=true)
// shows the culprit; one taken after the fact shows where the loop is now.
func (m *monitor) warn(msg string, lag time.Duration, blocked bool) {
	now := time.Now()
	attrs := []any{"lag", lag, "threshold", m.cfg.LagThreshold}
	if now.Sub(m.lastDump) >= m.cfg.DumpInterval {
		m.lastDump = now
		attrs = append(attrs, "stack", dumpStacks(m.stackIDs()))
	} else if !blocked && lag > m.cfg.LagThreshold {
		attrs = append(attrs, "stack", "(rate-limited)")
	}
	m.log.Warn(msg, attrs...)
}

// dumpStacks returns the stacks of the goroutines in ids (the loop and the
// offload threads), the counterpart of Python's sys._current_frames(); all
// goroutines if none of them is found.
func dumpStacks(ids map[uint64]bool) string {
	buf := make([]byte, 256<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) || len(buf) >= 64<<20 {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var kept []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		fields := strings.Fields(g)
		if len(fields) < 2 || fields[0] != "goroutine" {
			continue
		}
		if id, err := strconv.ParseUint(fields[1], 10, 64); err == nil && ids[id] {
			kept = append(kept, g)
		}
	}
	if len(kept) == 0 {
		return string(buf)
	}
	return strings.Join(kept, "\n\n")
}
