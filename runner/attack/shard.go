package attack

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Shard is one of Count processes that together send one global
// schedule, as k6's execution segments do: the open-model requests of
// one Pacer's schedule (one stream's, in a scenario with several; evenly
// spaced or Poisson, as Schedule plans them) are numbered 0, 1, 2... in
// the order they are due, and shard
// Index sends request k when k mod Count == Index, at the time the single
// process would have sent it. The union of the shards' send times is
// then exactly the single-process plan. A closed-model phase has no
// schedule to stripe; its clients are split between the shards as evenly
// as possible (see Clients). The zero Shard is the single process.
type Shard struct {
	Index, Count int
}

// ParseShard parses "I/N" with 0 <= I < N.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want I/N with 0 <= I < N, e.g. 0/4", s)
	}
	return Shard{Index: i, Count: n}, nil
}

// Sharded reports whether sh is one of several processes.
func (sh Shard) Sharded() bool { return sh.Count > 1 }

// String returns "I/N".
func (sh Shard) String() string { return fmt.Sprintf("%d/%d", sh.Index, sh.count()) }

func (sh Shard) count() int { return max(sh.Count, 1) }

// Clients returns this shard's share of c clients of a closed-model
// phase: c/N, one more for the first c mod N shards, so the shares sum to
// c and differ by at most one. A shard whose share is 0 idles through the
// phase.
func (sh Shard) Clients(c int) int {
	n := sh.count()
	share := c / n
	if sh.Index < c%n {
		share++
	}
	return share
}

// Segments returns the segments shard sh runs: open-model segments as
// they are (the Pacer takes its stripe of their schedule), closed-model
// ones with the shard's share of the clients (an idle segment when that
// is 0).
func (sh Shard) Segments(segs []Segment) []Segment {
	out := make([]Segment, len(segs))
	for i, s := range segs {
		out[i] = s
		if !s.Open() {
			out[i].Concurrency = sh.Clients(s.Concurrency)
		}
	}
	return out
}

// Share returns the load shard sh carries of segs, for accounting (the
// requested rate of the shard): open-model rates divided by N, closed
// clients split as Segments does, except that a closed-model segment
// whose share is 0 stays closed-model with its clients (it has no rate
// to account, and as an open segment of rate 0 it would dilute the
// shard's requested rate). The Pacer runs Segments, not this.
func (sh Shard) Share(segs []Segment) []Segment {
	out := sh.Segments(segs)
	n := float64(sh.count())
	for i := range out {
		switch {
		case segs[i].Open():
			out[i].From, out[i].To = segs[i].From/n, segs[i].To/n
		case out[i].Concurrency == 0:
			out[i].Concurrency = segs[i].Concurrency
		}
	}
	return out
}

// Count returns the number of requests an open-model segment sends (0
// for a closed-model one): the n for which due(n) is the first to fail,
// or for a Poisson segment the count its arrivals are conditioned on.
func (s Segment) Count() uint64 {
	if !s.Open() {
		return 0
	}
	if s.Poisson {
		return s.poissonCount()
	}
	if _, ok := s.due(0); !ok {
		return 0
	}
	hi := uint64(math.Ceil(max(s.Hits(s.Duration), 0))) + 2
	for {
		if _, ok := s.due(hi); !ok {
			break
		}
		hi *= 2
	}
	// due(n) is true for n < count and false from count on.
	return uint64(sort.Search(int(hi), func(n int) bool {
		_, ok := s.due(uint64(n))
		return !ok
	}))
}

// offsets returns the global index of the first open-model request of
// each segment.
func offsets(segs []Segment) []uint64 {
	out := make([]uint64, len(segs))
	var k uint64
	for i, s := range segs {
		out[i] = k
		k += s.Count()
	}
	return out
}

// own maps the m-th request of this shard in segment seg to the index n
// of that request in the segment's schedule and its global index k.
func (p *Pacer) own(seg int, m uint64) (n, k uint64) {
	if p.offsets == nil {
		p.offsets = offsets(p.segs)
	}
	c := uint64(p.shard.count())
	i := uint64(p.shard.Index)
	first := p.offsets[seg]
	// The first global index at or after first that is this shard's.
	first += (i + c - first%c) % c
	k = first + m*c
	return k - p.offsets[seg], k
}

// NewShardPacer returns the Pacer of shard sh over the global segments
// segs: it sends sh's stripe of the open-model schedule and sh's share of
// every closed-model phase's clients. segs are the segments of the whole
// run, as the single process would run them.
func NewShardPacer(segs []Segment, sh Shard, stop <-chan struct{}) *Pacer {
	p := NewPacer(sh.Segments(segs), stop)
	p.shard = sh
	p.offsets = offsets(segs)
	return p
}

// Anchor makes the schedule start at t0 instead of when the attack
// began, so shards started at slightly different moments keep one clock.
// Requests already due when the attack begins (a shard that started
// late) are sent at once and measured as sent late. Call it before the
// attack.
func (p *Pacer) Anchor(t0 time.Time) {
	p.began = t0
	p.anchored = true
}

// tick is one request as the Pacer scheduled it: its global index and
// the index of its segment.
type tick struct {
	k   uint64
	seg int
}

// tickQueue hands the Pacer's ticks, in order, to the targeter.
type tickQueue struct {
	mu   sync.Mutex
	buf  []tick
	head int
}

func (q *tickQueue) push(t tick) {
	q.mu.Lock()
	if q.head > 0 && q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
	q.buf = append(q.buf, t)
	q.mu.Unlock()
}

func (q *tickQueue) pop() (tick, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.buf) {
		return tick{}, false
	}
	t := q.buf[q.head]
	q.head++
	return t, true
}

// closedBase is where the indexes of closed-model requests begin: they
// have no global schedule, so each shard numbers its own from
// closedBase + Index<<40.
const closedBase = 1 << 62

// push records that the request about to be sent is the one of global
// index k (open model) or the next closed-model one (k ignored).
func (p *Pacer) push(open bool, k uint64) {
	if !open {
		k = closedBase + uint64(p.shard.Index)<<40 + p.closedN
		p.closedN++
	}
	if !p.indexed {
		return // no IndexedTargeter takes them
	}
	p.ticks.push(tick{k: k, seg: p.cur})
}

// IndexedTargeter returns a vegeta.Targeter that picks each request's
// class from its global index, as the Pacer scheduled it: request k of a
// segment with weights ws gets the class a uniform draw u(seed, k) falls
// in. So the class of a request depends on the seed and its place in the
// global schedule alone, and shard I/N picks, for each of its requests,
// the class the single process would. weights are the segments' weights
// (nil entries: the classes' own). Call it before the attack begins.
//
// vegeta's workers take the Pacer's ticks in order but may call the
// targeter a moment out of order, so two requests due within the same
// instant can swap their classes; the classes of the run as a whole, and
// of each index, are unchanged. Should the Pacer have no tick (it always
// does), the class comes from t's own sequence.
func IndexedTargeter(t *Targeter, p *Pacer, weights [][]float64, seed int64) vegeta.Targeter {
	own := make([]float64, len(t.classes))
	for i, c := range t.classes {
		own[i] = c.Weight
	}
	cums := make([][]float64, len(weights))
	for i, ws := range weights {
		if ws == nil {
			ws = own
		}
		cums[i] = cumulative(ws)
	}
	mix := splitmix(uint64(seed))
	p.indexed = true
	return func(tgt *vegeta.Target) error {
		i := -1
		if tk, ok := p.ticks.pop(); ok && tk.seg < len(cums) {
			u := float64(splitmix(mix+tk.k*0x9e3779b97f4a7c15)>>11) / (1 << 53)
			i = pick(cums[tk.seg], u)
		}
		if i < 0 {
			i = t.Next()
		}
		t.fill(tgt, i)
		return nil
	}
}

// ClassAt returns the class IndexedTargeter picks for global index k in a
// segment with weights ws (nil: the classes' own), for tests and tools.
func (t *Targeter) ClassAt(ws []float64, seed int64, k uint64) int {
	if ws == nil {
		ws = make([]float64, len(t.classes))
		for i, c := range t.classes {
			ws[i] = c.Weight
		}
	}
	u := float64(splitmix(splitmix(uint64(seed))+k*0x9e3779b97f4a7c15)>>11) / (1 << 53)
	return pick(cumulative(ws), u)
}

func cumulative(ws []float64) []float64 {
	cum := make([]float64, len(ws))
	sum := 0.0
	for i, w := range ws {
		sum += max(w, 0)
		cum[i] = sum
	}
	return cum
}

// pick returns the class whose cumulative weight u (in [0, 1)) of the
// total falls in, skipping zero-weight classes; -1 when all are zero.
func pick(cum []float64, u float64) int {
	if len(cum) == 0 || cum[len(cum)-1] <= 0 {
		return -1
	}
	x := u * cum[len(cum)-1]
	i := sort.SearchFloat64s(cum, x)
	for i < len(cum)-1 && cum[i] <= x {
		i++
	}
	return i
}

// splitmix is SplitMix64's output function: it maps consecutive inputs
// to well-spread 64-bit values.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
