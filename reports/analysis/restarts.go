package analysis

import (
	"math"
	"sort"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

// Event sources that see worker processes, most precise first: the
// built-in server's own events, target log patterns, the process-tree
// sampler, worker series read from Prometheus (as coarse as its scrape
// interval). Other sources (the runner) say nothing about workers.
const (
	rankServer = iota
	rankLog
	rankTree
	rankPrometheus
	nSources
)

// sourceRank returns the precision rank of an event source, and false for
// a source that does not see workers.
func sourceRank(src string) (int, bool) {
	switch src {
	case "server":
		return rankServer, true
	case "log":
		return rankLog, true
	case "tree":
		return rankTree, true
	case "prometheus":
		return rankPrometheus, true
	}
	return 0, false
}

// sourceName is the inverse of sourceRank.
func sourceName(rank int) string {
	return [nSources]string{"server", "log", "tree", "prometheus"}[rank]
}

// life is one worker process from its spawn to its exit, merged from
// every source that saw it. Each time is the one of the most precise
// source that recorded it; the rank fields say which source that was.
type life struct {
	pid int

	hasSpawn  bool
	spawn     float64
	spawnRank int

	hasReady bool
	ready    float64

	// retiring is the first retiring event (the restart began), and
	// retireReason the reason of the latest one that gave a reason.
	hasRetiring  bool
	retiring     float64
	retireReason string

	hasExit      bool
	exit         float64
	exitRank     int
	exitReason   string
	reasonRank   int
	requests     int64
	requestsRank int
	exitedBy     [nSources]bool // which sources saw the exit
}

// reason is the exit's reason: the exit event's own (from the most
// precise source that gave one), else the latest retiring event's, else
// "unknown".
func (l *life) reason() string {
	switch {
	case l.exitReason != "":
		return l.exitReason
	case l.retireReason != "":
		return l.retireReason
	}
	return "unknown"
}

// workerLives merges the worker events of every source into one life per
// worker process, so that an exit seen by the server, the log and the
// process tree is one exit. Events of a pid belong to its current life
// until a source that already saw that life end reports the pid again
// (a reused pid). Events of non-workers are ignored.
func workerLives(events []rundir.Event, isWorker func(pid int) bool) []*life {
	sorted := make([]rundir.Event, 0, len(events))
	for _, e := range events {
		if _, ok := sourceRank(e.Source); ok && e.PID != 0 && isWorker(e.PID) {
			sorted = append(sorted, e)
		}
	}
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].T < sorted[j].T })

	var lives []*life
	cur := map[int]*life{}
	for _, e := range sorted {
		rank, _ := sourceRank(e.Source)
		l := cur[e.PID]
		if l == nil || l.exitedBy[rank] {
			l = &life{pid: e.PID}
			cur[e.PID] = l
			lives = append(lives, l)
		}
		switch e.Event {
		case "spawn":
			if !l.hasSpawn || rank < l.spawnRank {
				l.hasSpawn, l.spawn, l.spawnRank = true, e.T, rank
			}
		case "ready":
			if !l.hasReady {
				l.hasReady, l.ready = true, e.T
			}
		case "retiring":
			if !l.hasRetiring {
				l.hasRetiring, l.retiring = true, e.T
			}
			if e.Reason != "" {
				l.retireReason = e.Reason
			}
		case "exit":
			l.exitedBy[rank] = true
			if !l.hasExit || rank < l.exitRank {
				l.hasExit, l.exit, l.exitRank = true, e.T, rank
			}
			if e.Reason != "" && (l.exitReason == "" || rank < l.reasonRank) {
				l.exitReason, l.reasonRank = e.Reason, rank
			}
			if e.Requests > 0 && (l.requests == 0 || rank < l.requestsRank) {
				l.requests, l.requestsRank = e.Requests, rank
			}
		}
	}
	return lives
}

// stopTime returns the seconds from the start of the attack until the
// runner began to stop the target: RunInfo.End (the last response was
// in), or the runner's stop event (written once the target has exited)
// when End is unknown, whichever is earlier; +Inf when neither is known.
func stopTime(info rundir.RunInfo, events []rundir.Event) float64 {
	stop := math.Inf(1)
	if !info.End.IsZero() && !info.Start.IsZero() {
		stop = info.End.Sub(info.Start).Seconds()
	}
	for _, e := range events {
		if e.Source == "runner" && e.Event == "stop" {
			stop = math.Min(stop, e.T)
		}
	}
	return stop
}

// restarts finds the worker exits from the start of the attack until the
// target was stopped (stop, in seconds), and their replacements. Exits
// at or after stop, and those with reason "shutdown", are the target
// shutting down, not restarts. The exits of every source are merged per
// worker life (see workerLives); an exit without a reason takes the
// reason of the worker's latest retiring event.
func restarts(events []rundir.Event, roles map[int]string, mem []rundir.MemorySample, stop float64) RestartStats {
	var rs RestartStats
	isWorker := func(pid int) bool {
		role, ok := roles[pid]
		return !ok || role == "worker"
	}
	exited, spawns, source := restartLives(workerLives(events, isWorker), initialPIDs(mem), stop)
	if len(exited) == 0 {
		return rs
	}
	rs.Source = source
	var exits []Exit
	for _, l := range exited {
		exits = append(exits, Exit{T: l.exit, PID: l.pid, Reason: l.reason(), Requests: l.requests, Source: sourceName(l.exitRank)})
	}

	var replaced int
	var sum float64
	rs.ByReason = map[string]int{}
	for i := range exits {
		x := &exits[i]
		rs.ByReason[x.Reason]++
		w := RestartWindow{Start: x.T, End: x.T, PID: x.PID, From: "exit", To: "exit"}
		if l := exited[i]; l.hasRetiring && l.retiring < x.T {
			w.Start, w.From = l.retiring, "retiring"
		}
		if i < len(spawns) {
			sp := spawns[i]
			x.Replacement = sp.pid
			readyAt, to := sp.spawn, "spawn"
			if sp.hasReady {
				readyAt, to = sp.ready, "ready"
			}
			x.ReadyAfter = math.Max(0, readyAt-x.T)
			if readyAt > w.End {
				w.End, w.To = readyAt, to
			}
			replaced++
			sum += x.ReadyAfter
			rs.ReplaceMax = math.Max(rs.ReplaceMax, x.ReadyAfter)
		}
		rs.Windows = append(rs.Windows, w)
	}
	rs.Count = len(exits)
	rs.Exits = exits
	if replaced > 0 {
		rs.ReplaceMean = sum / float64(replaced)
	}
	rs.MaxConcurrent = maxOpen(rs.Windows)
	return rs
}

// initialPIDs are the pids of the first memory sample: the workers that
// were there from the start, whose spawns replace nobody.
func initialPIDs(mem []rundir.MemorySample) map[int]bool {
	initial := map[int]bool{}
	if len(mem) > 0 {
		first := mem[0].T
		for _, m := range mem {
			if m.T == first {
				initial[m.PID] = true
			}
		}
	}
	return initial
}

// restartLives picks, from the worker lives, those that exited during
// the attack (not at shutdown) by exit time, and the spawns of new
// workers by spawn time, and names the most precise source that saw any
// of the exits.
func restartLives(lives []*life, initial map[int]bool, stop float64) (exited, spawns []*life, source string) {
	seenBy := [nSources]bool{}
	for _, l := range lives {
		if l.hasSpawn && l.spawn > 0 && !initial[l.pid] {
			spawns = append(spawns, l)
		}
		if !l.hasExit || l.exit <= 0 || l.exit >= stop || l.reason() == "shutdown" {
			continue
		}
		exited = append(exited, l)
		for r, saw := range l.exitedBy {
			seenBy[r] = seenBy[r] || saw
		}
	}
	for r, saw := range seenBy {
		if saw {
			source = sourceName(r)
			break
		}
	}
	sort.SliceStable(exited, func(i, j int) bool { return exited[i].exit < exited[j].exit })
	sort.SliceStable(spawns, func(i, j int) bool { return spawns[i].spawn < spawns[j].spawn })
	return exited, spawns, source
}

// maxOpen is the most windows open at once; windows that touch overlap.
func maxOpen(windows []RestartWindow) int {
	type edge struct {
		t     float64
		delta int
	}
	var edges []edge
	for _, w := range windows {
		edges = append(edges, edge{w.Start, +1}, edge{w.End, -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].t != edges[j].t {
			return edges[i].t < edges[j].t
		}
		return edges[i].delta > edges[j].delta
	})
	most, open := 0, 0
	for _, e := range edges {
		open += e.delta
		most = max(most, open)
	}
	return most
}
