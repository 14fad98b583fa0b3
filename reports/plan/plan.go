// Package plan turns measured memory growth and restart cost into
// recycling settings that keep every worker under a memory budget: the
// largest max_requests and a max_requests_jitter, the restart rate and
// concurrency that follow and their predicted cost, and max_rss as the
// alternative. It only computes: the reports package measures its Input
// from a run directory, and "sawtooth plan" prints the Recommendation.
package plan

import (
	"fmt"
	"math"
)

// Jitter bounds, as fractions of the requests a worker may serve.
const (
	// MinJitter is the smallest jitter recommended, so that workers born
	// together drift apart even when restarts are quick.
	MinJitter = 0.03
	// MaxJitter is the largest: the jitter comes out of max_requests
	// (a worker may serve max_requests + jitter), so a larger one costs
	// more restarts than it saves in concurrency.
	MaxJitter = 0.06
	// NearFraction is the fraction of requests near a restart from which
	// the p99 is predicted to be the near-restart p99 (1%: the p99 is the
	// slowest 1%).
	NearFraction = 0.01
)

// Cost is the measured cost of one worker restart.
type Cost struct {
	// Measured is false when the run had no restart to measure; the
	// predictions of cost are then absent.
	Measured bool `json:"measured"`
	// Source says where Window comes from, e.g. "exit to replacement
	// ready (restarts.replace_mean)".
	Source string `json:"source"`
	// Window is the seconds a restart lasts: a worker fewer serving.
	Window float64 `json:"window"`
	// ErrorsPerRestart is the failed requests per restart.
	ErrorsPerRestart float64 `json:"errors_per_restart"`
	// NearWindow is the half-width, in seconds, of the window around an
	// exit in which requests count as near a restart; NearP99 and
	// OtherP99 are the p99 latency (seconds) of requests near a restart
	// and of the others.
	NearWindow float64 `json:"near_window"`
	NearP99    float64 `json:"near_p99"`
	OtherP99   float64 `json:"other_p99"`
}

// Input is what a recommendation is computed from. Sizes are bytes,
// leaks bytes per request, rates requests per second.
type Input struct {
	Budget float64 `json:"budget"`
	Margin float64 `json:"margin"`
	// Base is the RSS of a fresh worker, before any request.
	Base float64 `json:"base"`
	// Leak is the memory retained per request at the traffic mix, and
	// LeakHigh the upper end of its 95% interval.
	Leak     float64 `json:"leak"`
	LeakHigh float64 `json:"leak_high"`
	// WorstLeak is one request's worst leak: the largest upper bound of
	// a class's leak (LeakHigh when classes were not separated).
	WorstLeak float64 `json:"worst_leak"`
	// LeakSource says how Leak was measured.
	LeakSource string `json:"leak_source"`
	// Rate is the requests per second the whole target serves, over
	// Workers workers.
	Rate    float64 `json:"rate"`
	Workers int     `json:"workers"`
	Cost    Cost    `json:"cost"`
}

// Settings are the worker lives that follow from a recycling setting.
type Settings struct {
	// RequestsPerLife is the mean requests a worker serves before it is
	// recycled.
	RequestsPerLife float64 `json:"requests_per_life"`
	// RestartsPerSecond is over the whole target; WorkerLife is the mean
	// seconds between a worker's restarts.
	RestartsPerSecond float64 `json:"restarts_per_second"`
	WorkerLife        float64 `json:"worker_life"`
	// Concurrent is the expected number of workers restarting at once in
	// the long run (restart rate × window); absent when the restart cost
	// was not measured.
	Concurrent *float64 `json:"concurrent,omitempty"`
	// ErrorRatio is the predicted fraction of requests that fail because
	// of restarts; NearShare the fraction of requests near one; P99 the
	// predicted p99 latency (seconds). Absent when not measured.
	ErrorRatio *float64 `json:"error_ratio,omitempty"`
	NearShare  *float64 `json:"near_share,omitempty"`
	P99        *float64 `json:"p99,omitempty"`
}

// Recommendation is the recycling settings for a budget.
type Recommendation struct {
	Input Input `json:"input"`
	// Headroom is Budget - Base - Margin: what a worker may grow by.
	Headroom float64 `json:"headroom"`
	// NeedsRecycling is false when the measured leak is not above zero
	// (its interval reaches 0): no setting is recommended.
	NeedsRecycling bool `json:"needs_recycling"`
	// MaxRequests and Jitter: a worker serves at most MaxRequests +
	// Jitter requests (gunicorn's and the built-in server's rule), the
	// most that keep it under Budget - Margin at Leak per request.
	MaxRequests int64    `json:"max_requests,omitempty"`
	Jitter      int64    `json:"max_requests_jitter,omitempty"`
	Recycling   Settings `json:"recycling"`
	// FirstCycleConcurrent is the expected workers restarting at once
	// when workers born together reach their limits, spread by the
	// jitter; absent when the restart cost was not measured.
	FirstCycleConcurrent *float64 `json:"first_cycle_concurrent,omitempty"`
	// MaxRSS is the alternative: recycle a worker once its RSS exceeds
	// Budget - WorstLeak, so that one more request cannot cross Budget.
	MaxRSS      float64  `json:"max_rss,omitempty"`
	MaxRSSLives Settings `json:"max_rss_recycling"`
	// Notes are caveats: what was not measured, what limits a number.
	Notes []string `json:"notes,omitempty"`
}

// Recommend computes the recycling settings for in.
func Recommend(in Input) (Recommendation, error) {
	r := Recommendation{Input: in, Headroom: in.Budget - in.Base - in.Margin}
	switch {
	case in.Budget <= 0:
		return r, fmt.Errorf("plan: budget %g bytes, want more than 0", in.Budget)
	case in.Rate <= 0 || in.Workers < 1:
		return r, fmt.Errorf("plan: %g requests/s over %d workers: want a measured rate and at least one worker", in.Rate, in.Workers)
	case r.Headroom <= 0:
		return r, fmt.Errorf("plan: a fresh worker's RSS (%.1f MiB) plus the margin (%.1f MiB) already exceeds the budget (%.1f MiB)",
			in.Base/mib, in.Margin/mib, in.Budget/mib)
	}
	if in.Leak <= 0 || in.LeakHigh <= 0 {
		r.Notes = append(r.Notes, "the measured leak is not above 0: no recycling is needed to stay under the budget")
		return r, nil
	}
	r.NeedsRecycling = true
	limit := math.Floor(r.Headroom / in.Leak) // the most requests a worker may serve
	if limit < 1 {
		return r, fmt.Errorf("plan: one request leaks %.0f bytes, more than the headroom of %.0f bytes", in.Leak, r.Headroom)
	}
	perWorker := in.Rate / float64(in.Workers)
	// Enough jitter that the restarts of workers born together are one
	// window apart: Workers windows' worth of one worker's requests.
	spread := 0.0
	if in.Cost.Measured {
		spread = math.Ceil(float64(in.Workers) * in.Cost.Window * perWorker)
	}
	j := math.Min(math.Max(spread, math.Ceil(MinJitter*limit)), math.Floor(MaxJitter*limit))
	r.Jitter = int64(j)
	r.MaxRequests = int64(limit) - r.Jitter
	if r.MaxRequests < 1 {
		r.MaxRequests, r.Jitter = int64(limit), 0
	}
	r.Recycling = in.settings(float64(r.MaxRequests) + float64(r.Jitter)/2)
	if in.Cost.Measured {
		// Limits drawn uniformly over Jitter requests spread the first
		// restarts of workers born together over Jitter/perWorker seconds.
		c := float64(in.Workers)
		if r.Jitter > 0 {
			c = math.Min(c, math.Max(1, float64(in.Workers)*in.Cost.Window*perWorker/float64(r.Jitter)))
		}
		r.FirstCycleConcurrent = &c
		if spread > j {
			r.Notes = append(r.Notes, fmt.Sprintf("a jitter of %.0f requests would keep the first restarts one at a time; it is capped at %.0f%% of the limit", spread, MaxJitter*100))
		}
	} else {
		r.Notes = append(r.Notes, "the run had no worker restart, so the cost of one (window, errors, delay) is not measured: run a variant with recycling to predict it")
	}
	r.MaxRSS = in.Budget - in.WorstLeak
	if r.MaxRSS > in.Base {
		r.MaxRSSLives = in.settings((r.MaxRSS - in.Base) / in.Leak)
	} else {
		r.Notes = append(r.Notes, "max_rss: one request's worst leak does not fit above a fresh worker under the budget")
		r.MaxRSS = 0
	}
	if in.LeakHigh > in.Leak {
		r.Notes = append(r.Notes, fmt.Sprintf("at the upper end of the leak's 95%% interval (%s/request) the same headroom lasts %.0f requests", size(in.LeakHigh), math.Floor(r.Headroom/in.LeakHigh)))
	}
	return r, nil
}

// settings returns the consequences of workers living requests requests.
func (in Input) settings(requests float64) Settings {
	s := Settings{RequestsPerLife: requests, RestartsPerSecond: in.Rate / requests,
		WorkerLife: requests * float64(in.Workers) / in.Rate}
	if !in.Cost.Measured {
		return s
	}
	c := s.RestartsPerSecond * in.Cost.Window
	errs := s.RestartsPerSecond * in.Cost.ErrorsPerRestart / in.Rate
	near := math.Min(1, s.RestartsPerSecond*2*in.Cost.NearWindow)
	// The p99 moves from the others' towards the near-restart p99 as the
	// share of requests near a restart grows to NearFraction.
	p99 := in.Cost.OtherP99 + math.Min(1, near/NearFraction)*math.Max(0, in.Cost.NearP99-in.Cost.OtherP99)
	s.Concurrent, s.ErrorRatio, s.NearShare, s.P99 = &c, &errs, &near, &p99
	return s
}

const mib = 1 << 20
