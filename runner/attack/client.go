package attack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// ClientConfig is the client model of one run: how the harness's HTTP
// client behaves.
type ClientConfig struct {
	// Retry lets net/http re-send a request that failed on a reused
	// keep-alive connection before any response byte, when it deems that
	// safe (Go's and vegeta's behaviour). Without it no request is
	// re-sent, as with wrk, and each such failure is the request's error.
	Retry bool
	// KeepAlive reuses connections.
	KeepAlive bool
	// Connections is the most connections to the target at once (0: no
	// limit).
	Connections int
	// Timeout bounds each request, from sending it to reading its body.
	Timeout time.Duration
	// ClassTimeouts replace Timeout for the classes they name.
	ClassTimeouts map[string]time.Duration
	// MaxBody is how many bytes of each response body results keep (-1:
	// all).
	MaxBody int64
	// HTTP2 speaks HTTP/2: h2c with prior knowledge for http URLs.
	HTTP2 bool
}

// MaxTimeout returns the longest timeout any request of the run has.
func (c ClientConfig) MaxTimeout() time.Duration {
	d := c.Timeout
	for _, t := range c.ClassTimeouts {
		d = max(d, t)
	}
	return d
}

// Client is the harness's HTTP client: a net/http Transport configured as
// vegeta configures its own, wrapped in a RoundTripper that traces every
// request to count reuse failures (an attempt on a reused keep-alive
// connection that ended without a response byte), enforces the client
// model's retry choice and the per-class timeouts.
//
// net/http re-sends a request after a reuse failure when its
// persistConn.shouldRetryRequest allows: when nothing was written, if
// the body can be sent again (none, or GetBody set); when the request was
// written, if it is replayable (GET, HEAD, OPTIONS or TRACE, or a request
// with an Idempotency-Key or X-Idempotency-Key header, whose body is
// empty or has GetBody). With retry off, the RoundTripper makes each
// request non-rewindable without changing the bytes sent: a request with
// a body loses GetBody, and a bodiless GET, HEAD, DELETE or OPTIONS gets
// an empty non-nil Body with ContentLength 0, which the Transport probes,
// finds empty and sends as no body at all. A bodiless POST, PUT or PATCH
// cannot be so marked without a chunked body on the wire; for it, and
// for HTTP/2 (where an empty non-nil body would add an empty DATA frame,
// and which re-sends only streams the server refused unprocessed), a
// request that was re-sent all the same is reported failed, as a client
// that does not retry would have seen it.
type Client struct {
	cfg  ClientConfig
	base http.RoundTripper
	http *http.Client

	// Sequence numbers (vegeta's X-Vegeta-Seq) of requests with a reuse
	// failure that Take has not yet collected; pending counts them, so
	// that Take costs one atomic load when there are none.
	mu      sync.Mutex
	failed  map[uint64]struct{}
	pending atomic.Int64
}

// NewClient returns the client of cfg.
func NewClient(cfg ClientConfig) *Client {
	dialer := &net.Dialer{
		LocalAddr: &net.TCPAddr{IP: vegeta.DefaultLocalAddr.IP, Zone: vegeta.DefaultLocalAddr.Zone},
		KeepAlive: 30 * time.Second,
	}
	if !cfg.KeepAlive {
		dialer.KeepAlive = 0
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     &tls.Config{},
		MaxIdleConnsPerHost: vegeta.DefaultConnections,
		MaxConnsPerHost:     cfg.Connections,
		DisableKeepAlives:   !cfg.KeepAlive,
	}
	if cfg.Connections > 0 {
		tr.MaxIdleConnsPerHost = cfg.Connections
	}
	if cfg.HTTP2 {
		tr.ForceAttemptHTTP2 = true
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetHTTP2(true)
		tr.Protocols.SetUnencryptedHTTP2(true)
	} else {
		// As vegeta.HTTP2(false): HTTP/1.1 only, also over TLS.
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	c := &Client{cfg: cfg, base: tr, failed: map[uint64]struct{}{}}
	// No http.Client.Timeout: for a RoundTripper other than its own
	// Transport, http.Client enforces it with a goroutine and a timer per
	// request. RoundTrip sets the request's deadline itself.
	c.http = &http.Client{Transport: c}
	return c
}

// Fork returns a client that sends through c's Transport (its
// connections and limits, shared) but counts reuse failures apart: for
// another attacker, whose sequence numbers are its own.
func (c *Client) Fork() *Client {
	f := &Client{cfg: c.cfg, base: c.base, failed: map[uint64]struct{}{}}
	f.http = &http.Client{Transport: f}
	return f
}

// Options returns the vegeta.Attacker options that make it use c.
func (c *Client) Options() []func(*vegeta.Attacker) {
	return []func(*vegeta.Attacker){vegeta.Client(c.http), vegeta.MaxBody(c.cfg.MaxBody)}
}

// HTTPClient returns the http.Client that sends through c.
func (c *Client) HTTPClient() *http.Client { return c.http }

// CloseIdleConnections closes the connections c keeps open (and, as an
// http.RoundTripper with this method, lets http.Client close them).
func (c *Client) CloseIdleConnections() { c.base.(*http.Transport).CloseIdleConnections() }

// Take reports whether the request with vegeta sequence number seq had a
// reuse failure, and forgets it. Each request's answer is taken once.
func (c *Client) Take(seq uint64) bool {
	if c.pending.Load() == 0 {
		return false
	}
	c.mu.Lock()
	_, ok := c.failed[seq]
	if ok {
		delete(c.failed, seq)
		c.pending.Add(-1)
	}
	c.mu.Unlock()
	return ok
}

func (c *Client) note(req *http.Request) {
	seq, err := strconv.ParseUint(req.Header.Get("X-Vegeta-Seq"), 10, 64)
	if err != nil {
		return // not a request of the attack
	}
	c.mu.Lock()
	if _, dup := c.failed[seq]; !dup {
		c.failed[seq] = struct{}{}
		c.pending.Add(1)
	}
	c.mu.Unlock()
}

// ErrResent is the error of a request that net/http re-sent after a reuse
// failure although the client model forbids retries. Its text says
// "server closed", so reports classify it as conn_closed.
var ErrResent = errors.New("server closed the reused connection before any response byte (net/http re-sent the request; with retry: false that counts as failed)")

// RoundTrip implements http.RoundTripper.
func (c *Client) RoundTrip(req *http.Request) (*http.Response, error) {
	d := c.cfg.Timeout
	if t, ok := c.cfg.ClassTimeouts[req.URL.Fragment]; ok {
		d = t
	}
	ctx, cancel := context.WithTimeout(req.Context(), d)
	tr, pooled := newTrace(req)
	out := req.WithContext(httptrace.WithClientTrace(ctx, &tr.trace))
	if !c.cfg.Retry && !c.cfg.HTTP2 {
		noRewind(out)
	}
	resp, err := c.base.RoundTrip(out)
	fails := tr.failures.Load()
	if err != nil && tr.reused.Load() && !tr.gotByte.Load() && ctx.Err() == nil {
		fails++ // the last attempt failed on a reused connection too
	}
	if fails > 0 {
		c.note(req)
		if err == nil && !c.cfg.Retry {
			resp.Body.Close()
			resp, err = nil, ErrResent
		}
	}
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timeout %v exceeded: %w", d, err)
		}
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	// A request answered has had every hook call it will get (the read
	// loop calls GotFirstResponseByte before it hands over the response):
	// its trace can serve another request. After an error a late call is
	// possible, so that trace is left to the garbage collector.
	if pooled {
		tr.reset()
		tracePool.Put(tr)
	}
	return resp, nil
}

// noRewind makes r, a copy of the caller's request, one net/http will not
// re-send, without changing what goes on the wire (see Client).
func noRewind(r *http.Request) {
	if r.Body != nil && r.Body != http.NoBody {
		r.GetBody = nil
		return
	}
	switch r.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodOptions:
		// The methods the Transport probes an unknown-length body for
		// (requestMethodUsuallyLacksBody): an empty one is sent as none.
		r.Body, r.GetBody, r.ContentLength = emptyBody{}, nil, 0
	}
}

// emptyBody is a request body with nothing in it that is not http.NoBody.
type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyBody) Close() error             { return nil }

// cancelBody releases a request's timeout once its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// reqTrace follows the attempts of one request. net/http calls GetConn
// and GotConn again for each re-send within the same request, from the
// request's goroutine; GotFirstResponseByte comes from the connection's
// read loop, hence the atomics.
type reqTrace struct {
	trace    httptrace.ClientTrace
	attempts atomic.Int32
	reused   atomic.Bool // the current attempt went out on a reused connection
	gotByte  atomic.Bool // the current attempt got a response byte
	failures atomic.Int32
}

// tracePool recycles request traces with their hooks bound, to spare a
// few allocations per request on the hot path.
var tracePool = sync.Pool{New: func() any {
	t := &reqTrace{}
	t.trace = httptrace.ClientTrace{GetConn: t.getConn, GotConn: t.gotConn, GotFirstResponseByte: t.gotFirstByte}
	return t
}}

// newTrace returns a trace for req: a recycled one, unless req already
// carries a trace, which httptrace.WithClientTrace composes into ours
// (changing its hooks for good).
func newTrace(req *http.Request) (t *reqTrace, pooled bool) {
	if httptrace.ContextClientTrace(req.Context()) == nil {
		return tracePool.Get().(*reqTrace), true
	}
	t = tracePool.New().(*reqTrace)
	return t, false
}

func (t *reqTrace) reset() {
	t.attempts.Store(0)
	t.reused.Store(false)
	t.gotByte.Store(false)
	t.failures.Store(0)
}

func (t *reqTrace) getConn(string) {
	if t.attempts.Add(1) > 1 && t.reused.Load() && !t.gotByte.Load() {
		t.failures.Add(1) // the previous attempt failed: this is its re-send
	}
	t.reused.Store(false)
	t.gotByte.Store(false)
}

func (t *reqTrace) gotConn(info httptrace.GotConnInfo) { t.reused.Store(info.Reused) }

func (t *reqTrace) gotFirstByte() { t.gotByte.Store(true) }
