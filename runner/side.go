package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/procfs"

	"github.com/sawtooth-dev/sawtooth/internal/hist"
	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/attack"
	"github.com/sawtooth-dev/sawtooth/runner/sampler"
	"github.com/sawtooth-dev/sawtooth/runner/scrape"
	"github.com/sawtooth-dev/sawtooth/scenarios"
	"github.com/sawtooth-dev/sawtooth/server/event"
)

// eventLog writes events with their time relative to the start of the
// attack; events that come before the start is known are held until then.
type eventLog struct {
	mu      sync.Mutex
	w       *rundir.EventWriter
	t0      time.Time
	pending []rundir.Event
}

func newEventLog(w *rundir.EventWriter) *eventLog { return &eventLog{w: w} }

func (l *eventLog) add(e rundir.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.t0.IsZero() {
		l.pending = append(l.pending, e)
		return
	}
	l.write(e)
}

func (l *eventLog) write(e rundir.Event) {
	e.T = e.Time.Sub(l.t0).Seconds()
	e.Time = e.Time.UTC()
	l.w.Write(e)
}

// start sets the start time and writes the events held so far.
func (l *eventLog) start(t0 time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t0 = t0
	for _, e := range l.pending {
		l.write(e)
	}
	l.pending = nil
}

// flush writes what is buffered; events held for want of a start time
// are written relative to their first one.
func (l *eventLog) flush() {
	l.mu.Lock()
	if l.t0.IsZero() && len(l.pending) > 0 {
		l.mu.Unlock()
		l.start(l.pending[0].Time)
		l.mu.Lock()
	}
	l.mu.Unlock()
	l.w.Flush()
}

// treeSampler samples the target's process tree; its methods may be
// called from several goroutines.
type treeSampler struct {
	mu sync.Mutex
	s  *sampler.Sampler
	// quiet drops the spawns and exits of the samples (memory and worker
	// lives then come from another source).
	quiet bool
}

func newTreeSampler(pid int) (*treeSampler, error) {
	s, err := sampler.New(pid)
	if err != nil {
		return nil, err
	}
	return &treeSampler{s: s}, nil
}

// close releases the sampler's open files.
func (ts *treeSampler) close() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.s.Close()
}

// track remembers the processes in the tree now (see sampler.Track) and
// then every interval until stop is closed, when it tracks once more.
func (ts *treeSampler) track(stop <-chan struct{}, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ts.mu.Lock()
		ts.s.Track()
		ts.mu.Unlock()
		select {
		case <-stop:
			ts.mu.Lock()
			ts.s.Track()
			ts.mu.Unlock()
			return
		case <-t.C:
		}
	}
}

// survivors returns the processes of the tree ever seen that still live.
func (ts *treeSampler) survivors() []int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.s.Survivors(0)
}

// sample takes one sample, writes its rows and its spawns and exits.
func (ts *treeSampler) sample(t0 time.Time, w interface {
	Write(rundir.MemorySample) error
	Flush() error
}, events *eventLog, live *liveStats) {
	if ts == nil {
		return // a URL target: no process tree of ours
	}
	ts.mu.Lock()
	smp, changes, err := ts.s.Sample()
	ts.mu.Unlock()
	if err != nil {
		return
	}
	t := smp.Time.Sub(t0).Seconds()
	if w != nil {
		for _, p := range smp.Procs {
			w.Write(rundir.MemorySample{T: t, PID: p.PID, PPID: p.PPID, Role: p.Role, RSS: p.RSS, PSS: p.PSS, CPU: p.CPU})
		}
		w.Flush()
	}
	for _, c := range changes {
		if ts.quiet {
			continue
		}
		ev := rundir.Event{Time: smp.Time, Source: "tree", Event: "spawn", PID: c.Proc.PID, RSS: c.Proc.RSS, Message: c.Proc.Role}
		if !c.Spawn {
			ev.Event = "exit"
			if c.Proc.Role == sampler.RoleWorker {
				live.restarts.Add(1)
			}
		}
		events.add(ev)
	}
	live.pss.Store(smp.TotalPSS())
}

// loop samples every interval until ctx is done, also tracking the
// harness's own peak RSS (only that for a nil sampler, as for a URL
// target).
func (ts *treeSampler) loop(ctx context.Context, interval time.Duration, t0 time.Time, w interface {
	Write(rundir.MemorySample) error
	Flush() error
}, events *eventLog, live *liveStats, maxRSS *atomic.Int64) {
	t := time.NewTicker(interval)
	defer t.Stop()
	self, selfErr := procfs.Self()
	for {
		ts.sample(t0, w, events, live)
		events.w.Flush()
		if selfErr == nil {
			if st, err := self.Stat(); err == nil {
				rss := int64(st.ResidentMemory())
				if rss > maxRSS.Load() {
					maxRSS.Store(rss)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// final samples once more after the target has stopped, to record the
// exits of its last processes.
func (ts *treeSampler) final(t0 time.Time, events *eventLog, live *liveStats) {
	ts.sample(t0, nil, events, live)
}

// scrapeLoop scrapes the metrics sources every interval until ctx is done.
// The first failure of each source is recorded as an event.
func scrapeLoop(ctx context.Context, interval time.Duration, t0 time.Time, sources []scenarios.MetricsSource, w interface {
	Write(rundir.MetricSample) error
	Flush() error
}, events *eventLog) {
	client := &http.Client{Timeout: max(interval, time.Second)}
	defer client.CloseIdleConnections()
	failed := make([]bool, len(sources))
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for i, src := range sources {
			now := time.Now()
			series, err := scrape.Get(ctx, client, src.URL, src.Names)
			if err != nil {
				if !failed[i] && ctx.Err() == nil {
					failed[i] = true
					events.add(rundir.Event{Time: now, Source: "runner", Event: "scrape_error", Message: err.Error()})
				}
				continue
			}
			tt := now.Sub(t0).Seconds()
			for _, s := range series {
				w.Write(rundir.MetricSample{T: tt, Metric: s.Metric, Labels: s.Labels, Value: s.Value})
			}
		}
		w.Flush()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serverEventsSeen is how many of the built-in server's latest events
// readServerEvents remembers to skip them when they are replayed: more
// than the server replays (its last 10,000), so memory stays bounded
// however long the run.
const serverEventsSeen = 1 << 14

// readServerEvents follows the built-in server's event stream until ctx
// is done, reconnecting if it drops (the server replays its history, so
// events already seen, by time, pid and kind, are skipped).
func readServerEvents(ctx context.Context, url string, events *eventLog) {
	type seenKey struct {
		t     time.Time
		pid   int
		event string
	}
	seen := map[seenKey]bool{}
	var order []seenKey // the keys in seen, oldest first from next
	next := 0
	client := &http.Client{}
	defer client.CloseIdleConnections()
	for ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return
		}
		resp, err := client.Do(req)
		if err == nil {
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				var se event.Event
				if json.Unmarshal(sc.Bytes(), &se) != nil || se.Event == "" {
					continue
				}
				k := seenKey{se.Time, se.Pid, se.Event}
				if seen[k] {
					continue
				}
				seen[k] = true
				if len(order) < serverEventsSeen {
					order = append(order, k)
				} else {
					delete(seen, order[next])
					order[next] = k
					next = (next + 1) % serverEventsSeen
				}
				if se.Time.IsZero() {
					se.Time = time.Now()
				}
				msg := se.Message
				if se.Limit > 0 && msg == "" {
					msg = fmt.Sprintf("limit %d", se.Limit)
				}
				events.add(rundir.Event{Time: se.Time, Source: "server", Event: se.Event, PID: se.Pid, Reason: se.Reason, Requests: se.Requests, RSS: se.RSS, Message: msg})
			}
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Warning limits of the harness self-check.
const (
	// minAchieved is the fraction of the requested rate below which the
	// run is flagged.
	minAchieved = 0.95
	// maxSendLag is the send-lag p99 above which the run is flagged.
	maxSendLag = 10 * time.Millisecond
)

// harness computes the harness's health over a run that ran for ran
// (at most the phases' total).
func harness(segs []attack.Segment, starts []time.Duration, ran time.Duration, sentOpen float64, lag *hist.Histogram, cpu float64, wall time.Duration, maxRSS int64) rundir.Harness {
	h := rundir.Harness{CPUSeconds: cpu, MaxRSS: maxRSS}
	if wall > 0 {
		h.CPUPercent = 100 * cpu / wall.Seconds()
	}
	var want, openDur float64
	for i, s := range segs {
		if !s.Open() {
			continue
		}
		d := min(max(ran-starts[i], 0), s.Duration)
		want += s.Hits(d)
		openDur += d.Seconds()
	}
	if openDur > 0 {
		h.RequestedRate = want / openDur
		h.AchievedRate = sentOpen / openDur
	}
	h.SendLagP99 = lag.Quantile(0.99).Seconds()
	h.SendLagMax = lag.Max().Seconds()
	if want >= 20 && h.AchievedRate < minAchieved*h.RequestedRate {
		h.Warnings = append(h.Warnings, fmt.Sprintf("THE HARNESS COULD NOT KEEP THE REQUESTED RATE: it sent %.1f req/s of %.1f requested (%.0f%%) in the open-model phases; latencies were measured at a lower load than asked",
			h.AchievedRate, h.RequestedRate, 100*h.AchievedRate/h.RequestedRate))
	}
	if lag.Count() > 0 && lag.Quantile(0.99) > maxSendLag {
		h.Warnings = append(h.Warnings, fmt.Sprintf("REQUESTS WERE SENT LATE: send lag p99 %.1fms (max %.1fms) behind schedule; the harness or the machine was overloaded and latencies may be understated",
			1000*h.SendLagP99, 1000*h.SendLagMax))
	}
	if math.IsNaN(h.CPUPercent) {
		h.CPUPercent = 0
	}
	return h
}
