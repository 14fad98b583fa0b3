package analysis

import (
	"sort"
	"strconv"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/internal/metric"
)

// Response headers by which a target says which worker served a request
// and how many that worker had served, this one included. The built-in
// server and the testdata apps send them.
const (
	HeaderWorkerPid      = metric.HeaderWorkerPid
	HeaderWorkerRequests = metric.HeaderWorkerRequests
)

// servedStep is the resolution, in seconds, of the requests-served series
// kept per worker: one point per step bounds its memory by the length of
// the run, not the number of requests.
const servedStep = 0.1

// servedPoint says that a worker had served N requests by T (seconds
// since the start of the run).
type servedPoint struct {
	T float64
	N int64
}

// servedLog collects, from the response headers of one pass over the
// results, each worker's requests served over time.
type servedLog struct {
	// pidHeader names the worker; HeaderWorkerPid when empty.
	pidHeader string
	byPID     map[int][]servedPoint
}

// add records a response that completed at t, if it carries both
// headers. Within a step only the point with the most requests is kept.
func (s *servedLog) add(res *vegeta.Result, t float64) {
	if len(res.Headers) == 0 {
		return
	}
	name := s.pidHeader
	if name == "" {
		name = HeaderWorkerPid
	}
	pid, err := strconv.Atoi(res.Headers.Get(name))
	if err != nil || pid <= 0 {
		return
	}
	n, err := strconv.ParseInt(res.Headers.Get(HeaderWorkerRequests), 10, 64)
	if err != nil || n <= 0 {
		return
	}
	if s.byPID == nil {
		s.byPID = map[int][]servedPoint{}
	}
	pts := s.byPID[pid]
	if k := len(pts); k > 0 && step(pts[k-1].T) == step(t) {
		if n > pts[k-1].N {
			pts[k-1] = servedPoint{t, n}
		}
		return
	}
	s.byPID[pid] = append(pts, servedPoint{t, n})
}

func step(t float64) int64 { return int64(t / servedStep) }

// series returns each worker's points in time order, one per step, with
// the count never decreasing (responses of a threaded worker may
// complete out of the order they were counted in).
func (s *servedLog) series() map[int][]servedPoint {
	for pid, pts := range s.byPID {
		sort.SliceStable(pts, func(i, j int) bool { return pts[i].T < pts[j].T })
		out := pts[:0]
		for _, p := range pts {
			if k := len(out); k > 0 && p.N < out[k-1].N {
				p.N = out[k-1].N
			}
			if k := len(out); k > 0 && step(out[k-1].T) == step(p.T) {
				out[k-1] = p
				continue
			}
			out = append(out, p)
		}
		s.byPID[pid] = out
	}
	return s.byPID
}

// servedBy returns the requests a worker had served at t, interpolated
// linearly between its points (the last count after the last point), and
// false before its first point, when it is not known.
func servedBy(pts []servedPoint, t float64) (float64, bool) {
	if len(pts) == 0 || t < pts[0].T {
		return 0, false
	}
	i := sort.Search(len(pts), func(i int) bool { return pts[i].T > t })
	if i == len(pts) {
		return float64(pts[i-1].N), true
	}
	a, b := pts[i-1], pts[i]
	return float64(a.N) + float64(b.N-a.N)*(t-a.T)/(b.T-a.T), true
}
