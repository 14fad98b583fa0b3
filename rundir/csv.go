package rundir

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
)

// CSVWriter streams rows of type T as CSV with a header row.
// It is not safe for concurrent use.
type CSVWriter[T any] struct {
	w   *csv.Writer
	enc func(T) []string
}

func newCSVWriter[T any](w io.Writer, header []string, enc func(T) []string) (*CSVWriter[T], error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return nil, err
	}
	return &CSVWriter[T]{w: cw, enc: enc}, nil
}

// Write writes one row. Rows are buffered; call Flush to push them out.
func (c *CSVWriter[T]) Write(row T) error { return c.w.Write(c.enc(row)) }

// Flush writes buffered rows to the underlying writer.
func (c *CSVWriter[T]) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

// NewTimelineWriter returns a writer of timeline.csv rows.
func NewTimelineWriter(w io.Writer) (*CSVWriter[TimelineRow], error) {
	return newCSVWriter(w, TimelineHeader, func(r TimelineRow) []string {
		return []string{ff(r.T), ff(r.Interval), r.Class, fi(r.Count), fi(r.OK), fi(r.Errors), ff(r.P50), ff(r.P90), ff(r.P99), ff(r.Max), fi(r.ReuseFailures)}
	})
}

// NewMemoryWriter returns a writer of memory.csv rows.
func NewMemoryWriter(w io.Writer) (*CSVWriter[MemorySample], error) {
	return newCSVWriter(w, MemoryHeader, func(s MemorySample) []string {
		return []string{ff(s.T), strconv.Itoa(s.PID), strconv.Itoa(s.PPID), s.Role, fi(s.RSS), fi(s.PSS), ff(s.CPU)}
	})
}

// NewMetricsWriter returns a writer of metrics.csv rows.
func NewMetricsWriter(w io.Writer) (*CSVWriter[MetricSample], error) {
	return newCSVWriter(w, MetricsHeader, func(s MetricSample) []string {
		return []string{ff(s.T), s.Metric, s.Labels, ff(s.Value)}
	})
}

func ff(f float64) string { return strconv.FormatFloat(f, 'g', 10, 64) }
func fi(i int64) string   { return strconv.FormatInt(i, 10) }

// FieldError is a malformed value in a run directory file.
type FieldError struct {
	File  string
	Line  int
	Field string
	Value string
	Err   error
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s:%d: field %s: bad value %q: %v", e.File, e.Line, e.Field, e.Value, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// rowParser converts the fields of one CSV row, remembering the first error.
type rowParser struct {
	file   string
	line   int
	header []string
	rec    []string
	err    error
}

func (p *rowParser) fail(i int, err error) {
	if p.err == nil {
		p.err = &FieldError{File: p.file, Line: p.line, Field: p.header[i], Value: p.rec[i], Err: err}
	}
}

func (p *rowParser) float(i int) float64 {
	v, err := strconv.ParseFloat(p.rec[i], 64)
	if err != nil {
		p.fail(i, errors.New("want a number"))
	}
	return v
}

// finite is float refusing NaN and ±Inf, which sawtooth never writes for a
// time, a latency or a CPU share.
func (p *rowParser) finite(i int) float64 {
	v := p.float(i)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		p.fail(i, errors.New("want a finite number"))
	}
	return v
}

func (p *rowParser) int(i int) int64 {
	v, err := strconv.ParseInt(p.rec[i], 10, 64)
	if err != nil {
		p.fail(i, errors.New("want an integer"))
	}
	return v
}

// eachCSV calls fn for every data row of the CSV file at path, which must
// start with header, or with header less its last newer columns (rows
// then have as many fields as that shorter header). A missing file is an
// error wrapping fs.ErrNotExist. A final line cut short (a run killed
// mid-write) is ignored.
func eachCSV(path string, header []string, newer int, fn func(p *rowParser) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read run file: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 0 // set by the header row
	got, err := r.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: header: %w", path, err)
	}
	if len(got) < len(header)-newer || len(got) > len(header) {
		return fmt.Errorf("%s:1: %d columns, want %d (%v)", path, len(got), len(header), header)
	}
	header = header[:len(got)]
	for i := range header {
		if got[i] != header[i] {
			return fmt.Errorf("%s:1: column %d is %q, want %q", path, i+1, got[i], header[i])
		}
	}
	p := &rowParser{file: path, header: header}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			if errors.Is(err, csv.ErrFieldCount) && isLastLine(r) {
				return nil
			}
			return fmt.Errorf("%s:%d: %w", path, line, err)
		}
		p.line, p.rec, p.err = line, rec, nil
		if err := fn(p); err != nil {
			return err
		}
	}
}

// isLastLine reports whether the reader has nothing after the current record.
func isLastLine(r *csv.Reader) bool {
	_, err := r.Read()
	return err == io.EOF
}

// EachTimeline calls fn for every row of a timeline.csv file.
func EachTimeline(path string, fn func(TimelineRow) error) error {
	return eachCSV(path, TimelineHeader, 1, func(p *rowParser) error {
		r := TimelineRow{T: p.finite(0), Interval: p.finite(1), Class: p.rec[2], Count: p.int(3), OK: p.int(4),
			Errors: p.int(5), P50: p.finite(6), P90: p.finite(7), P99: p.finite(8), Max: p.finite(9)}
		if len(p.rec) > 10 {
			r.ReuseFailures = p.int(10)
		}
		if p.err != nil {
			return p.err
		}
		return fn(r)
	})
}

// EachMemory calls fn for every row of a memory.csv file.
func EachMemory(path string, fn func(MemorySample) error) error {
	return eachCSV(path, MemoryHeader, 0, func(p *rowParser) error {
		s := MemorySample{T: p.finite(0), PID: int(p.int(1)), PPID: int(p.int(2)), Role: p.rec[3],
			RSS: p.int(4), PSS: p.int(5), CPU: p.finite(6)}
		if p.err != nil {
			return p.err
		}
		return fn(s)
	})
}

// EachMetric calls fn for every row of a metrics.csv file.
func EachMetric(path string, fn func(MetricSample) error) error {
	return eachCSV(path, MetricsHeader, 0, func(p *rowParser) error {
		// A metric's value may be NaN or ±Inf (Prometheus allows both).
		s := MetricSample{T: p.finite(0), Metric: p.rec[1], Labels: p.rec[2], Value: p.float(3)}
		if p.err != nil {
			return p.err
		}
		return fn(s)
	})
}
