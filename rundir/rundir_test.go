package rundir

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ref := RunRef{Variant: "max_requests=100,workers=2", Repeat: 1, Dir: RunPath("max_requests=100,workers=2", 1)}
	if err := os.MkdirAll(filepath.Join(dir, ref.Dir), 0o755); err != nil {
		t.Fatal(err)
	}
	meta := Meta{FormatVersion: FormatVersion, Scenario: "x", Runs: []RunRef{ref}}
	if err := WriteJSON(filepath.Join(dir, MetaFile), meta); err != nil {
		t.Fatal(err)
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	tw, _ := NewTimelineWriter(&buf)
	want := TimelineRow{T: 1, Interval: 1, Class: "light", Count: 10, OK: 9, Errors: 1, P50: 0.001, P90: 0.002, P99: 0.0125, Max: 0.5, ReuseFailures: 3}
	tw.Write(want)
	tw.Flush()
	buf.WriteString("2,1,li") // a row cut short by a crash
	path := d.File(ref, TimelineFile)
	os.WriteFile(path, buf.Bytes(), 0o644)
	var got []TimelineRow
	if err := EachTimeline(path, func(r TimelineRow) error { got = append(got, r); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("timeline = %+v, want [%+v]", got, want)
	}

	// A file from before the reuse_failures column reads with 0 there.
	old := strings.Join(TimelineHeader[:10], ",") + "\n1,1,light,2,2,0,0.1,0.1,0.1,0.1\n"
	os.WriteFile(path, []byte(old), 0o644)
	got = nil
	if err := EachTimeline(path, func(r TimelineRow) error { got = append(got, r); return nil }); err != nil {
		t.Fatalf("old timeline: %v", err)
	}
	if len(got) != 1 || got[0].Count != 2 || got[0].ReuseFailures != 0 {
		t.Fatalf("old timeline = %+v", got)
	}
	os.WriteFile(path, []byte(strings.Join(TimelineHeader[:9], ",")+"\n1,1,light,2,2,0,0.1,0.1,0.1\n"), 0o644)
	if err := EachTimeline(path, func(TimelineRow) error { return nil }); err == nil {
		t.Fatal("a timeline with 9 columns was accepted")
	}

	os.WriteFile(path, []byte(strings.Join(TimelineHeader, ",")+"\n1,1,light,x,1,0,0,0,0,0,0\n1,1,light,1,1,0,0,0,0,0,0\n"), 0o644)
	err = EachTimeline(path, func(TimelineRow) error { return nil })
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Line != 2 || fe.Field != "count" {
		t.Fatalf("bad row error = %v, want line 2 field count", err)
	}

	var rb bytes.Buffer
	enc := vegeta.NewEncoder(&rb)
	for i := 0; i < 3; i++ {
		enc.Encode(&vegeta.Result{Attack: "light", Seq: uint64(i), Code: 200, Timestamp: time.Unix(int64(i), 0), Latency: time.Millisecond})
	}
	rpath := d.File(ref, ResultsFile)
	os.WriteFile(rpath, rb.Bytes()[:rb.Len()-3], 0o644) // last one truncated
	n := 0
	if err := EachResult(rpath, func(r *vegeta.Result) error {
		if r.Attack != "light" {
			t.Errorf("Attack = %q", r.Attack)
		}
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("read %d results, want 2 (third truncated)", n)
	}

	var eb bytes.Buffer
	ew := NewEventWriter(&eb)
	ew.Write(Event{T: 1.5, Source: "server", Event: "exit", PID: 42, Reason: "max_requests", Requests: 57})
	ew.Flush()
	epath := d.File(ref, EventsFile)
	os.WriteFile(epath, eb.Bytes(), 0o644)
	var evs []Event
	if err := EachEvent(epath, func(e Event) error { evs = append(evs, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Reason != "max_requests" || evs[0].Requests != 57 {
		t.Fatalf("events = %+v", evs)
	}
}

func TestRunPath(t *testing.T) {
	if got := RunPath("a/b", 2); got != filepath.Join("a_b", "2") {
		t.Errorf("RunPath = %q", got)
	}
	if got := RunPath("..", 1); got == filepath.Join("..", "1") {
		t.Errorf("RunPath(..) escapes: %q", got)
	}
}

// TestNonFiniteRejected checks that NaN and ±Inf in a time, latency or CPU
// column are errors naming the line and field, while a metric's value may
// be NaN as Prometheus allows.
func TestNonFiniteRejected(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body, field string
		each              func(string) error
	}{
		{"timeline", strings.Join(TimelineHeader, ",") + "\n1,1,light,1,1,0,NaN,0,0,0,0\n", "p50",
			func(p string) error { return EachTimeline(p, func(TimelineRow) error { return nil }) }},
		{"memory", strings.Join(MemoryHeader, ",") + "\n+Inf,1,0,master,1,1,0\n", "t",
			func(p string) error { return EachMemory(p, func(MemorySample) error { return nil }) }},
	} {
		p := filepath.Join(dir, tc.name+".csv")
		if err := os.WriteFile(p, []byte(tc.body), 0o644); err != nil {
			t.Fatal(err)
		}
		var fe *FieldError
		if err := tc.each(p); !errors.As(err, &fe) || fe.Line != 2 || fe.Field != tc.field || !strings.Contains(err.Error(), "finite") {
			t.Errorf("%s: err = %v, want a finite-number error on line 2, field %s", tc.name, err, tc.field)
		}
	}
	p := filepath.Join(dir, "metrics.csv")
	if err := os.WriteFile(p, []byte(strings.Join(MetricsHeader, ",")+"\n1,m,,NaN\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := EachMetric(p, func(MetricSample) error { return nil }); err != nil {
		t.Errorf("NaN metric value: %v, want it accepted", err)
	}
}

// TestWriteFileReplacesSymlink checks that WriteFile replaces a symlink at
// its path instead of writing through it, leaves no temporary behind, and
// that Create refuses an existing name.
func TestWriteFileReplacesSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "run.json")
	for _, l := range []string{p, p + ".tmp"} {
		if err := os.Symlink(victim, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteJSON(p, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("victim overwritten: %q", b)
	}
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
		t.Errorf("run.json: %v %v, want a regular 0644 file", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 { // run.json and the planted run.json.tmp
		t.Errorf("directory holds %d entries, want 2 (a temporary left behind?)", len(entries))
	}
	if err := WriteFile(filepath.Join(dir, "no-such-dir", "x"), nil); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
	if _, err := Create(p + ".tmp"); err == nil {
		t.Error("Create over an existing symlink succeeded")
	}
}
