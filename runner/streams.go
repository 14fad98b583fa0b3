package runner

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/internal/hist"
	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/attack"
	"github.com/sawtooth-dev/sawtooth/runner/probe"
	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// streamPlan is one traffic stream, resolved: its classes and phases.
type streamPlan struct {
	name     string
	classes  []attack.Class
	segments []attack.Segment
}

// probePlan is one probe, resolved: what to send and the statistics to
// fill in.
type probePlan struct {
	spec  probe.Spec
	stats rundir.ProbeStats
}

// compileStreams resolves the scenario's streams; vars (a URL target's)
// fill in the placeholders of their classes.
func (p *plan) compileStreams(s *scenarios.Scenario, vars map[string]string) error {
	for si, st := range s.StreamList() {
		tpath, ppath := "traffic", "phases"
		if len(s.Streams) > 0 {
			tpath = fmt.Sprintf("streams[%d].traffic", si)
			ppath = fmt.Sprintf("streams[%d].phases", si)
		}
		sp := streamPlan{name: st.Name}
		var err error
		if sp.classes, err = p.compileClasses(s, tpath, st.Traffic, vars); err != nil {
			return err
		}
		for i, ph := range st.Phases {
			seg := attack.Segment{Name: ph.Name, Duration: ph.Duration.D(), Concurrency: ph.Concurrency,
				Poisson: scenarios.PhaseArrival(st, ph) == scenarios.ArrivalPoisson}
			if seg.Name == "" {
				seg.Name = fmt.Sprintf("phase %d", i+1)
			}
			if ph.Rate != nil {
				seg.From, seg.To = ph.Rate.From, ph.Rate.To
			}
			seg.Weights = mixWeights(st.Traffic, ph.Mix)
			if seg.Duration <= 0 {
				return fmt.Errorf("%s[%d].duration: want more than 0, got %v", ppath, i, seg.Duration)
			}
			sp.segments = append(sp.segments, seg)
		}
		if len(sp.segments) == 0 {
			return fmt.Errorf("%s: want at least one phase", ppath)
		}
		p.streams = append(p.streams, sp)
	}
	return nil
}

// mixWeights is the weights of classes in a phase with mix (nil without
// one): the mix's weight for a class it names, the class's own otherwise.
func mixWeights(classes []scenarios.RequestClass, mix map[string]float64) []float64 {
	if len(mix) == 0 {
		return nil
	}
	var ws []float64
	for _, rc := range classes {
		w, ok := mix[rc.Name]
		if !ok {
			w = rc.Weight
		}
		ws = append(ws, w)
	}
	return ws
}

// compileProbes resolves the scenario's probes against the base URL.
func (p *plan) compileProbes(s *scenarios.Scenario) {
	for _, pr := range s.Probes {
		p.probes = append(p.probes, probePlan{
			spec: probe.Spec{Name: pr.Name, URL: p.baseURL + "/" + strings.TrimLeft(pr.Path, "/"),
				Every: pr.Every.D(), Timeout: pr.Timeout.D(), InitialDelay: pr.InitialDelay.D()},
			stats: rundir.ProbeStats{Name: pr.Name, Kind: pr.Kind, Path: pr.Path, Every: pr.Every.D().Seconds(),
				Timeout: pr.Timeout.D().Seconds(), FailureThreshold: pr.FailureThreshold, SuccessThreshold: pr.SuccessThreshold},
		})
	}
}

// liveStream is one stream during the attack: its pacer and attacker,
// and what the recorder counts for it.
type liveStream struct {
	plan     streamPlan
	pacer    *attack.Pacer
	targeter *attack.Targeter
	// indexed is the targeter the attacker calls: each request's class
	// from its index in the stream's schedule (attack.IndexedTargeter),
	// so a shard picks the classes the single process would.
	indexed vegeta.Targeter
	// share is the load this process carries of the stream's segments
	// (all of it unless sharded), for the harness's requested rate.
	share []attack.Segment
	shard attack.Shard
	atk   *vegeta.Attacker
	// client is the stream's view of the run's client: the shared
	// Transport, and the reuse failures of this attacker's requests.
	client   *attack.Client
	results  <-chan *vegeta.Result
	lag      hist.Histogram
	sentOpen float64
	sent     int64
}

// streamSeed is the seed of stream i: the run's seed for the first (so a
// one-stream scenario draws what it always drew), a different one for
// each other.
func streamSeed(seed int64, i int) int64 { return seed + int64(i)*0x3c6ef372 }

// newStreams builds every stream's pacer, targeter and attacker, each
// attacker sending through a fork of client (one Transport for the run,
// reuse failures counted per stream, since each attacker numbers its
// requests from 0); stop ends every pacer's wait. Sharding applies per
// stream: shard sh sends its stripe of each open-model stream's own
// schedule and its share of each closed-model phase's clients.
func newStreams(p *plan, seed int64, sh attack.Shard, client *attack.Client, stop <-chan struct{}) ([]*liveStream, error) {
	var out []*liveStream
	for i, sp := range p.streams {
		tg, err := attack.NewTargeter(sp.classes, streamSeed(seed, i))
		if err != nil {
			return nil, err
		}
		if err := tg.SetWeights(sp.segments[0].Weights); err != nil {
			return nil, fmt.Errorf("stream %s, phase %s: %w", sp.name, sp.segments[0].Name, err)
		}
		ls := &liveStream{plan: sp, targeter: tg, pacer: attack.NewShardPacer(sp.segments, sh, stop),
			share: sh.Share(sp.segments), shard: sh, client: client.Fork()}
		ls.pacer.Seed(uint64(streamSeed(seed, i)))
		ls.indexed = attack.IndexedTargeter(tg, ls.pacer, segmentWeights(sp.segments), streamSeed(seed, i))
		opts := ls.client.Options()
		if n := ls.pacer.Workers(); n > 0 {
			opts = append(opts, vegeta.Workers(uint64(n)), vegeta.MaxWorkers(uint64(n)))
		}
		ls.atk = vegeta.NewAttacker(opts...)
		out = append(out, ls)
	}
	return out, nil
}

// longest returns the length of the longest stream.
func longest(streams []*liveStream) time.Duration {
	var t time.Duration
	for _, s := range streams {
		t = max(t, s.pacer.Total())
	}
	return t
}

// result is one result and where it came from: stream index, or -1 for
// a probe.
type result struct {
	stream int
	res    *vegeta.Result
}

// attackAll starts every stream's attack and every probe, and returns
// one channel of all their results, closed when all have ended. Probes
// run until total has passed from t0, or probeCtx is done.
func attackAll(probeCtx context.Context, streams []*liveStream, probes []probePlan, name string, t0 time.Time, total time.Duration) <-chan result {
	out := make(chan result, 1024)
	var wg sync.WaitGroup
	for i, s := range streams {
		s.results = s.atk.Attack(s.indexed, s.pacer, s.pacer.Total()+time.Second, name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for res := range s.results {
				out <- result{i, res}
			}
		}()
	}
	for _, pp := range probes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			probe.Run(probeCtx, pp.spec, t0, total, func(res *vegeta.Result) { out <- result{-1, res} })
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// phaseInfos lists every stream's phases with their offsets, and the
// clients of closed-model phases this process ran (its shard's share).
func phaseInfos(streams []*liveStream) []rundir.PhaseInfo {
	var out []rundir.PhaseInfo
	for _, s := range streams {
		for i, seg := range s.plan.segments {
			start := s.pacer.Starts()[i].Seconds()
			pi := rundir.PhaseInfo{Name: seg.Name, Start: start, End: start + seg.Duration.Seconds(),
				RateFrom: seg.From, RateTo: seg.To, Concurrency: s.shard.Clients(seg.Concurrency)}
			if len(streams) > 1 {
				pi.Stream = s.plan.name
			}
			out = append(out, pi)
		}
	}
	return out
}

// streamsHarness is the harness's health over every stream: for one
// stream, as it always was; for several, the rates summed over the
// streams, each stream's own in Streams, and each stream's warnings
// naming it.
func streamsHarness(streams []*liveStream, ran time.Duration, lag *hist.Histogram, cpu float64, wall time.Duration, maxRSS int64) rundir.Harness {
	if len(streams) == 1 {
		s := streams[0]
		return harness(s.share, s.pacer.Starts(), ran, s.sentOpen, lag, cpu, wall, maxRSS)
	}
	h := harness(nil, nil, ran, 0, lag, cpu, wall, maxRSS)
	for _, s := range streams {
		sh := harness(s.share, s.pacer.Starts(), min(ran, s.pacer.Total()), s.sentOpen, &s.lag, 0, 0, 0)
		h.RequestedRate += sh.RequestedRate
		h.AchievedRate += sh.AchievedRate
		h.Streams = append(h.Streams, rundir.StreamHarness{Name: s.plan.name, Requests: s.sent,
			RequestedRate: sh.RequestedRate, AchievedRate: sh.AchievedRate, SendLagP99: sh.SendLagP99, SendLagMax: sh.SendLagMax})
		for _, w := range sh.Warnings {
			h.Warnings = append(h.Warnings, "stream "+s.plan.name+": "+w)
		}
	}
	return h
}

// probeVerdicts judges every probe's results.
func probeVerdicts(probes []probePlan, results map[string][]probe.Result, end float64) []rundir.ProbeStats {
	var out []rundir.ProbeStats
	for _, pp := range probes {
		out = append(out, probe.Judge(pp.stats, results[pp.spec.Name], end))
	}
	return out
}
