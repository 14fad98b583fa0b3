package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// reuseScenario drives the fake server, which closes every keep-alive
// connection after 5 responses by reading the next request and hanging
// up without an answer (and without Connection: close), over one
// connection at a time: each drop is one reuse failure, and each re-send
// goes out on a fresh connection, which the server answers.
func reuseScenario(method, body string, retry bool) *scenarios.Scenario {
	s := fakeScenario("-close-after=5")
	s.Sample.Metrics = nil
	s.Traffic = []scenarios.RequestClass{{Name: "hello", Weight: 1, Method: method, Path: "/", Body: body}}
	s.Phases = []scenarios.Phase{steady("steady", 2*time.Second, 100)}
	s.Client = scenarios.Client{Retry: &retry, Connections: 1}
	return s
}

// reuseRun runs s and returns the server's drops, the run's reuse
// failures per timeline.csv, and its errors by text. It fails the test
// if the server dropped fewer than 20 requests (one per 6 is due), too
// few for the counts to mean something.
func reuseRun(t *testing.T, s *scenarios.Scenario) (drops, reuse int64, errs map[string]int64, info rundir.RunInfo) {
	t.Helper()
	var requests int64
	res, d := runOK(t, s, testOptions(t))
	ref := d.Meta.Runs[0]
	drops = int64(strings.Count(targetLog(t, d, ref), "dropped "))
	eachTimeline(t, d, ref, func(r rundir.TimelineRow) {
		if r.Class == "all" {
			reuse += r.ReuseFailures
			requests += r.Count
		}
	})
	errs = map[string]int64{}
	eachResult(t, d, ref, func(r *vegeta.Result) {
		if r.Error != "" {
			errs[r.Error]++
		}
	})
	info = runInfo(t, d, ref)
	// The scenario as run records the client model (a scenario built in
	// Go, as here, has only the fields it set; Parse fills the rest).
	yml, err := os.ReadFile(filepath.Join(res.Dir, rundir.ScenarioFile))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("client:\n  retry: %v\n  connections: 1\n", *s.Client.Retry)
	if !strings.Contains(string(yml), want) {
		t.Errorf("scenario.yaml lacks\n%s\nin\n%s", want, yml)
	}
	retry := *s.Client.Retry
	t.Logf("retry %v: %d requests, server dropped %d, reuse failures %d, errors %v", retry, requests, drops, reuse, errs)
	if drops < 20 {
		t.Fatalf("retry %v: the server dropped %d requests of %d, want at least 20 (one per 6)", retry, drops, requests)
	}
	return drops, reuse, errs, info
}

func sum(m map[string]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

// With retry on (Go's default), the harness reports exactly as many reuse
// failures as the server dropped requests, and no error: net/http re-sent
// every dropped GET. With retry off, as many errors, each a closed
// connection, and the same reuse failures.
func TestReuseFailuresGET(t *testing.T) {
	for _, retry := range []bool{true, false} {
		drops, reuse, errs, info := reuseRun(t, reuseScenario("GET", "", retry))
		if reuse != drops {
			t.Errorf("retry %v: %d reuse failures, want exactly the %d dropped", retry, reuse, drops)
		}
		if info.Client == nil || info.Client.Retry != retry || info.Client.Connections != 1 {
			t.Errorf("retry %v: run.json client = %+v", retry, info.Client)
		}
		if retry {
			if len(errs) != 0 {
				t.Errorf("retry on: errors %v, want none (every dropped GET re-sent)", errs)
			}
			continue
		}
		if n := sum(errs); n != drops {
			t.Errorf("retry off: %d errors, want the %d dropped", n, drops)
		}
		for e := range errs {
			if !strings.Contains(strings.ToLower(e), "eof") && !strings.Contains(e, "server closed") {
				t.Errorf("retry off: error %q is not a closed connection", e)
			}
		}
	}
}

// A POST with a body is not re-sent by net/http once written, so every
// drop is an error with retry on or off, and a reuse failure either way.
func TestReuseFailuresPOST(t *testing.T) {
	for _, retry := range []bool{true, false} {
		drops, reuse, errs, _ := reuseRun(t, reuseScenario("POST", "a=1&b=2", retry))
		if reuse != drops || sum(errs) != drops {
			t.Errorf("retry %v: %d reuse failures and %d errors, want both the %d dropped", retry, reuse, sum(errs), drops)
		}
	}
}

// With several streams every attacker sends through the run's one client:
// over one shared connection (connections: 1) the server's drops are
// exactly the reuse failures of all the streams together, each stream's
// counted under its own classes, and with retry off each is an error. A
// phase's mix changes its own stream's weights only: in the second phase
// of stream "mixed", class "gone" has weight 0 and is not sent, while
// stream "other" keeps sending.
func TestReuseFailuresStreamsAndMix(t *testing.T) {
	retry := false
	s := reuseScenario("GET", "", retry)
	s.Traffic, s.Phases = nil, nil
	keptOnly := steady("kept only", time.Second, 50)
	keptOnly.Mix = map[string]float64{"gone": 0}
	s.Streams = []scenarios.Stream{
		{Name: "mixed", Traffic: []scenarios.RequestClass{get("kept", "/"), get("gone", "/?x=1")},
			Phases: []scenarios.Phase{steady("both", time.Second, 50), keptOnly}},
		{Name: "other", Traffic: []scenarios.RequestClass{get("other", "/?y=1")},
			Phases: []scenarios.Phase{steady("steady", 2*time.Second, 50)}},
	}
	_, d := runOK(t, s, testOptions(t))
	ref := d.Meta.Runs[0]
	drops := int64(strings.Count(targetLog(t, d, ref), "dropped "))
	reuse := map[string]int64{}
	eachTimeline(t, d, ref, func(r rundir.TimelineRow) {
		reuse[r.Class] += r.ReuseFailures
	})
	info := runInfo(t, d, ref)
	var phase2 float64
	for _, p := range info.Phases {
		if p.Name == "kept only" {
			phase2 = p.Start
		}
	}
	var errs int64
	counts := map[string]int{}
	lateGone := 0
	eachResult(t, d, ref, func(r *vegeta.Result) {
		counts[r.Attack]++
		if r.Error != "" {
			errs++
		}
		// A request picked just before the phase change may leave a
		// moment after it; 50 ms is 2-3 requests of the stream.
		if r.Attack == "gone" && r.Timestamp.Sub(info.Start).Seconds() > phase2+0.05 {
			lateGone++
		}
	})
	t.Logf("drops %d, reuse failures %v, errors %d, results %v, phase 2 at %.3fs", drops, reuse, errs, counts, phase2)
	if drops < 20 {
		t.Fatalf("the server dropped %d requests, want at least 20 (one per 6)", drops)
	}
	if reuse["all"] != drops || reuse["kept"]+reuse["gone"]+reuse["other"] != drops {
		t.Errorf("reuse failures %v, want the %d dropped in all and summed over the classes", reuse, drops)
	}
	if reuse["other"] == 0 || reuse["kept"]+reuse["gone"] == 0 {
		t.Errorf("reuse failures %v, want some in each stream (one shared connection)", reuse)
	}
	if errs != drops {
		t.Errorf("retry off: %d errors, want the %d dropped", errs, drops)
	}
	if phase2 <= 0 || lateGone > 0 || counts["gone"] < 10 || counts["gone"] > 40 || counts["kept"] < 60 || counts["other"] < 95 {
		t.Errorf("results %v, %d of class gone after its mix set it to 0 at %.3fs: want gone only in phase 1 (~25), kept ~75, other ~100", counts, lateGone, phase2)
	}
}
