// Package attack turns a scenario's phases and traffic mix into the pieces
// a vegeta Attacker runs: a Pacer that follows the phases one after another
// (constant rates, linear ramps and closed-model phases with a fixed number
// of clients) and a weighted, seeded Targeter that tags every request with
// its class. The Pacer also records when each request was due, so the
// harness can measure how late it sent them.
package attack

import (
	"math"
	"sync/atomic"
	"time"
)

// Segment is one phase of the load. With Concurrency > 0 it is a
// closed-model phase: Concurrency clients send back to back. Otherwise it
// is an open-model phase whose rate goes linearly from From to To requests
// per second (From == To for a constant rate).
type Segment struct {
	Name        string
	Duration    time.Duration
	From, To    float64
	Concurrency int
	// Poisson makes an open-model segment's arrivals random (see
	// arrivals) instead of evenly spaced.
	Poisson bool
	// Weights are the request classes' weights in this segment, in the
	// order of the Targeter's classes; nil keeps the classes' own.
	Weights []float64
}

// Open reports whether s is an open-model (paced) phase.
func (s Segment) Open() bool { return s.Concurrency <= 0 }

// Hits returns the number of requests an open-model segment is due to send
// in its first t (0 for closed-model segments).
func (s Segment) Hits(t time.Duration) float64 {
	if !s.Open() || t <= 0 {
		return 0
	}
	if t > s.Duration {
		t = s.Duration
	}
	x := t.Seconds()
	slope := (s.To - s.From) / s.Duration.Seconds()
	return s.From*x + slope*x*x/2
}

// due returns the offset into an open segment at which its n-th request
// (counting from 0) is due, and false when the segment sends fewer than
// n+1 requests.
func (s Segment) due(n uint64) (time.Duration, bool) {
	return s.offset(float64(n))
}

// offset returns the offset into an open segment by which it is due to
// have sent nf requests (the inverse of Hits), and false when that is at
// or after its end.
func (s Segment) offset(nf float64) (time.Duration, bool) {
	// Solve From*x + slope/2*x² = nf for the smallest x ≥ 0, in the
	// numerically stable form 2nf / (b + sqrt(b² + 4a·nf)).
	a := (s.To - s.From) / s.Duration.Seconds() / 2
	b := s.From
	var x float64
	switch {
	case nf == 0:
		x = 0
		if b <= 0 && a <= 0 {
			return 0, false
		}
	default:
		disc := b*b + 4*a*nf
		if disc < 0 {
			return 0, false
		}
		den := b + math.Sqrt(disc)
		if den <= 0 {
			return 0, false
		}
		x = 2 * nf / den
	}
	d := time.Duration(x * float64(time.Second))
	if d >= s.Duration {
		return 0, false
	}
	return d, true
}

// lagSlots is the size of the ring of due times: the number of requests
// that can be in flight at once and still have their send lag measured.
const lagSlots = 1 << 16

// Pacer paces one attack through a list of segments. It implements
// vegeta.Pacer. Pace must be called from one goroutine (as vegeta does);
// Done and Due may be called from any goroutine.
type Pacer struct {
	segs   []Segment
	starts []time.Duration
	total  time.Duration

	stop <-chan struct{}
	wake chan struct{}

	// workers is the attacker's number of workers when every segment is
	// closed-model (the largest concurrency), 0 when it is unbounded.
	workers int

	cur     int    // index of the current segment
	entered bool   // whether the current segment has been entered
	base    uint64 // hits when the current segment was entered
	began   time.Time

	completed atomic.Uint64
	timer     *time.Timer
	// end fires at the end of the current closed-model segment; it is
	// armed once per segment (endFor is that segment's index plus one, 0
	// when unarmed), not once per request.
	end    *time.Timer
	endFor int

	// shard is the stripe of the schedule this Pacer sends (shard.go);
	// offsets are the global index of each segment's first open-model
	// request; ticks hands each request's index to IndexedTargeter.
	shard    Shard
	offsets  []uint64
	ticks    tickQueue
	closedN  uint64
	indexed  bool // whether ticks are pushed (IndexedTargeter)
	anchored bool

	// seed seeds the arrivals of Poisson segments; arr is the current
	// segment's (nil for evenly spaced ones).
	seed uint64
	arr  *arrivals

	// now and fakeSleep replace the clock in tests.
	now       func() time.Time
	fakeSleep func(time.Duration)

	// Ring of due times by hit number: slot i%lagSlots holds hit i's
	// number plus one (0 = empty) and its due time in Unix nanoseconds
	// (0 for closed-model hits, which have no schedule).
	slotHit [lagSlots]atomic.Uint64
	slotDue [lagSlots]atomic.Int64
}

// NewPacer returns a Pacer over segs. Closing stop makes a Pace call that
// is waiting for a free client return at once with stop = true.
func NewPacer(segs []Segment, stop <-chan struct{}) *Pacer {
	p := &Pacer{segs: segs, stop: stop, wake: make(chan struct{}, 1)}
	closed := len(segs) > 0
	for _, s := range segs {
		p.starts = append(p.starts, p.total)
		p.total += s.Duration
		closed = closed && !s.Open()
		p.workers = max(p.workers, s.Concurrency)
	}
	if !closed {
		p.workers = 0
	}
	return p
}

// Workers returns the number of workers the attacker must run with
// (vegeta.Workers and vegeta.MaxWorkers) when every segment is
// closed-model: the largest concurrency. It returns 0 when there are
// open-model segments, whose workers must not be bounded.
//
// With that many workers, a segment of the largest concurrency keeps it
// in flight as vegeta attack -rate=0 -max-workers does: Pace lets one
// request more be scheduled, which waits in the attacker until a worker
// is free and goes out at once, instead of waiting for the harness to
// see a result before it schedules the next.
func (p *Pacer) Workers() int { return p.workers }

// Total returns the summed duration of all segments.
func (p *Pacer) Total() time.Duration { return p.total }

// Starts returns the offset at which each segment begins.
func (p *Pacer) Starts() []time.Duration { return p.starts }

// Done records that a request has completed; closed-model phases use it
// to keep exactly Concurrency requests in flight.
func (p *Pacer) Done() {
	p.completed.Add(1)
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Due returns the time at which the request with sequence number seq was
// due to be sent, and false when it had no schedule (closed-model phases)
// or is no longer remembered.
func (p *Pacer) Due(seq uint64) (time.Time, bool) {
	i := seq % lagSlots
	if p.slotHit[i].Load() != seq+1 {
		return time.Time{}, false
	}
	d := p.slotDue[i].Load()
	if d == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, d), true
}

func (p *Pacer) record(hit uint64, due time.Time) {
	i := hit % lagSlots
	var ns int64
	if !due.IsZero() {
		ns = due.UnixNano()
	}
	p.slotDue[i].Store(ns)
	p.slotHit[i].Store(hit + 1)
}

// Pace implements vegeta.Pacer. vegeta sends a request after every call,
// once the returned wait has passed, and does not watch for Stop while it
// waits; so Pace itself waits, watching the stop channel, until the next
// request is due (or a client is free, in a closed-model phase), and then
// returns 0. It returns stop = true once every segment has run and every
// open-model request due has been sent (see advance), which may be after
// an idle stretch with nothing to send.
func (p *Pacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if p.began.IsZero() {
		p.began = p.clock().Add(-elapsed)
	} else if p.anchored {
		elapsed = p.clock().Sub(p.began)
	}
	if len(p.segs) == 0 {
		return 0, true
	}
	for {
		select {
		case <-p.stop:
			return 0, true
		default:
		}
		p.advance(elapsed, hits)
		if elapsed >= p.total && !p.owes(hits) {
			return 0, true
		}
		var send, ok bool
		if p.segs[p.cur].Open() {
			send, ok = p.paceOpen(elapsed, hits)
		} else {
			send, ok = p.paceClosed(elapsed, hits)
		}
		if !ok {
			return 0, true
		}
		if send {
			return 0, false
		}
		elapsed = p.clock().Sub(p.began)
	}
}

// paceClosed is a step of a closed-model segment: with a client free, it
// records the request to send (send true); otherwise it waits for a client
// to finish, the segment to end or a stop (ok false).
func (p *Pacer) paceClosed(elapsed time.Duration, hits uint64) (send, ok bool) {
	seg := p.segs[p.cur]
	inflight := int64(hits - p.completed.Load())
	limit := int64(seg.Concurrency)
	if p.workers > 0 && seg.Concurrency >= p.workers {
		limit++ // the workers bound the requests in flight
	}
	if inflight < limit {
		p.record(hits, time.Time{})
		p.push(false, 0)
		return true, true
	}
	return false, p.waitClient(p.starts[p.cur] + seg.Duration - elapsed)
}

// paceOpen is a step of an open-model segment: when this shard's next
// request of the schedule is due, it records it (send true); otherwise it
// sleeps until it is due, or until the segment's end when the schedule has
// no more, or a stop (ok false).
func (p *Pacer) paceOpen(elapsed time.Duration, hits uint64) (send, ok bool) {
	seg := p.segs[p.cur]
	// n is this shard's next request's place in the segment's schedule
	// (hits-p.base itself for the single process).
	n, k := p.own(p.cur, hits-p.base)
	var off time.Duration
	var has bool
	if p.arr != nil {
		off, has = p.arr.due(n)
	} else {
		off, has = seg.due(n)
	}
	wait := p.starts[p.cur] + seg.Duration - elapsed // nothing more: the next segment
	if has {
		due := p.starts[p.cur] + off
		if elapsed >= due {
			p.record(hits, p.began.Add(due))
			p.push(true, k)
			return true, true
		}
		wait = due - elapsed
	}
	return false, p.sleep(wait, nil)
}

// advance enters the segment elapsed falls in. A segment that has ended
// is left only once it owes nothing: an open-model segment's requests due
// before its end are all sent, late if the Pacer was (a stalled machine,
// a shard that started late), rather than dropped, so every open-model
// segment sends its whole schedule and its lateness shows as send lag.
func (p *Pacer) advance(elapsed time.Duration, hits uint64) {
	for {
		if !p.entered {
			p.entered = true
			p.base = hits
			p.arr = nil
			if s := p.segs[p.cur]; s.Open() && s.Poisson {
				p.arr = newArrivals(s, p.seed, p.cur)
			}
		}
		if p.cur == len(p.segs)-1 || elapsed < p.starts[p.cur+1] || p.owes(hits) {
			return
		}
		p.cur++
		p.entered = false
	}
}

// owes reports whether the current segment, entered, has a request of its
// schedule (this shard's stripe of it) still to send: always false for a
// closed-model segment, which has no schedule.
func (p *Pacer) owes(hits uint64) bool {
	seg := p.segs[p.cur]
	if !seg.Open() {
		return false
	}
	n, _ := p.own(p.cur, hits-p.base)
	var ok bool
	if p.arr != nil {
		_, ok = p.arr.due(n)
	} else {
		_, ok = seg.due(n)
	}
	return ok
}

func (p *Pacer) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

// sleep waits for d, a value on wake, or a stop; false on a stop.
func (p *Pacer) sleep(d time.Duration, wake <-chan struct{}) bool {
	if p.fakeSleep != nil {
		p.fakeSleep(d)
		return true
	}
	if p.timer == nil {
		p.timer = time.NewTimer(d)
	} else {
		p.timer.Reset(d)
	}
	select {
	case <-p.timer.C:
		return true
	case <-wake:
		p.timer.Stop()
		return true
	case <-p.stop:
		p.timer.Stop()
		return false
	}
}

// waitClient waits, in a closed-model segment that ends after d, for a
// client to finish, the segment to end or a stop; false on a stop. Such a
// segment waits once per request, so the timer for its end is armed once
// rather than reset on every wait.
func (p *Pacer) waitClient(d time.Duration) bool {
	if p.fakeSleep != nil {
		p.fakeSleep(d)
		return true
	}
	if p.endFor != p.cur+1 {
		p.endFor = p.cur + 1
		if p.end == nil {
			p.end = time.NewTimer(d)
		} else {
			p.end.Reset(d)
		}
	}
	select {
	case <-p.end.C:
		p.endFor = 0 // re-armed with what is left, if anything
		return true
	case <-p.wake:
		return true
	case <-p.stop:
		p.end.Stop()
		p.endFor = 0
		return false
	}
}

// Rate implements vegeta.Pacer: the requested rate at elapsed, in
// requests per second (0 in closed-model phases and after the end).
func (p *Pacer) Rate(elapsed time.Duration) float64 {
	for i := len(p.segs) - 1; i >= 0; i-- {
		if elapsed >= p.starts[i] {
			s := p.segs[i]
			if !s.Open() || elapsed >= p.starts[i]+s.Duration {
				return 0
			}
			x := (elapsed - p.starts[i]).Seconds() / s.Duration.Seconds()
			return s.From + (s.To-s.From)*x
		}
	}
	return 0
}
