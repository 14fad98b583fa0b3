package plan

import (
	"fmt"
	"io"
	"strings"
)

// Text returns the recommendation as lines for a terminal or a report.
func (r Recommendation) Text() []string {
	in := r.Input
	out := []string{
		fmt.Sprintf("budget %s per worker, margin %s: a fresh worker is %s, so it may grow by %s",
			size(in.Budget), size(in.Margin), size(in.Base), size(r.Headroom)),
		fmt.Sprintf("leak %s/request (95%% up to %s), %s; %.1f req/s over %d workers",
			size(in.Leak), size(in.LeakHigh), in.LeakSource, in.Rate, in.Workers),
	}
	if !r.NeedsRecycling {
		return append(out, r.Notes...)
	}
	out = append(out, fmt.Sprintf("max_requests %d, max_requests_jitter %d: a worker serves at most %d requests, peaking near %s",
		r.MaxRequests, r.Jitter, r.MaxRequests+r.Jitter, size(in.Base+float64(r.MaxRequests+r.Jitter)*in.Leak)))
	out = append(out, "  "+settingsLine(r.Recycling, in))
	if r.FirstCycleConcurrent != nil {
		out = append(out, fmt.Sprintf("  workers started together: about %.1f restarting at once when they first reach the limit", *r.FirstCycleConcurrent))
	}
	if r.MaxRSS > 0 {
		out = append(out, fmt.Sprintf("or max_rss %s (the budget minus one request's worst leak, %s)", size(r.MaxRSS), size(in.WorstLeak)))
		out = append(out, "  "+settingsLine(r.MaxRSSLives, in))
	}
	if in.Cost.Measured {
		out = append(out, fmt.Sprintf("restart cost measured as: %s, %.2fs; %.2f errors per restart; p99 %s near a restart, %s otherwise",
			in.Cost.Source, in.Cost.Window, in.Cost.ErrorsPerRestart, dur(in.Cost.NearP99), dur(in.Cost.OtherP99)))
	}
	for _, n := range r.Notes {
		out = append(out, "note: "+n)
	}
	return out
}

// WriteText writes Text, one line each.
func (r Recommendation) WriteText(w io.Writer) error {
	_, err := io.WriteString(w, strings.Join(r.Text(), "\n")+"\n")
	return err
}

func settingsLine(s Settings, in Input) string {
	line := fmt.Sprintf("%.0f requests per life, a restart every %.1fs per worker, %.2f restarts/s in all", s.RequestsPerLife, s.WorkerLife, s.RestartsPerSecond)
	if s.Concurrent != nil {
		line += fmt.Sprintf("; %.2f restarting at once on average; predicted errors %.3f%%, p99 %s", *s.Concurrent, *s.ErrorRatio*100, dur(*s.P99))
	}
	return line
}

func size(b float64) string {
	switch {
	case b >= 1<<30 || b <= -(1<<30):
		return fmt.Sprintf("%.2f GiB", b/(1<<30))
	case b >= 1<<20 || b <= -(1<<20):
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10 || b <= -(1<<10):
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

func dur(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.1fms", s*1000)
	}
	return fmt.Sprintf("%.2fs", s)
}
