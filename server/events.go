package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/sawtooth-dev/sawtooth/server/event"
)

// Event is one worker lifecycle event, as streamed by the admin
// listener's /events (package event holds the schema).
type Event = event.Event

// Event names.
const (
	EventSpawn    = event.Spawn
	EventReady    = event.Ready
	EventRetiring = event.Retiring
	EventExit     = event.Exit
)

// eventLog keeps the last events in a ring and fans new ones out to
// subscribers.
type eventLog struct {
	mu     sync.Mutex
	ring   []Event
	next   int
	full   bool
	subs   map[chan Event]struct{}
	closed bool
}

// MaxSubscribers bounds the /events streams open at once; each holds a
// buffer of subBuffer events, so without a bound readers could grow the
// master without limit. One more gets 503.
const MaxSubscribers = 32

// subBuffer is how many events a slow /events reader may lag behind before
// its stream is cut (it then sees the stream end, never a silent gap).
const subBuffer = 4096

func newEventLog(size int) *eventLog {
	return &eventLog{ring: make([]Event, size), subs: make(map[chan Event]struct{})}
}

func (l *eventLog) publish(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ring[l.next] = e
	l.next = (l.next + 1) % len(l.ring)
	if l.next == 0 {
		l.full = true
	}
	for c := range l.subs {
		select {
		case c <- e:
		default:
			close(c)
			delete(l.subs, c)
		}
	}
}

// subscribe returns the history, oldest first, and a channel of the events
// that follow; the channel is closed when the log closes. It returns a nil
// channel when MaxSubscribers streams are open.
func (l *eventLog) subscribe() ([]Event, chan Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.subs) >= MaxSubscribers {
		return nil, nil
	}
	var hist []Event
	if l.full {
		hist = append(hist, l.ring[l.next:]...)
	}
	hist = append(hist, l.ring[:l.next]...)
	c := make(chan Event, subBuffer)
	if l.closed {
		close(c)
	} else {
		l.subs[c] = struct{}{}
	}
	return hist, c
}

func (l *eventLog) unsubscribe(c chan Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.subs[c]; ok {
		delete(l.subs, c)
		close(c)
	}
}

// close ends every stream; later subscribers get the history only.
func (l *eventLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for c := range l.subs {
		close(c)
		delete(l.subs, c)
	}
}

// ServeHTTP streams the history then new events as JSON lines, flushing
// after each line, until the client goes away or the master exits.
func (l *eventLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hist, c := l.subscribe()
	if c == nil {
		w.Header().Set("Retry-After", "1")
		http.Error(w, fmt.Sprintf("too many /events readers: at most %d at once", MaxSubscribers), http.StatusServiceUnavailable)
		return
	}
	defer l.unsubscribe(c)
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	for _, e := range hist {
		if enc.Encode(e) != nil {
			return
		}
	}
	if rc.Flush() != nil {
		return
	}
	for {
		select {
		case e, ok := <-c:
			if !ok {
				return
			}
			if enc.Encode(e) != nil || rc.Flush() != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}
