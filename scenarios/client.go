package scenarios

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sawtooth-dev/sawtooth/internal/units"
)

// Client is how the harness's HTTP client behaves: the client model of a
// scenario. The scenario's client: block sets it for every variant; a
// variant's client: block overrides the fields it gives. After Parse the
// scenario's Client has every field set (the defaults filled in); a
// variant's holds only its overrides, and Expand resolves them.
type Client struct {
	// Retry is Go's behaviour (default true): a request that fails on a
	// reused keep-alive connection before any response byte is re-sent
	// when Go deems it safe. With false the harness re-sends nothing, as
	// wrk does, and every such reuse failure is an error.
	Retry *bool `yaml:"retry,omitempty" json:"retry,omitempty"`
	// KeepAlive reuses connections (default true).
	KeepAlive *bool `yaml:"keepalive,omitempty" json:"keepalive,omitempty"`
	// Connections is the most connections open to the target at once
	// (0, the default, for no limit).
	Connections int `yaml:"connections,omitempty" json:"connections,omitempty"`
	// Timeout bounds each request, from sending it to reading its body
	// (default 30s); sawtooth run --timeout overrides it.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// MaxBody is how many bytes of each response body are kept in
	// results.bin (default 4KiB; -1 keeps all). The rest is read and
	// discarded, so connections are still reused.
	MaxBody *ByteLimit `yaml:"max_body,omitempty" json:"max_body,omitempty"`
	// HTTP2 speaks HTTP/2 (default false): h2c with prior knowledge for
	// http URLs, negotiated by ALPN for https ones.
	HTTP2 *bool `yaml:"http2,omitempty" json:"http2,omitempty"`
}

// Defaults of the client block.
const (
	DefaultClientTimeout = Duration(30 * time.Second)
	DefaultMaxBody       = ByteLimit(4 << 10)
	// MaxConnections and MaxClientTimeout bound the client's fields.
	MaxConnections   = 100_000
	MaxClientTimeout = time.Hour
)

// ByteLimit is a number of bytes written as a size ("4KiB", "1MiB",
// "512") or -1 for no limit.
type ByteLimit int64

// NoLimit is the ByteLimit that keeps everything.
const NoLimit = ByteLimit(-1)

// String formats the limit as it is written in a scenario.
func (b ByteLimit) String() string {
	if b < 0 {
		return "-1"
	}
	return strconv.FormatInt(int64(b), 10)
}

// MarshalYAML writes the limit as a plain number of bytes (-1 for none).
func (b ByteLimit) MarshalYAML() (any, error) { return int64(b), nil }

// decodeScalar parses a limit: -1, a number of bytes or a size.
func (b *ByteLimit) decodeScalar(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	if s == "-1" {
		*b = NoLimit
		return nil
	}
	v, err := units.ParseSize(s)
	if err != nil {
		return fmt.Errorf("got %q, want a size such as 4KiB or 1MiB, a number of bytes, or -1 to keep all", n.Value)
	}
	*b = ByteLimit(v)
	return nil
}

// Bool returns *p, or def when p is nil.
func Bool(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// applyClientDefaults fills in every field of the scenario's client block.
func (s *Scenario) applyClientDefaults() {
	c := &s.Client
	t, f := true, false
	if c.Retry == nil {
		c.Retry = &t
	}
	if c.KeepAlive == nil {
		c.KeepAlive = &t
	}
	if c.HTTP2 == nil {
		c.HTTP2 = &f
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultClientTimeout
	}
	if c.MaxBody == nil {
		m := DefaultMaxBody
		c.MaxBody = &m
	}
}

// Merge returns c with the fields that over gives replaced.
func (c Client) Merge(over *Client) Client {
	if over == nil {
		return c
	}
	if over.Retry != nil {
		c.Retry = over.Retry
	}
	if over.KeepAlive != nil {
		c.KeepAlive = over.KeepAlive
	}
	if over.Connections != 0 {
		c.Connections = over.Connections
	}
	if over.Timeout != 0 {
		c.Timeout = over.Timeout
	}
	if over.MaxBody != nil {
		c.MaxBody = over.MaxBody
	}
	if over.HTTP2 != nil {
		c.HTTP2 = over.HTTP2
	}
	return c
}

// validateClient checks one client block at path ("client" or
// "variants[i].client").
func validateClient(c *Client, path string, d *decoder, at func(string, string, ...any)) {
	if c == nil {
		return
	}
	if _, given := d.pos[path+".connections"]; given && (c.Connections < 1 || c.Connections > MaxConnections) {
		at(path+".connections", "got %d, want an integer from 1 to %d (leave it out for no limit)", c.Connections, MaxConnections)
	}
	if _, given := d.pos[path+".timeout"]; given && (c.Timeout <= 0 || c.Timeout.D() > MaxClientTimeout) {
		at(path+".timeout", "got %v, want a duration > 0 and at most %v", c.Timeout, Duration(MaxClientTimeout))
	}
}

// validateClassTimeout checks a request class's timeout.
func validateClassTimeout(rc RequestClass, path string, d *decoder, at func(string, string, ...any)) {
	if _, given := d.pos[path+".timeout"]; given && (rc.Timeout <= 0 || rc.Timeout.D() > MaxClientTimeout) {
		at(path+".timeout", "got %v, want a duration > 0 and at most %v", rc.Timeout, Duration(MaxClientTimeout))
	}
}
