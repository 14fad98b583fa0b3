package analysis

import (
	"fmt"
	"strings"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
)

// memorySourceNote says where a run's memory came from when it was not
// /proc ("" when it was, or when none could be read: its error is then a
// warning): the Prometheus server, its queries, the worker label and the
// scrape interval.
func memorySourceNote(id string, ms *rundir.MemorySource) string {
	if ms == nil || ms.Error != "" {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: memory came from Prometheus at %s, not /proc: query %q, one series per %s label", id, ms.URL, ms.MemoryQuery, ms.WorkerLabel)
	if ms.RestartsQuery != "" {
		fmt.Fprintf(&b, "; restarts from %q", ms.RestartsQuery)
		if ms.Restarts != nil {
			fmt.Fprintf(&b, " (it rose by %d)", *ms.Restarts)
		}
	}
	if ms.ScrapeInterval > 0 {
		fmt.Fprintf(&b, "; scrape interval %v", seconds(ms.ScrapeInterval))
	} else {
		b.WriteString("; scrape interval unknown")
	}
	fmt.Fprintf(&b, ", query step %v; %d worker series", seconds(ms.Step), ms.Series)
	return b.String()
}

// memorySourceWarnings are the caveats and the error of a run's memory
// source.
func memorySourceWarnings(id string, ms *rundir.MemorySource) []string {
	if ms == nil {
		return nil
	}
	var out []string
	for _, w := range ms.Warnings {
		out = append(out, id+": "+w)
	}
	if ms.Error != "" {
		out = append(out, id+": no memory from Prometheus: "+ms.Error)
	}
	return out
}

func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond)
}
