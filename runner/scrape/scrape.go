// Package scrape reads Prometheus text-format endpoints and flattens their
// metric families into one value per series, as the text format writes
// them: histograms become NAME_bucket (with an "le" label), NAME_sum and
// NAME_count; summaries NAME (with a "quantile" label), NAME_sum and
// NAME_count.
package scrape

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Series is one flattened value.
type Series struct {
	Metric string
	// Labels is the label set in text form, sorted by name, e.g.
	// `le="0.1",pid="123"`.
	Labels string
	Value  float64
}

// Get scrapes url and returns the series of the families in names (all
// when names is empty), sorted by metric and labels.
func Get(ctx context.Context, c *http.Client, url string, names []string) ([]Series, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scrape %s: status %s", url, resp.Status)
	}
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	return Flatten(fams, names), nil
}

// Flatten turns metric families into series, keeping the families in
// names (all when names is empty).
func Flatten(fams map[string]*dto.MetricFamily, names []string) []Series {
	var out []Series
	for name, mf := range fams {
		if len(names) > 0 && !slices.Contains(names, name) {
			continue
		}
		for _, m := range mf.GetMetric() {
			base := labelPairs(m.GetLabel())
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out = append(out, Series{name, labels(base), m.GetCounter().GetValue()})
			case dto.MetricType_GAUGE:
				out = append(out, Series{name, labels(base), m.GetGauge().GetValue()})
			case dto.MetricType_UNTYPED:
				out = append(out, Series{name, labels(base), m.GetUntyped().GetValue()})
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.GetBucket() {
					out = append(out, Series{name + "_bucket", labels(base, "le", formatFloat(b.GetUpperBound())), float64(b.GetCumulativeCount())})
				}
				out = append(out, Series{name + "_bucket", labels(base, "le", "+Inf"), float64(h.GetSampleCount())})
				out = append(out, Series{name + "_sum", labels(base), h.GetSampleSum()})
				out = append(out, Series{name + "_count", labels(base), float64(h.GetSampleCount())})
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					out = append(out, Series{name, labels(base, "quantile", formatFloat(q.GetQuantile())), q.GetValue()})
				}
				out = append(out, Series{name + "_sum", labels(base), s.GetSampleSum()})
				out = append(out, Series{name + "_count", labels(base), float64(s.GetSampleCount())})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Metric != out[j].Metric {
			return out[i].Metric < out[j].Metric
		}
		return out[i].Labels < out[j].Labels
	})
	// A histogram's explicit +Inf bucket would appear twice.
	return slices.CompactFunc(out, func(a, b Series) bool { return a.Metric == b.Metric && a.Labels == b.Labels })
}

func labelPairs(lp []*dto.LabelPair) [][2]string {
	out := make([][2]string, 0, len(lp)+1)
	for _, l := range lp {
		out = append(out, [2]string{l.GetName(), l.GetValue()})
	}
	return out
}

func labels(base [][2]string, extra ...string) string {
	all := slices.Clone(base)
	if len(extra) == 2 {
		all = append(all, [2]string{extra[0], extra[1]})
	}
	sort.Slice(all, func(i, j int) bool { return all[i][0] < all[j][0] })
	var b strings.Builder
	for i, l := range all {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l[0])
		b.WriteString("=")
		b.WriteString(strconv.Quote(l[1]))
	}
	return b.String()
}

func formatFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
