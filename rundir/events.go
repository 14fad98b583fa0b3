package rundir

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
)

// EventWriter appends events as JSON lines. It is safe for concurrent use,
// since events come from several sources at once.
type EventWriter struct {
	mu  sync.Mutex
	w   *bufio.Writer
	enc *json.Encoder
}

// NewEventWriter returns an EventWriter writing to w.
func NewEventWriter(w io.Writer) *EventWriter {
	bw := bufio.NewWriter(w)
	return &EventWriter{w: bw, enc: json.NewEncoder(bw)}
}

// Write appends e.
func (ew *EventWriter) Write(e Event) error {
	ew.mu.Lock()
	defer ew.mu.Unlock()
	return ew.enc.Encode(e)
}

// Flush writes buffered events to the underlying writer.
func (ew *EventWriter) Flush() error {
	ew.mu.Lock()
	defer ew.mu.Unlock()
	return ew.w.Flush()
}

// EachEvent calls fn for every event of an events.jsonl file. A final
// line cut short is ignored; any other malformed line is an error naming
// the file and line.
func EachEvent(path string, fn func(Event) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read run file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var pending error
	for line := 1; sc.Scan(); line++ {
		if pending != nil {
			return pending
		}
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			pending = fmt.Errorf("%s:%d: %w", path, line, err)
			continue
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return sc.Err()
}
