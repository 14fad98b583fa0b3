package probe

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Spec is one probe to send: a GET of URL every Every from InitialDelay
// after the start, each bounded by Timeout.
type Spec struct {
	Name         string
	URL          string
	Every        time.Duration
	Timeout      time.Duration
	InitialDelay time.Duration
}

// Due returns the offsets from the start at which sp is due over a run
// of length total: InitialDelay, then every Every, before total.
func (sp Spec) Due(total time.Duration) []time.Duration {
	var out []time.Duration
	if sp.Every <= 0 {
		return nil
	}
	for d := sp.InitialDelay; d < total; d += sp.Every {
		out = append(out, d)
	}
	return out
}

// Run sends sp's probes on schedule from t0 until total has passed or
// ctx is done, one at a time, each on a new connection (as kubelet and
// load balancers do, so a reused connection cannot hide a stalled
// accept), and hands each result to out: a vegeta result whose Attack is
// the probe's name. A probe still due when the previous one is running
// late is skipped, as kubelet's ticker skips it.
func Run(ctx context.Context, sp Spec, t0 time.Time, total time.Duration, out func(*vegeta.Result)) {
	client := &http.Client{
		Timeout:   sp.Timeout,
		Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a 3xx is a success, not followed
		},
	}
	defer client.CloseIdleConnections()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for seq, off := range sp.Due(total) {
		due := t0.Add(off)
		if time.Until(due) < -sp.Every/2 {
			continue // behind schedule: skipped
		}
		timer.Reset(time.Until(due))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		out(send(ctx, client, sp, uint64(seq)))
	}
}

// send sends one probe.
func send(ctx context.Context, client *http.Client, sp Spec, seq uint64) *vegeta.Result {
	res := &vegeta.Result{Attack: sp.Name, Seq: seq, Method: http.MethodGet, URL: sp.URL, Timestamp: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sp.URL, nil)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	req.Header.Set("User-Agent", "sawtooth-probe/"+sp.Name)
	resp, err := client.Do(req)
	if err == nil {
		var n int64
		n, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		res.Code, res.BytesIn = uint16(resp.StatusCode), uint64(n)
		if err == nil && (resp.StatusCode < 200 || resp.StatusCode >= 400) {
			res.Error = fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		}
	}
	if err != nil {
		res.Error = err.Error()
	}
	res.Latency = time.Since(res.Timestamp)
	return res
}

// OK reports whether a probe result is a success: answered 2xx or 3xx
// within the timeout.
func OK(res *vegeta.Result) bool { return res.Error == "" && res.Code >= 200 && res.Code < 400 }
