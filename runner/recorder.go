package runner

import (
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/internal/hist"
	"github.com/sawtooth-dev/sawtooth/runner/attack"
	"github.com/sawtooth-dev/sawtooth/runner/probe"
	"github.com/sawtooth-dev/sawtooth/runner/stats"
)

// recorder takes each result as the attackers and probes return them:
// it tags a traffic result with its class, writes it to results.bin and
// adds it to the timeline (with whether the stream's client saw a reuse
// failure for it), the send-lag histograms, the count of requests
// sent in open-model phases and the live counters of the progress line.
// A probe's result goes only to results.bin (under the probe's name), the
// events and the probe's verdict: never to the traffic's numbers.
type recorder struct {
	enc     vegeta.Encoder
	tl      *stats.Timeline
	streams []*liveStream
	t0      time.Time
	live    *liveStats
	events  *eventLog
	lag     hist.Histogram // over every stream
	probes  map[string][]probe.Result
	err     error // the first error writing results.bin
}

func newRecorder(enc vegeta.Encoder, tl *stats.Timeline, streams []*liveStream, t0 time.Time, live *liveStats, events *eventLog) *recorder {
	return &recorder{enc: enc, tl: tl, streams: streams, t0: t0, live: live, events: events, probes: map[string][]probe.Result{}}
}

// add records one result of stream i (-1 for a probe).
func (rc *recorder) add(i int, res *vegeta.Result) {
	if i < 0 {
		rc.addProbe(res)
		return
	}
	st := rc.streams[i]
	attack.Tag(res)
	st.pacer.Done()
	if rc.err == nil {
		rc.err = rc.enc.Encode(res)
	}
	ok := res.Error == "" && res.Code >= 200 && res.Code < 400
	reuse := st.client != nil && st.client.Take(res.Seq)
	rc.tl.Add(res.Attack, res.Timestamp, res.Latency, ok, reuse)
	if due, ok := st.pacer.Due(res.Seq); ok {
		rc.lag.Record(res.Timestamp.Sub(due))
		st.lag.Record(res.Timestamp.Sub(due))
	}
	segs := st.plan.segments
	if seg := segmentAt(segs, st.pacer.Starts(), res.Timestamp.Sub(rc.t0)); seg >= 0 && segs[seg].Open() {
		st.sentOpen++
	}
	st.sent++
	rc.live.mu.Lock()
	rc.live.hist.Record(res.Latency)
	rc.live.requests++
	if !ok {
		rc.live.errors++
	}
	rc.live.mu.Unlock()
}

// segmentAt returns the index of the segment running at offset t, or -1
// outside them all.
func segmentAt(segs []attack.Segment, starts []time.Duration, t time.Duration) int {
	if t < 0 {
		return -1
	}
	for i := len(segs) - 1; i >= 0; i-- {
		if t >= starts[i] {
			if t < starts[i]+segs[i].Duration {
				return i
			}
			return -1
		}
	}
	return -1
}
