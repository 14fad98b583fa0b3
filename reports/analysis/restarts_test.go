package analysis

import (
	"maps"
	"path/filepath"
	"testing"

	"github.com/sawtooth-dev/sawtooth/reports/internal/fixture"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// TestRestartsMerge: exits seen by several sources are one restart at the
// most precise source's time; an exit without a reason takes its worker's
// latest retiring reason from any source; a reused pid is two lives;
// shutdown exits, exits after the stop and the master are not restarts.
func TestRestartsMerge(t *testing.T) {
	events := []rundir.Event{
		{T: 1.0, Source: "log", Event: "retiring", PID: 11, Reason: "max_requests"},
		{T: 1.01, Source: "log", Event: "exit", PID: 11},
		{T: 1.2, Source: "tree", Event: "exit", PID: 11},
		{T: 2.0, Source: "tree", Event: "exit", PID: 12},
		{T: 3.0, Source: "server", Event: "exit", PID: 13, Reason: "shutdown"},
		{T: 9.5, Source: "log", Event: "exit", PID: 14},
		{T: 0.5, Source: "log", Event: "spawn", PID: 15},
		{T: 1.3, Source: "log", Event: "retiring", PID: 15, Reason: "max_requests"},
		{T: 1.4, Source: "log", Event: "retiring", PID: 15, Reason: "timeout"},
		{T: 1.5, Source: "log", Event: "exit", PID: 15},
		{T: 1.6, Source: "tree", Event: "exit", PID: 15},
		{T: 2.5, Source: "log", Event: "spawn", PID: 15}, // the pid reused
		{T: 2.7, Source: "tree", Event: "spawn", PID: 15},
		{T: 4.0, Source: "log", Event: "retiring", PID: 15, Reason: "max_requests"},
		{T: 4.1, Source: "log", Event: "exit", PID: 15},
		{T: 4.3, Source: "tree", Event: "exit", PID: 15},
		{T: 5.0, Source: "log", Event: "retiring", PID: 16, Reason: "max_requests"},
		{T: 5.1, Source: "server", Event: "exit", PID: 16, Reason: "max_rss", Requests: 42},
		{T: 5.05, Source: "log", Event: "exit", PID: 16},
		{T: 5.2, Source: "tree", Event: "exit", PID: 10},
		{T: 9.0, Source: "runner", Event: "stop", PID: 10},
	}
	roles := map[int]string{10: "master", 11: "worker", 15: "worker", 16: "worker"}
	rs := restarts(events, roles, nil, stopTime(rundir.RunInfo{}, events))

	type exit struct {
		t      float64
		pid    int
		reason string
		source string
	}
	want := []exit{
		{1.01, 11, "max_requests", "log"},
		{1.5, 15, "timeout", "log"},
		{2.0, 12, "unknown", "tree"},
		{4.1, 15, "max_requests", "log"},
		{5.1, 16, "max_rss", "server"},
	}
	var got []exit
	for _, x := range rs.Exits {
		got = append(got, exit{x.T, x.PID, x.Reason, x.Source})
	}
	if len(got) != len(want) {
		t.Fatalf("exits = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("exit %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if rs.Count != len(want) {
		t.Errorf("count = %d, want %d", rs.Count, len(want))
	}
	wantReasons := map[string]int{"max_requests": 2, "timeout": 1, "unknown": 1, "max_rss": 1}
	if !maps.Equal(rs.ByReason, wantReasons) {
		t.Errorf("by reason = %v, want %v", rs.ByReason, wantReasons)
	}
	if rs.Source != "server" {
		t.Errorf("source = %q, want server (the most precise that saw an exit)", rs.Source)
	}
	if rs.Exits[4].Requests != 42 {
		t.Errorf("requests of the server's exit = %d, want 42", rs.Exits[4].Requests)
	}
}

// TestRestartsGunicornDrain: a gunicorn-like run (restarts in its log
// with the reason on the retiring line, and in the process tree) whose
// target fell behind, so that restarts continued after the phase ended
// while the runner waited for the last responses, then shut down. Every
// retirement is one restart with reason max_requests, those while
// draining included; the shutdown exits are not restarts. The same run
// with the built-in server's events gives the same restarts.
func TestRestartsGunicornDrain(t *testing.T) {
	classes := []fixture.Class{{Name: "light", Weight: 1, Latency: 0.002}}
	gunicorn := fixture.Variant{Name: "gunicorn", Repeats: 1, Duration: 8, Rate: 25, Classes: classes, Workers: 2,
		MaxRequests: 30, Events: "gunicorn", Drain: 3, Shutdown: true, Seed: 3}
	server := gunicorn
	server.Name, server.Events = "server", "server"
	dir := filepath.Join(t.TempDir(), "run")
	if err := fixture.Write(dir, "", []fixture.Variant{gunicorn, server}); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}

	// What the log says, independently of the report.
	retired, shutdown := map[int]bool{}, 0
	if err := rundir.EachEvent(filepath.Join(dir, rundir.RunPath("gunicorn", 1), rundir.EventsFile), func(e rundir.Event) error {
		switch {
		case e.Source == "log" && e.Event == "retiring":
			retired[e.PID] = true
		case e.Source == "log" && e.Event == "exit" && e.T > gunicorn.Duration:
			shutdown++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(retired) < 5 || shutdown != gunicorn.Workers {
		t.Fatalf("fixture: %d retirements and %d shutdown exits, want >= 5 and %d", len(retired), shutdown, gunicorn.Workers)
	}

	phaseEnd := gunicorn.Duration - gunicorn.Drain
	for i, name := range []string{"gunicorn", "server"} {
		rs := rep.Summary.Variants[i].Runs[0].Restarts
		if rs.Count != len(retired) {
			t.Errorf("%s: %d restarts, want %d (one per retirement)", name, rs.Count, len(retired))
		}
		if want := map[string]int{"max_requests": len(retired)}; !maps.Equal(rs.ByReason, want) {
			t.Errorf("%s: by reason %v, want %v", name, rs.ByReason, want)
		}
		draining := 0
		for _, x := range rs.Exits {
			if !retired[x.PID] {
				t.Errorf("%s: exit of worker %d at %.2fs, which never retired", name, x.PID, x.T)
			}
			if x.T > phaseEnd {
				draining++
			}
		}
		if draining == 0 {
			t.Errorf("%s: no restart counted after the phase ended at %.0fs; exits %+v", name, phaseEnd, rs.Exits)
		}
	}
	if got := rep.Summary.Variants[0].Runs[0].Restarts.Source; got != "log" {
		t.Errorf("gunicorn: source %q, want log", got)
	}
}
