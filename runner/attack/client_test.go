package attack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// rawServer is an HTTP/1.1 server on 127.0.0.1 written against the
// socket, so that a test sees the exact bytes of every request and
// controls when connections close. It answers "ok" to each request, but
// after closeAfter responses on a connection (when > 0) it reads the next
// request and closes the connection without answering or saying so
// beforehand.
type rawServer struct {
	ln         net.Listener
	closeAfter int
	mu         sync.Mutex
	requests   [][]byte // raw requests received, in order
	drops      int
	conns      atomic.Int64
	wg         sync.WaitGroup
}

func newRawServer(t *testing.T, closeAfter int) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, closeAfter: closeAfter}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *rawServer) url() string { return "http://" + s.ln.Addr().String() }

func (s *rawServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for n := 0; ; n++ {
		var raw bytes.Buffer
		req, err := http.ReadRequest(bufio.NewReader(io.TeeReader(br, &raw)))
		if err != nil {
			return
		}
		// ReadRequest's own reader may read ahead into the next request;
		// a client that does not pipeline sends nothing more, so the
		// whole buffer is this request.
		io.Copy(io.Discard, req.Body)
		s.mu.Lock()
		s.requests = append(s.requests, raw.Bytes())
		if s.closeAfter > 0 && n >= s.closeAfter {
			s.drops++
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		body := "ok\n"
		if req.Method == http.MethodHead {
			body = ""
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\n%s", body)
	}
}

func (s *rawServer) snapshot() (reqs [][]byte, drops int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.requests...), s.drops
}

func request(t *testing.T, method, url, body string, seq int, header ...string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Vegeta-Seq", strconv.Itoa(seq))
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

func do(c *Client, req *http.Request) error {
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// Turning retries off does not change a byte of what is sent, for every
// method with and without a body.
func TestNoRetrySameWire(t *testing.T) {
	type call struct{ method, body string }
	calls := []call{{"GET", ""}, {"HEAD", ""}, {"DELETE", ""}, {"OPTIONS", ""}, {"POST", ""}, {"PUT", ""}, {"PATCH", ""},
		{"POST", "a=1"}, {"PUT", "{}"}, {"PATCH", "x"}, {"DELETE", "y"}}
	wire := map[bool][][]byte{}
	for _, retry := range []bool{true, false} {
		srv := newRawServer(t, 0)
		c := NewClient(ClientConfig{Retry: retry, KeepAlive: true, Timeout: 5 * time.Second, MaxBody: -1})
		for i, cl := range calls {
			if err := do(c, request(t, cl.method, srv.url()+"/p?q=1", cl.body, i)); err != nil {
				t.Fatalf("retry %v: %s: %v", retry, cl.method, err)
			}
		}
		c.CloseIdleConnections()
		wire[retry], _ = srv.snapshot()
	}
	if len(wire[true]) != len(calls) || len(wire[false]) != len(calls) {
		t.Fatalf("server saw %d and %d requests, want %d each", len(wire[true]), len(wire[false]), len(calls))
	}
	for i := range calls {
		a, b := wire[true][i], wire[false][i]
		if !bytes.HasPrefix(a, []byte(calls[i].method+" /p?q=1 HTTP/1.1\r\n")) || !bytes.HasSuffix(a, []byte("\r\n\r\n"+calls[i].body)) {
			t.Errorf("request %d captured as %q", i, a)
		}
		// The Host header's port differs between the two servers.
		a = bytes.Replace(a, []byte(srvPort(a)), []byte("PORT"), 1)
		b = bytes.Replace(b, []byte(srvPort(b)), []byte("PORT"), 1)
		if !bytes.Equal(a, b) {
			t.Errorf("%s %q: retry on sends\n%q\nretry off sends\n%q", calls[i].method, calls[i].body, a, b)
		}
	}
}

// srvPort returns the host:port of a raw request's Host header.
func srvPort(raw []byte) string {
	for _, line := range strings.Split(string(raw), "\r\n") {
		if h, ok := strings.CutPrefix(line, "Host: "); ok {
			return h
		}
	}
	return "\x00"
}

// Against a server that drops every 4th request on a connection, one
// connection at a time: with retry on every GET succeeds and exactly the
// dropped ones are reuse failures; with retry off exactly those fail,
// with EOF.
func TestReuseFailureCount(t *testing.T) {
	for _, retry := range []bool{true, false} {
		srv := newRawServer(t, 3)
		c := NewClient(ClientConfig{Retry: retry, KeepAlive: true, Connections: 1, Timeout: 5 * time.Second, MaxBody: -1})
		var failed, errs int
		for i := 0; i < 40; i++ {
			err := do(c, request(t, "GET", srv.url()+"/", "", i))
			if err != nil {
				errs++
				if !strings.Contains(err.Error(), "EOF") {
					t.Errorf("retry %v: request %d: %v, want an EOF", retry, i, err)
				}
			}
			if c.Take(uint64(i)) {
				failed++
			}
			if c.Take(uint64(i)) {
				t.Fatalf("Take(%d) answered true twice", i)
			}
		}
		c.CloseIdleConnections()
		reqs, drops := srv.snapshot()
		// On the wire: with retry on each drop was sent again; with it
		// off nothing was.
		if want := map[bool]int{true: 40 + drops, false: 40}[retry]; len(reqs) != want {
			t.Errorf("retry %v: the server received %d requests, want %d", retry, len(reqs), want)
		}
		t.Logf("retry %v: %d dropped, %d reuse failures, %d errors", retry, drops, failed, errs)
		if drops < 9 || failed != drops {
			t.Errorf("retry %v: %d reuse failures, want the %d dropped (>= 9)", retry, failed, drops)
		}
		if want := map[bool]int{true: 0, false: drops}[retry]; errs != want {
			t.Errorf("retry %v: %d errors, want %d", retry, errs, want)
		}
	}
}

// A bodiless POST with an Idempotency-Key header is one net/http re-sends
// and that cannot be marked otherwise without a chunked body: with retry
// off the re-send happens, but the request is reported failed, as a client
// that does not retry would have seen it.
func TestNoRetryResentReported(t *testing.T) {
	srv := newRawServer(t, 1)
	c := NewClient(ClientConfig{Retry: false, KeepAlive: true, Connections: 1, Timeout: 5 * time.Second, MaxBody: -1})
	if err := do(c, request(t, "POST", srv.url()+"/", "", 0, "Idempotency-Key", "k0")); err != nil {
		t.Fatal(err)
	}
	err := do(c, request(t, "POST", srv.url()+"/", "", 1, "Idempotency-Key", "k1"))
	if !errors.Is(err, ErrResent) || !c.Take(1) {
		t.Fatalf("re-sent POST: err %v, reuse failure %v; want ErrResent and a reuse failure", err, c.Take(1))
	}
	if reqs, _ := srv.snapshot(); len(reqs) != 3 {
		t.Errorf("server saw %d requests, want 3 (the dropped one was re-sent)", len(reqs))
	}
}

// A class's timeout replaces the client's for its requests only.
func TestClassTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		io.WriteString(w, "late\n")
	}))
	defer srv.Close()
	c := NewClient(ClientConfig{Retry: true, KeepAlive: true, Timeout: 5 * time.Second, MaxBody: -1,
		ClassTimeouts: map[string]time.Duration{"hasty": 50 * time.Millisecond}})
	if err := do(c, request(t, "GET", srv.URL+"/#hasty", "", 0)); err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Errorf("class hasty (50ms) against a 200ms answer: %v, want a deadline error", err)
	}
	if err := do(c, request(t, "GET", srv.URL+"/#patient", "", 1)); err != nil {
		t.Errorf("class patient (the client's 5s): %v", err)
	}
	c = NewClient(ClientConfig{Retry: true, KeepAlive: true, Timeout: 50 * time.Millisecond, MaxBody: -1})
	if err := do(c, request(t, "GET", srv.URL+"/", "", 2)); err == nil || !strings.Contains(err.Error(), "timeout 50ms exceeded") {
		t.Errorf("client timeout 50ms against a 200ms answer: %v, want a timeout", err)
	}
}

// max_body keeps that many bytes of each body in the results, and the
// connection is still reused; keepalive off opens one per request; http2
// speaks h2c to an http URL.
func TestClientModel(t *testing.T) {
	var conns atomic.Int64
	var proto atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto.Store(int64(r.ProtoMajor))
		io.WriteString(w, strings.Repeat("x", 100))
	})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()

	attack := func(cfg ClientConfig) []*vegeta.Result {
		c := NewClient(cfg)
		defer c.CloseIdleConnections()
		atk := vegeta.NewAttacker(append(c.Options(), vegeta.Workers(1), vegeta.MaxWorkers(1))...)
		var out []*vegeta.Result
		tr := vegeta.NewStaticTargeter(vegeta.Target{Method: "GET", URL: srv.URL + "/"})
		for res := range atk.Attack(tr, vegeta.ConstantPacer{Freq: 50, Per: time.Second}, 200*time.Millisecond, "t") {
			out = append(out, res)
		}
		return out
	}
	base := ClientConfig{Retry: true, KeepAlive: true, Timeout: 5 * time.Second}

	conns.Store(0)
	cfg := base
	cfg.MaxBody = 10
	res := attack(cfg)
	if len(res) < 5 {
		t.Fatalf("%d results", len(res))
	}
	for _, r := range res {
		if r.Error != "" || len(r.Body) != 10 || r.BytesIn != 10 {
			t.Fatalf("max_body 10: result error %q, body %d bytes", r.Error, len(r.Body))
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("max_body 10: %d connections for %d sequential requests, want 1 (the rest of each body read)", n, len(res))
	}

	conns.Store(0)
	cfg = base
	cfg.MaxBody, cfg.KeepAlive = -1, false
	res = attack(cfg)
	if len(res[0].Body) != 100 {
		t.Errorf("max_body -1: body %d bytes, want all 100", len(res[0].Body))
	}
	if n := conns.Load(); n != int64(len(res)) {
		t.Errorf("keepalive off: %d connections for %d requests, want one each", n, len(res))
	}

	cfg = base
	cfg.MaxBody = -1
	attack(cfg)
	if proto.Load() != 1 {
		t.Errorf("http2 off: the server saw HTTP/%d", proto.Load())
	}
	cfg.HTTP2 = true
	res = attack(cfg)
	if res[0].Error != "" || proto.Load() != 2 {
		t.Errorf("http2 on: error %q, the server saw HTTP/%d, want h2c", res[0].Error, proto.Load())
	}
}

// Forks of a client share its connections but count reuse failures
// apart: two attackers' requests with the same sequence number are each
// answered for by their own fork.
func TestForkSharesConnectionsCountsApart(t *testing.T) {
	// Every connection serves two requests and drops the third: with one
	// pool the forks' requests alternate on it, so each fork sees drops.
	srv := newRawServer(t, 2)
	c := NewClient(ClientConfig{Retry: false, KeepAlive: true, Connections: 1, Timeout: 5 * time.Second, MaxBody: -1})
	a, b := c.Fork(), c.Fork()
	var failedA, failedB, dropped int
	for i := 0; i < 20; i++ {
		if err := do(a, request(t, "GET", srv.url()+"/a", "", i)); err != nil {
			dropped++
		}
		if b.Take(uint64(i)) {
			t.Errorf("fork b answered for fork a's request %d", i)
		}
		if a.Take(uint64(i)) {
			failedA++
		}
		if err := do(b, request(t, "GET", srv.url()+"/b", "", i)); err != nil {
			dropped++
		}
		if a.Take(uint64(i)) {
			t.Errorf("fork a answered for fork b's request %d", i)
		}
		if b.Take(uint64(i)) {
			failedB++
		}
	}
	c.CloseIdleConnections()
	_, drops := srv.snapshot()
	if failedA == 0 || failedB == 0 || failedA+failedB != drops || dropped != drops {
		t.Errorf("reuse failures a %d + b %d, errors %d, want both > 0 and the %d dropped", failedA, failedB, dropped, drops)
	}
	// One connection at a time for both forks (Connections: 1): the
	// server saw a new connection only after a drop (two pools would have
	// opened one more).
	if n := srv.conns.Load(); n > int64(drops)+1 {
		t.Errorf("%d connections for %d drops, want at most drops+1 (one shared pool)", n, drops)
	}
}
