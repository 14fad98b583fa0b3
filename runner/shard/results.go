package shard

import (
	"bufio"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/runner/stats"
)

// stream is one shard's results.bin being read.
type stream struct {
	f    *os.File
	dec  vegeta.Decoder
	head *vegeta.Result
	path string
}

// next reads the stream's next result into head (nil at its end; a last
// record cut short, from a shard killed mid-write, ends it).
func (s *stream) next() error {
	var r vegeta.Result
	err := s.dec.Decode(&r)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		s.head = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: decode result: %w", s.path, err)
	}
	s.head = &r
	return nil
}

// streams is a heap of streams by the send time of their next result.
type streams []*stream

func (h streams) Len() int           { return len(h) }
func (h streams) Less(i, j int) bool { return h[i].head.Timestamp.Before(h[j].head.Timestamp) }
func (h streams) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *streams) Push(x any)        { *h = append(*h, x.(*stream)) }
func (h *streams) Pop() any {
	old := *h
	s := old[len(old)-1]
	*h = old[:len(old)-1]
	return s
}

// horizon is how far out of order by send time the merged results may
// arrive for the timeline to still place them exactly: each shard writes
// its results as they complete, so a result follows others sent up to a
// request timeout later.
const horizon = 10 * time.Minute

// mergeResults merges the shards' results.bin streams by send time into
// dir's results.bin (a k-way merge: each shard's stream is in the order
// its requests completed, so the merged one is in that order too, shard
// by shard) and recomputes timeline.csv from them, taking the reuse
// failures, which results.bin does not carry, summed from the shards'
// timelines. Results of the probes named in probes go to results.bin but
// not to the timeline. It returns the number of results.
func mergeResults(ms []member, ref rundir.RunRef, dir string, start time.Time, probes map[string]bool) (int64, error) {
	h, err := openStreams(ms, ref)
	defer h.closeAll()
	if err != nil {
		return 0, err
	}
	heap.Init(h)
	reuse, step, err := shardReuse(ms, ref)
	if err != nil {
		return 0, err
	}

	resF, err := createTemp(dir, rundir.ResultsFile)
	if err != nil {
		return 0, err
	}
	defer os.Remove(resF.Name())
	defer resF.Close()
	tlF, err := createTemp(dir, rundir.TimelineFile)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tlF.Name())
	defer tlF.Close()
	bw := bufio.NewWriterSize(resF, 256<<10)
	enc := vegeta.NewEncoder(bw)
	tlW, err := rundir.NewTimelineWriter(tlF)
	if err != nil {
		return 0, err
	}
	tl := stats.NewTimeline(start, step, horizon, func(row rundir.TimelineRow) error {
		row.ReuseFailures = reuse[reuseKey{row.T, row.Class}]
		return tlW.Write(row)
	})
	n, err := mergeStreams(h, enc, tl, probes)
	if err != nil {
		return 0, err
	}
	if err := tl.Close(); err != nil {
		return 0, err
	}
	if err := errors.Join(bw.Flush(), tlW.Flush()); err != nil {
		return 0, fmt.Errorf("write merged files: %w", err)
	}
	if n > 0 {
		if err := finish(resF, filepath.Join(dir, rundir.ResultsFile)); err != nil {
			return 0, err
		}
	}
	return n, finish(tlF, filepath.Join(dir, rundir.TimelineFile))
}

// openStreams opens the shards' results.bin files of ref that hold a
// result, each read up to its first. On error it returns, with the error,
// the streams opened so far, for the caller to close.
func openStreams(ms []member, ref rundir.RunRef) (*streams, error) {
	h := new(streams)
	for _, m := range ms {
		path := m.dir.File(ref, rundir.ResultsFile)
		f, err := os.Open(path)
		if os.IsNotExist(err) {
			continue // a shard that sent nothing
		}
		if err != nil {
			return h, fmt.Errorf("read %s: %w", path, err)
		}
		s := &stream{f: f, dec: vegeta.NewDecoder(bufio.NewReaderSize(f, 256<<10)), path: path}
		if err := s.next(); err != nil {
			f.Close()
			return h, err
		}
		if s.head == nil {
			f.Close()
			continue
		}
		*h = append(*h, s)
	}
	return h, nil
}

// closeAll closes the files of the streams still in h.
func (h *streams) closeAll() {
	for _, s := range *h {
		s.f.Close()
	}
}

// createTemp creates the temporary file in dir that becomes dir's name.
func createTemp(dir, name string) (*os.File, error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", name, err)
	}
	return f, nil
}

// mergeStreams writes the results of the streams in h in the order of
// their send times to enc, and adds those of the traffic classes, not the
// probes, to tl. It returns the number of results written.
func mergeStreams(h *streams, enc vegeta.Encoder, tl *stats.Timeline, probes map[string]bool) (int64, error) {
	var n int64
	for h.Len() > 0 {
		s := (*h)[0]
		res := s.head
		if err := enc.Encode(res); err != nil {
			return 0, fmt.Errorf("write %s: %w", rundir.ResultsFile, err)
		}
		// As the runner's recorder counts a result a success.
		ok := res.Error == "" && res.Code >= 200 && res.Code < 400
		if !probes[res.Attack] {
			tl.Add(res.Attack, res.Timestamp, res.Latency, ok, false)
		}
		if n++; n%4096 == 0 {
			if err := tl.Advance(res.Timestamp); err != nil {
				return 0, err
			}
		}
		if err := s.next(); err != nil {
			return 0, err
		}
		if s.head == nil {
			heap.Pop(h)
			s.f.Close()
		} else {
			heap.Fix(h, 0)
		}
	}
	return n, nil
}

// finish closes the temporary f and renames it to path.
func finish(f *os.File, path string) error {
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

type reuseKey struct {
	t     float64
	class string
}

// shardReuse sums the shards' reuse failures by interval and class, and
// returns the timeline's interval (1s when no shard wrote a row).
func shardReuse(ms []member, ref rundir.RunRef) (map[reuseKey]int64, time.Duration, error) {
	out := map[reuseKey]int64{}
	step := time.Second
	for _, m := range ms {
		err := rundir.EachTimeline(m.dir.File(ref, rundir.TimelineFile), func(row rundir.TimelineRow) error {
			if row.Interval > 0 {
				step = time.Duration(row.Interval * float64(time.Second))
			}
			out[reuseKey{row.T, row.Class}] += row.ReuseFailures
			return nil
		})
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, 0, err
		}
	}
	return out, step, nil
}

// mergeEvents writes dir's events.jsonl: the first shard's events (the
// target's, from its memory source, and the runner's), its "stop" moved
// to the last shard's, and the other shards' own runner events that are
// not one per shard anyway (a late start, a retry), each naming its
// shard, in order of time.
func mergeEvents(ms []member, ref rundir.RunRef, dir string, info rundir.RunInfo) error {
	var evs []rundir.Event
	var stop *rundir.Event
	for i, m := range ms {
		name := fmt.Sprintf("shard %d/%d", m.shard.Index, m.shard.Count)
		err := rundir.EachEvent(m.dir.File(ref, rundir.EventsFile), func(e rundir.Event) error {
			if e.Source == "runner" && e.Event == "stop" {
				if stop == nil || e.Time.After(stop.Time) {
					c := e
					stop = &c
				}
				return nil
			}
			if i == 0 || (e.Source == "runner" && e.Event != "start" && e.Event != "phase" && e.Event != "wait") {
				if i > 0 {
					e.Message = strings.TrimSpace(name + ": " + e.Message)
				}
				evs = append(evs, e)
			}
			return nil
		})
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if stop != nil {
		evs = append(evs, *stop)
	}
	slices.SortStableFunc(evs, func(a, b rundir.Event) int { return a.Time.Compare(b.Time) })
	f, err := os.CreateTemp(dir, "."+rundir.EventsFile+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", rundir.EventsFile, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	w := rundir.NewEventWriter(f)
	for _, e := range evs {
		e.T = since(e.Time, info.Start)
		if err := w.Write(e); err != nil {
			return fmt.Errorf("write %s: %w", rundir.EventsFile, err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", rundir.EventsFile, err)
	}
	return finish(f, filepath.Join(dir, rundir.EventsFile))
}
