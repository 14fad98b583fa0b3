// Package analysis is the compute layer of the reports: it turns what
// package runread reads of a run directory into the numbers of
// summary.json (its schema is this package's Summary): per-variant
// statistics merged over repeats (latency percentiles per request class,
// throughput, errors by kind, reuse failures, memory and its fits, the
// per-class leak fit, worker restarts and the cost of recycling in their
// windows, loop lag, health probes), the comparison of variants and of
// runs with its gate, threshold verdicts, findings, the headline, the
// plan section, and the merged series the charts draw (Series).
//
// It formats only how a value, a verdict and a regression read
// (text.go), which the sentences of summary.json and the format layer
// share; package reports lays the numbers out as tables, Markdown, HTML
// and plots. Like benchstat's benchmath, it knows nothing of where its
// results go.
package analysis
