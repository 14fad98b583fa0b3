package promsrc

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func TestScrapeInterval(t *testing.T) {
	cfg := `global:
  scrape_interval: 15s
scrape_configs:
  - job_name: fast
    scrape_interval: 1s
  - job_name: default
`
	for _, tc := range []struct {
		jobs []string
		want time.Duration
	}{
		{nil, 15 * time.Second},
		{[]string{"fast"}, time.Second},
		{[]string{"default"}, 15 * time.Second},
		{[]string{"fast", "default"}, 15 * time.Second},
		{[]string{"unknown"}, 15 * time.Second},
	} {
		got, err := scrapeInterval(cfg, tc.jobs)
		if err != nil || got != tc.want {
			t.Errorf("jobs %v: %v, %v; want %v", tc.jobs, got, err, tc.want)
		}
	}
	if got, err := scrapeInterval("scrape_configs: []\n", nil); err != nil || got != time.Minute {
		t.Errorf("no global: %v, %v; want Prometheus's default 1m", got, err)
	}
}

func TestCounterRises(t *testing.T) {
	start := time.Unix(1000, 0)
	at := func(s int) model.Time {
		return model.TimeFromUnixNano(start.Add(time.Duration(s) * time.Second).UnixNano())
	}
	m := model.Matrix{
		// There at the start with 3: a baseline; +2, then a reset to 1.
		{Metric: model.Metric{"reason": "max_requests"}, Values: []model.SamplePair{{Timestamp: at(0), Value: 3}, {Timestamp: at(1), Value: 3}, {Timestamp: at(2), Value: 5}, {Timestamp: at(3), Value: 1}}},
		// Appears after the start: it rose from 0.
		{Metric: model.Metric{"reason": "crash"}, Values: []model.SamplePair{{Timestamp: at(2), Value: 1}, {Timestamp: at(3), Value: 1}}},
	}
	rs := counterRises(m, start, "pid")
	count := map[string]int{}
	for _, r := range rs {
		count[r.reason]++
	}
	if len(rs) != 4 || count["max_requests"] != 3 || count["crash"] != 1 {
		t.Errorf("rises %+v, want 3 max_requests (2 then 1 after a reset) and 1 crash", rs)
	}
}

func TestPidsOf(t *testing.T) {
	pids, labels := pidsOf([]*worker{{label: "123"}, {label: "456"}})
	if pids["123"] != 123 || pids["456"] != 456 || labels != nil {
		t.Errorf("numeric labels: %v %v", pids, labels)
	}
	pids, labels = pidsOf([]*worker{{label: "web-1"}, {label: "7"}})
	if pids["web-1"] != 1 || pids["7"] != 2 || labels[1] != "web-1" || labels[2] != "7" {
		t.Errorf("pod labels: %v %v", pids, labels)
	}
}

func TestExitsMatchRises(t *testing.T) {
	s := &Source{cfg: Config{Worker: "pid", Step: time.Second}}
	t0 := time.Unix(1000, 0)
	ends := []exitAt{{t: t0.Add(10 * time.Second), pid: 5, label: "5"}}
	rises := []rise{{t: t0.Add(11 * time.Second), reason: "max_requests"}, {t: t0.Add(30 * time.Second), reason: "crash"}}
	var unmatched int
	evs := s.exits(ends, rises, map[string]int{"5": 5}, &unmatched)
	if len(evs) != 2 || evs[0].PID != 5 || evs[0].Reason != "max_requests" || evs[1].PID != 0 || evs[1].Reason != "crash" || unmatched != 1 {
		t.Errorf("exits %+v, unmatched %d", evs, unmatched)
	}

	// A counter with the worker label (kube_pod_container_status_restarts_total
	// by pod): a rise of a pod whose series goes on is a restart of that
	// pod, an exit and a spawn; one of another pod never matches its end.
	s = &Source{cfg: Config{Worker: "pod", Step: time.Second}}
	ends = []exitAt{{t: t0.Add(10 * time.Second), pid: 1, label: "web-a"}}
	rises = []rise{{t: t0.Add(10 * time.Second), worker: "web-b"}}
	unmatched = 0
	evs = s.exits(ends, rises, map[string]int{"web-a": 1, "web-b": 2}, &unmatched)
	if len(evs) != 3 || evs[0].PID != 1 || evs[1].PID != 2 || evs[1].Event != "exit" || evs[2].PID != 2 || evs[2].Event != "spawn" || unmatched != 0 {
		t.Errorf("restart of a pod: %+v, unmatched %d", evs, unmatched)
	}
}
