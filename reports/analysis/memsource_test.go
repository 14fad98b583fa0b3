package analysis

import (
	"strings"
	"testing"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

func TestMemorySourceNote(t *testing.T) {
	if n := memorySourceNote("v repeat 1", nil); n != "" {
		t.Errorf("no memory source: note %q", n)
	}
	three := 3
	ms := &rundir.MemorySource{Source: "prometheus", URL: "http://127.0.0.1:9090", MemoryQuery: "sawtooth_worker_rss_bytes",
		WorkerLabel: "pid", RestartsQuery: "sawtooth_worker_exits_total", Restarts: &three, Step: 1, ScrapeInterval: 15, Series: 4,
		Warnings: []string{"coarse"}}
	n := memorySourceNote("v repeat 1", ms)
	for _, want := range []string{"v repeat 1: memory came from Prometheus at http://127.0.0.1:9090", `"sawtooth_worker_rss_bytes"`, "pid label",
		`restarts from "sawtooth_worker_exits_total" (it rose by 3)`, "scrape interval 15s", "query step 1s", "4 worker series"} {
		if !strings.Contains(n, want) {
			t.Errorf("note %q lacks %q", n, want)
		}
	}
	if ws := memorySourceWarnings("v repeat 1", ms); len(ws) != 1 || ws[0] != "v repeat 1: coarse" {
		t.Errorf("warnings %q", ws)
	}
	ms.Error = `sample.prometheus.memory: query "x" at http://127.0.0.1:9090: connection refused`
	if n := memorySourceNote("v repeat 1", ms); n != "" {
		t.Errorf("failed source: note %q, want none (the error is a warning)", n)
	}
	if ws := memorySourceWarnings("v repeat 1", ms); len(ws) != 2 || !strings.Contains(ws[1], "no memory from Prometheus") || !strings.Contains(ws[1], `query "x"`) {
		t.Errorf("failed source: warnings %q", ws)
	}
}
