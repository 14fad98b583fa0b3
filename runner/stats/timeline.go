// Package stats aggregates the harness's results in constant memory: a
// per-interval, per-class timeline of latency histograms (internal/hist),
// so the harness's memory does not grow with the length of a run.
package stats

import (
	"slices"
	"time"

	"github.com/sawtooth-dev/sawtooth/internal/hist"
	"github.com/sawtooth-dev/sawtooth/internal/metric"
	"github.com/sawtooth-dev/sawtooth/rundir"
)

// AllClasses is the class name of timeline rows that aggregate every class.
const AllClasses = metric.AllClass

type cell struct {
	hist       hist.Histogram
	ok, errors int64
	reuse      int64 // requests with a reuse failure
}

type interval struct {
	index   int64
	classes map[string]*cell
}

// Timeline aggregates results into rows per interval (by the time each
// request was sent) and class, plus class "all". An interval is emitted
// once no result for it can still arrive, so only the intervals of the
// last Horizon are held in memory. It is not safe for concurrent use.
type Timeline struct {
	start   time.Time
	step    time.Duration
	horizon time.Duration
	open    map[int64]*interval
	classes []string // classes in the order first seen, for stable rows
	emit    func(rundir.TimelineRow) error
	flushed int64     // every interval below this index has been emitted
	last    *interval // the interval added to last (nil once emitted)
	spare   []*cell
}

// NewTimeline returns a Timeline of intervals of length step counted from
// start. A result sent at t is complete by t + horizon (the request
// timeout plus a margin); emit receives rows in order of time, then class.
func NewTimeline(start time.Time, step, horizon time.Duration, emit func(rundir.TimelineRow) error) *Timeline {
	return &Timeline{start: start, step: step, horizon: horizon, open: map[int64]*interval{}, emit: emit}
}

// Add records one result: the class, when it was sent, its latency,
// whether it succeeded and whether it had a reuse failure.
func (tl *Timeline) Add(class string, sent time.Time, latency time.Duration, ok, reuse bool) {
	idx := int64(sent.Sub(tl.start) / tl.step)
	if sent.Before(tl.start) {
		idx = 0
	}
	if idx < tl.flushed {
		// Later than the horizon allowed for; count it in the oldest open
		// interval rather than lose it.
		idx = tl.flushed
	}
	iv := tl.last
	if iv == nil || iv.index != idx {
		iv = tl.open[idx]
		if iv == nil {
			iv = &interval{index: idx, classes: map[string]*cell{}}
			tl.open[idx] = iv
		}
		tl.last = iv
	}
	tl.cell(iv, class).add(latency, ok, reuse)
	tl.cell(iv, AllClasses).add(latency, ok, reuse)
}

// add records one result.
func (c *cell) add(latency time.Duration, ok, reuse bool) {
	c.hist.Record(latency)
	if reuse {
		c.reuse++
	}
	if ok {
		c.ok++
	} else {
		c.errors++
	}
}

func (tl *Timeline) cell(iv *interval, class string) *cell {
	c := iv.classes[class]
	if c == nil {
		if !slices.Contains(tl.classes, class) && class != AllClasses {
			tl.classes = append(tl.classes, class)
		}
		if n := len(tl.spare); n > 0 {
			c, tl.spare = tl.spare[n-1], tl.spare[:n-1]
			c.hist.Reset() // keeps the buckets' memory
			c.ok, c.errors, c.reuse = 0, 0, 0
		} else {
			c = &cell{}
		}
		iv.classes[class] = c
	}
	return c
}

// Advance emits every interval that ended more than the horizon before now.
func (tl *Timeline) Advance(now time.Time) error {
	limit := int64((now.Sub(tl.start) - tl.horizon) / tl.step)
	return tl.flushBelow(limit)
}

// Close emits every interval still held.
func (tl *Timeline) Close() error {
	var last int64 = -1
	for idx := range tl.open {
		last = max(last, idx)
	}
	return tl.flushBelow(last + 1)
}

func (tl *Timeline) flushBelow(limit int64) error {
	if limit <= tl.flushed {
		return nil
	}
	var idxs []int64
	for idx := range tl.open {
		if idx < limit {
			idxs = append(idxs, idx)
		}
	}
	slices.Sort(idxs)
	for _, idx := range idxs {
		iv := tl.open[idx]
		delete(tl.open, idx)
		if iv == tl.last {
			tl.last = nil
		}
		for _, class := range append(slices.Clone(tl.classes), AllClasses) {
			c := iv.classes[class]
			if c == nil {
				continue
			}
			h := &c.hist
			row := rundir.TimelineRow{
				T:        (time.Duration(idx) * tl.step).Seconds(),
				Interval: tl.step.Seconds(),
				Class:    class,
				Count:    h.Count(),
				OK:       c.ok,
				Errors:   c.errors,
				P50:      h.Quantile(0.50).Seconds(),
				P90:      h.Quantile(0.90).Seconds(),
				P99:      h.Quantile(0.99).Seconds(),
				Max:      h.Max().Seconds(),

				ReuseFailures: c.reuse,
			}
			tl.spare = append(tl.spare, c)
			if err := tl.emit(row); err != nil {
				return err
			}
		}
	}
	tl.flushed = limit
	return nil
}
