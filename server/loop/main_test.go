package loop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// TestMain makes the test binary double as an offload child, as the
// sawtooth binary does.
func TestMain(m *testing.M) {
	if os.Getenv(ChildEnv) == ChildEnvOffload {
		if err := RunOffloadChild(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// testServer is a Server on a 127.0.0.1:0 listener with a client for it.
type testServer struct {
	*Server
	base   string
	client *http.Client
	log    *syncBuffer
	served chan error
}

func startServer(t testing.TB, cfg Config, opts Options) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	srv, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	ts := &testServer{
		Server: srv,
		base:   "http://" + ln.Addr().String(),
		client: &http.Client{
			Transport: &http.Transport{MaxIdleConnsPerHost: 200},
			Timeout:   30 * time.Second,
		},
		log:    logs,
		served: make(chan error, 1),
	}
	go func() { ts.served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ts.client.CloseIdleConnections()
		srv.Close()
	})
	return ts
}

// reply is what a test keeps of a response.
type reply struct {
	status int
	header http.Header
	body   string
	at     time.Time // when the response was read
	seq    int       // order in which responses were read
}

// get sends GET path with the request id (if any) and reads the response.
func (ts *testServer) get(path, id string) (reply, error) {
	req, err := http.NewRequest(http.MethodGet, ts.base+path, nil)
	if err != nil {
		return reply{}, err
	}
	if id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	resp, err := ts.client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("GET %s: read body: %w", path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b), at: time.Now()}, nil
}

// mustGet is get that fails the test on an error or a non-200 status.
func (ts *testServer) mustGet(t *testing.T, path, id string) reply {
	t.Helper()
	r, err := ts.get(path, id)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, r.status, r.body)
	}
	return r
}

// orderLog records the order in which requests finish on the loop.
type orderLog struct {
	mu    sync.Mutex
	paths []string
}

func (o *orderLog) after(r *http.Request, h http.Header, status int, n int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.paths = append(o.paths, r.URL.Path)
}

func (o *orderLog) index(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, p := range o.paths {
		if p == path {
			return i
		}
	}
	return -1
}

func (o *orderLog) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return fmt.Sprint(o.paths)
}

// lagLog records lag observations.
type lagLog struct {
	mu  sync.Mutex
	obs []time.Duration
}

func (l *lagLog) add(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.obs = append(l.obs, d)
}

func (l *lagLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.obs = nil
}

// stats returns the number of observations, the largest, and how many are
// at least min.
func (l *lagLog) stats(min time.Duration) (n int, max time.Duration, atLeast int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.obs {
		if d > max {
			max = d
		}
		if d >= min {
			atLeast++
		}
	}
	return len(l.obs), max, atLeast
}

// above returns how many observations of the histogram h exceed the bucket
// bound le (which must be one of LagBuckets).
func above(t *testing.T, s *Server, le float64) uint64 {
	t.Helper()
	var m dto.Metric
	if err := s.LagHistogram().Write(&m); err != nil {
		t.Fatal(err)
	}
	h := m.GetHistogram()
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == le {
			return h.GetSampleCount() - b.GetCumulativeCount()
		}
	}
	t.Fatalf("no histogram bucket with le=%v", le)
	return 0
}

// serveResult waits for Serve to return.
func (ts *testServer) serveResult(t *testing.T) error {
	t.Helper()
	select {
	case err := <-ts.served:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
		return nil
	}
}

func isServerClosed(err error) bool { return errors.Is(err, http.ErrServerClosed) }
