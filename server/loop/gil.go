package loop

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// GIL is a process-wide lock modelled on CPython's global interpreter lock
// with forced switching (CPython 3.2 and later):
//
//   - a goroutine runs "Python code" only while it holds the GIL;
//   - a goroutine that has waited a whole switch interval for the GIL without
//     any switch happening sets a drop request;
//   - the holder checks for the request at its next switch point (Yield) and
//     hands the GIL over; hand-off is first come, first served, and the
//     goroutine that dropped it queues behind the waiters, so it cannot take
//     it straight back.
//
// Blocking calls (sleeps, socket I/O) release the GIL around the wait; see
// Blocking, and Syscall for calls that return at once. A nil *GIL is valid
// and does nothing, which models work that runs without the GIL.
type GIL struct {
	interval time.Duration
	loss     [numCallKinds]float64 // the fraction of Syscalls of each kind that hand the GIL over
	drop     atomic.Bool

	mu       sync.Mutex
	locked   bool
	switches uint64
	releases uint64 // Syscalls the caller kept the GIL through
	drops    uint64
	waiters  []chan struct{}
}

// NewGIL returns an unlocked GIL with the given switch interval.
func NewGIL(switchInterval time.Duration) *GIL {
	return &GIL{interval: switchInterval, loss: releaseLoss}
}

// Acquire takes the GIL, waiting if another goroutine holds it. After each
// switch interval spent waiting with no switch in between, it asks the
// holder to drop the GIL.
func (g *GIL) Acquire() {
	if g == nil {
		return
	}
	g.mu.Lock()
	if !g.locked && len(g.waiters) == 0 {
		g.locked = true
		g.switches++
		g.mu.Unlock()
		return
	}
	g.wait() // unlocks g.mu
}

// wait queues the caller for the GIL and waits until it is handed over,
// making drop requests meanwhile. It is called with g.mu held and unlocks
// it.
func (g *GIL) wait() {
	ch := make(chan struct{})
	g.waiters = append(g.waiters, ch)
	sn, rn := g.switches, g.releases
	g.mu.Unlock()

	t := time.NewTimer(g.interval)
	defer t.Stop()
	asked := false
	for {
		select {
		case <-ch:
			return // handed over by Release: we hold it now
		case <-t.C:
			// A Syscall kept by its caller still woke the waiters,
			// which start their wait afresh, as in CPython.
			g.mu.Lock()
			if g.switches == sn && g.releases == rn {
				g.drop.Store(true)
				// Once per wait: a holder the OS has
				// descheduled may need asking again.
				if !asked {
					g.drops++
					asked = true
				}
			}
			sn, rn = g.switches, g.releases
			g.mu.Unlock()
			t.Reset(g.interval)
		}
	}
}

// Release drops the GIL, handing it to the longest waiter if there is one.
func (g *GIL) Release() {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releaseLocked()
}

func (g *GIL) releaseLocked() {
	g.drop.Store(false)
	if len(g.waiters) == 0 {
		g.locked = false
		return
	}
	ch := g.waiters[0]
	g.waiters[0] = nil
	g.waiters = g.waiters[1:]
	g.switches++
	close(ch)
}

// Yield is a switch point: if another goroutine has asked for the GIL, the
// holder hands it over and, in the same step, queues to take it back, as
// CPython's forced switch does: the holder is a waiter again before the new
// holder can release. It is cheap when nobody is waiting. The caller must
// hold the GIL. Its method value fits workload.Yield.
func (g *GIL) Yield() {
	if g == nil || !g.drop.Load() {
		return
	}
	g.mu.Lock()
	if len(g.waiters) == 0 {
		g.drop.Store(false)
		g.mu.Unlock()
		return
	}
	g.releaseLocked()
	g.wait() // unlocks g.mu
}

// Blocking runs f with the GIL released and takes it again afterwards, as
// CPython does around time.sleep and socket calls. The caller must hold the
// GIL. Taking it back may cost a switch interval when another goroutine is
// running CPU work, the convoy effect.
func (g *GIL) Blocking(f func()) {
	g.Release()
	defer g.Acquire()
	f()
}

// Syscall is a blocking call of the given kind that returns at once: a
// recvfrom of bytes already there, a sendto into an empty socket buffer, an
// epoll_wait with events ready. CPython releases the GIL around it too, but
// a thread waiting for the GIL must first be woken by the OS, and often the
// caller has taken the GIL back by then: only a fraction of such releases,
// which depends on how long the call takes (releaseLoss, cpython.go), hands
// the GIL to a waiter, and those cost the caller a forced switch to get it
// back. The others still wake the waiters, which start their switch interval
// afresh. The caller must hold the GIL.
func (g *GIL) Syscall(kind CallKind) {
	if g == nil {
		return
	}
	if loss := g.loss[kind]; loss >= 1 || (loss > 0 && rand.Float64() < loss) {
		g.Release()
		g.Acquire()
		return
	}
	g.mu.Lock()
	g.releases++
	g.mu.Unlock()
}

// Switches returns how many times the GIL has changed hands (or been taken
// while free).
func (g *GIL) Switches() uint64 {
	if g == nil {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.switches
}

// DropRequests returns how many waits for the GIL needed a drop request: a
// whole switch interval spent waiting for a holder that did not let go, the
// forced switches of the convoy effect. A wait counts once even when it has
// to ask again after another interval (a holder the OS has descheduled on a
// loaded machine does not reach its switch point in time), so the count
// follows the lost release points, not the machine's load.
func (g *GIL) DropRequests() uint64 {
	if g == nil {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.drops
}
