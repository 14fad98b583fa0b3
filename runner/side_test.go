package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sawtooth-dev/sawtooth/rundir"
	"github.com/sawtooth-dev/sawtooth/server/event"
)

// The built-in server replays its latest events to every new reader; an
// event is recorded once however often the stream is reconnected, also
// after the reader has seen more events than it remembers.
func TestServerEventsReplay(t *testing.T) {
	const total, replay = serverEventsSeen + 5000, 10000
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	line := func(i int) []byte {
		b, _ := json.Marshal(event.Event{Time: base.Add(time.Duration(i) * time.Millisecond), Pid: 1000 + i%7, Event: "spawn"})
		return append(b, '\n')
	}
	var conns atomic.Int64
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch conns.Add(1) {
		case 1: // every event, then the stream drops
			for i := range total {
				w.Write(line(i))
			}
		case 2: // the server's replay of its latest events, then new ones
			for i := total - replay; i < total+10; i++ {
				w.Write(line(i))
			}
		default:
			select {
			case <-done:
			default:
				close(done)
			}
		}
	}))
	defer srv.Close()

	var buf bytes.Buffer
	events := newEventLog(rundir.NewEventWriter(&buf))
	events.start(base)
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		readServerEvents(ctx, srv.URL, events)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the reader did not reconnect twice in 30s")
	}
	cancel()
	<-finished
	events.flush()

	seen := map[string]int{}
	n := 0
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var e rundir.Event
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatalf("event %q: %v", l, err)
		}
		n++
		seen[fmt.Sprint(e.Time.UnixNano(), e.PID)]++
	}
	if n != total+10 || len(seen) != total+10 {
		t.Errorf("recorded %d events (%d distinct), want %d once each", n, len(seen), total+10)
	}
}
