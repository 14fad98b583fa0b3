// Package control is the channel between the recycling server's master and
// its worker processes: JSON objects, one per line, over an inherited Unix
// socket.
//
// A worker sends ready once it is serving, a heartbeat at a steady interval
// while its request-serving path makes progress, and retiring when it decides
// to retire. The master sends retire to make a worker stop accepting, finish
// in-flight requests and exit. Message is a single struct with optional
// fields, so a new kind of observation (for example loop lag) is one more
// field; a reader ignores types and fields it does not know.
package control

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// Type names a message.
type Type string

// Message types.
const (
	// Ready: worker → master, the worker is accepting connections.
	Ready Type = "ready"
	// Heartbeat: worker → master, sent every heartbeat interval while the
	// request-serving path makes progress; carries Requests, InFlight, RSS
	// and, from event-loop workers, LoopLag.
	Heartbeat Type = "heartbeat"
	// Retiring: worker → master, the worker decided to retire (Reason). If
	// the worker was started with overlap, it keeps serving until the master
	// answers with Retire; otherwise it has already stopped accepting.
	Retiring Type = "retiring"
	// Exiting: worker → master, the worker drained and is about to exit 0;
	// carries its final Requests and RSS.
	Exiting Type = "exiting"
	// Retire: master → worker, stop accepting, finish in-flight requests
	// within the graceful timeout and exit (Reason says why).
	Retire Type = "retire"
)

// Reason is why a worker retired or exited.
type Reason = string

// Reasons, as they appear in messages, events, logs and metrics.
const (
	MaxRequests Reason = "max_requests"
	MaxRSS      Reason = "max_rss"
	MaxLifetime Reason = "max_lifetime"
	Timeout     Reason = "timeout"
	Crash       Reason = "crash"
	Signal      Reason = "signal"
	Shutdown    Reason = "shutdown"
	Restart     Reason = "restart"
	ScaleDown   Reason = "scale_down"
)

// Message is one line on the control channel. Fields that do not apply to a
// type are left zero and omitted.
type Message struct {
	Type Type `json:"type"`
	// Pid is the sender's pid (worker → master).
	Pid int `json:"pid,omitempty"`
	// Requests is the number of requests the worker has started so far.
	Requests int64 `json:"requests,omitempty"`
	// InFlight is the number of requests being served right now.
	InFlight int64 `json:"in_flight,omitempty"`
	// RSS is the worker's resident set size in bytes, when known.
	RSS int64 `json:"rss,omitempty"`
	// Reason is why a worker is retiring (Retiring, Retire).
	Reason Reason `json:"reason,omitempty"`
	// Message is free text for logs, e.g. "rss 70.1 MiB > max_rss 64 MiB".
	Message string `json:"message,omitempty"`
	// LoopLag holds event-loop lag observations in seconds made since the
	// previous heartbeat (event-loop workers only); the master aggregates
	// them into a histogram.
	LoopLag []float64 `json:"loop_lag,omitempty"`
}

// Conn sends and receives Messages over a byte stream. Send is safe for
// concurrent use; Receive must be called from one goroutine at a time.
type Conn struct {
	rwc io.ReadWriteCloser
	mu  sync.Mutex
	enc *json.Encoder
	sc  *bufio.Scanner
}

// maxLine bounds one message, so a broken peer cannot exhaust memory.
const maxLine = 1 << 20

// NewConn returns a Conn on rwc.
func NewConn(rwc io.ReadWriteCloser) *Conn {
	sc := bufio.NewScanner(rwc)
	sc.Buffer(make([]byte, 4096), maxLine)
	return &Conn{rwc: rwc, enc: json.NewEncoder(rwc), sc: sc}
}

// Send writes m as one line.
func (c *Conn) Send(m Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.enc.Encode(m); err != nil {
		return fmt.Errorf("control: send %s: %w", m.Type, err)
	}
	return nil
}

// Receive reads the next message. It returns io.EOF when the peer closed
// the channel.
func (c *Conn) Receive() (Message, error) {
	if !c.sc.Scan() {
		if err := c.sc.Err(); err != nil {
			return Message{}, fmt.Errorf("control: receive: %w", err)
		}
		return Message{}, io.EOF
	}
	var m Message
	if err := json.Unmarshal(c.sc.Bytes(), &m); err != nil {
		return Message{}, fmt.Errorf("control: bad message %q: %w", c.sc.Bytes(), err)
	}
	return m, nil
}

// Close closes the underlying stream.
func (c *Conn) Close() error { return c.rwc.Close() }
