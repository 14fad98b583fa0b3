package server

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/procfs"

	"github.com/sawtooth-dev/sawtooth/internal/metric"
	"github.com/sawtooth-dev/sawtooth/server/loop"
)

// Metric names served by the admin listener's /metrics.
const (
	MetricWorkersAlive   = "sawtooth_workers_alive"
	MetricWorkersDesired = "sawtooth_workers_desired"
	MetricSpawns         = "sawtooth_worker_spawns_total"
	MetricExits          = "sawtooth_worker_exits_total"
	MetricRetirements    = "sawtooth_worker_retirements_total"
	MetricWorkerRequests = "sawtooth_worker_requests_total"
	MetricWorkerInFlight = "sawtooth_worker_requests_in_flight"
	MetricWorkerRSS      = "sawtooth_worker_rss_bytes"
	MetricRequests       = "sawtooth_requests_total"
	MetricLoopLag        = metric.LoopLag
)

// metrics is the master's Prometheus registry. Counters are updated by the
// arbiter; per-worker series are collected from a snapshot of the live
// workers at scrape time, so a retired worker's series disappear with it.
type metrics struct {
	reg         *prometheus.Registry
	spawns      prometheus.Counter
	exits       *prometheus.CounterVec
	retirements *prometheus.CounterVec
	loopLag     prometheus.Histogram
}

// workerSample is one live worker as the metrics collector sees it.
type workerSample struct {
	pid, slot          int
	requests, inflight int64
}

// snapshotter gives the collector the live workers and the requests served
// by workers that have exited.
type snapshotter interface {
	snapshot() (live []workerSample, desired int, retiredRequests int64)
}

func newMetrics(s snapshotter) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		spawns: prometheus.NewCounter(prometheus.CounterOpts{Name: MetricSpawns,
			Help: "Worker processes started."}),
		exits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricExits,
			Help: "Worker processes that exited, by reason."}, []string{"reason"}),
		retirements: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricRetirements,
			Help: "Workers that started retiring, by reason."}, []string{"reason"}),
		loopLag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: MetricLoopLag,
			Help:    "Event-loop lag observed by loop workers, in seconds, over all workers.",
			Buckets: loop.LagBuckets()}),
	}
	m.reg.MustRegister(m.spawns, m.exits, m.retirements, m.loopLag, &workerCollector{s: s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

var (
	descAlive = prometheus.NewDesc(MetricWorkersAlive,
		"Worker processes alive (including retiring ones).", nil, nil)
	descDesired = prometheus.NewDesc(MetricWorkersDesired,
		"Workers the master keeps running (--workers, changed by SIGTTIN/SIGTTOU).", nil, nil)
	descWorkerRequests = prometheus.NewDesc(MetricWorkerRequests,
		"Requests served by a live worker, as of its last heartbeat.", []string{"pid", "slot"}, nil)
	descInFlight = prometheus.NewDesc(MetricWorkerInFlight,
		"Requests in flight on a live worker, as of its last heartbeat.", []string{"pid", "slot"}, nil)
	descRSS = prometheus.NewDesc(MetricWorkerRSS,
		"Resident set size of a live worker, read from /proc at scrape time.", []string{"pid", "slot"}, nil)
	descRequests = prometheus.NewDesc(MetricRequests,
		"Requests served by all workers, live and exited, as last reported.", nil, nil)
)

// workerCollector reports the per-worker series.
type workerCollector struct{ s snapshotter }

func (c *workerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descAlive, descDesired, descWorkerRequests, descInFlight, descRSS, descRequests} {
		ch <- d
	}
}

func (c *workerCollector) Collect(ch chan<- prometheus.Metric) {
	live, desired, retired := c.s.snapshot()
	ch <- prometheus.MustNewConstMetric(descAlive, prometheus.GaugeValue, float64(len(live)))
	ch <- prometheus.MustNewConstMetric(descDesired, prometheus.GaugeValue, float64(desired))
	total := retired
	for _, w := range live {
		pid, slot := strconv.Itoa(w.pid), strconv.Itoa(w.slot)
		total += w.requests
		ch <- prometheus.MustNewConstMetric(descWorkerRequests, prometheus.CounterValue, float64(w.requests), pid, slot)
		ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(w.inflight), pid, slot)
		if rss, err := readRSS(w.pid); err == nil {
			ch <- prometheus.MustNewConstMetric(descRSS, prometheus.GaugeValue, float64(rss), pid, slot)
		}
	}
	ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(total))
}

// readRSS returns the resident set size of pid in bytes.
func readRSS(pid int) (int64, error) {
	p, err := procfs.NewProc(pid)
	if err != nil {
		return 0, err
	}
	st, err := p.Stat()
	if err != nil {
		return 0, err
	}
	return int64(st.ResidentMemory()), nil
}
