package analysis

import (
	"math"
	"sort"
	"strconv"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// leakOptions say how the per-class leak fit reads a run: the response
// header that names the worker, and the seconds of warm-up left out.
type leakOptions struct {
	header string
	warmup float64
}

// leakLife is one worker life: its memory samples and, at each, the
// responses of each class it had served.
type leakLife struct {
	rss, pss []float64            // pss nil when not read
	counts   map[string][]float64 // by class, one per sample
}

// classLog counts, from one pass over the results, the responses of each
// class each worker served, by completion time in steps of servedStep.
type classLog struct {
	pidHeader string
	counts    map[classStep]int64
}

type classStep struct {
	pid   int
	step  int64
	class string
}

func newClassLog(pidHeader string) *classLog {
	return &classLog{pidHeader: pidHeader, counts: map[classStep]int64{}}
}

// add counts a response of class that completed at t, if it names its
// worker.
func (l *classLog) add(res *vegeta.Result, class string, t float64) {
	if len(res.Headers) == 0 {
		return
	}
	pid, err := strconv.Atoi(res.Headers.Get(l.pidHeader))
	if err != nil || pid <= 0 {
		return
	}
	l.counts[classStep{pid, step(t), class}]++
}

// cumulative is one worker's responses of one class: by the end of
// ends[i], n[i] in all.
type cumulative struct {
	ends []float64
	n    []float64
}

// at returns the responses counted by t, linear within a step.
func (c cumulative) at(t float64) float64 {
	i := sort.SearchFloat64s(c.ends, t)
	if i == len(c.ends) {
		return c.n[len(c.n)-1]
	}
	prev := 0.0
	if i > 0 {
		prev = c.n[i-1]
	}
	lo := c.ends[i] - servedStep
	if t <= lo {
		return prev
	}
	return prev + (c.n[i]-prev)*(t-lo)/servedStep
}

// series returns, per worker pid and class, the cumulative counts.
func (l *classLog) series() map[int]map[string]cumulative {
	type key struct {
		pid   int
		class string
	}
	steps := map[key][]int64{}
	for k := range l.counts {
		kk := key{k.pid, k.class}
		steps[kk] = append(steps[kk], k.step)
	}
	out := map[int]map[string]cumulative{}
	for k, ss := range steps {
		sort.Slice(ss, func(i, j int) bool { return ss[i] < ss[j] })
		c := cumulative{}
		total := 0.0
		for _, s := range ss {
			total += float64(l.counts[classStep{k.pid, s, k.class}])
			c.ends = append(c.ends, float64(s+1)*servedStep)
			c.n = append(c.n, total)
		}
		if out[k.pid] == nil {
			out[k.pid] = map[string]cumulative{}
		}
		out[k.pid][k.class] = c
	}
	return out
}

// leakLives builds the worker lives of one run: each worker that named
// itself in a response, its samples from warmup (seconds of load) up to
// its exit (or the stop of the target), at least two of them.
func leakLives(workers map[int][]memPoint, counts map[int]map[string]cumulative, exits []Exit, warmup, stop float64) []leakLife {
	exitAt := map[int]float64{}
	for _, x := range exits {
		exitAt[x.PID] = x.T
	}
	pids := make([]int, 0, len(workers))
	for pid := range workers {
		if counts[pid] != nil {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	var lives []leakLife
	for _, pid := range pids {
		end := stop
		if t, ok := exitAt[pid]; ok {
			end = math.Min(end, t)
		}
		life := leakLife{counts: map[string][]float64{}}
		havePSS := true
		for _, p := range workers[pid] {
			if p.T > end || p.T < warmup {
				continue
			}
			life.rss = append(life.rss, float64(p.RSS))
			life.pss = append(life.pss, float64(p.PSS))
			havePSS = havePSS && p.PSS >= 0
			for class, c := range counts[pid] {
				life.counts[class] = append(life.counts[class], c.at(p.T))
			}
		}
		if len(life.rss) < 2 {
			continue
		}
		if !havePSS {
			life.pss = nil
		}
		lives = append(lives, life)
	}
	return lives
}
