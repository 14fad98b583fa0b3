package rawhttp

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A Conn reuses its connection while the server keeps it alive, and opens
// a new one after "Connection: close".
func TestConnKeepAliveAndClose(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 2 {
			w.Header().Set("Connection", "close")
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	c := &Conn{Addr: strings.TrimPrefix(srv.URL, "http://")}
	defer c.Close()
	want := []struct{ reused, close bool }{{false, false}, {true, true}, {false, false}}
	for i, w := range want {
		r := c.Get("/", nil)
		if !r.OK() || r.Reused != w.reused || r.Close != w.close {
			t.Errorf("request %d: ok %v reused %v close %v err %v; want ok, reused %v, close %v", i+1, r.OK(), r.Reused, r.Close, r.Err, w.reused, w.close)
		}
	}
}

// rawServer answers each connection's first request, then closes the
// connection after reading (or waiting for) the next one, as a server that
// drops a kept-alive connection does; it never sends "Connection: close".
func rawServer(t *testing.T, readNext bool) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				nc.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				if readNext {
					http.ReadRequest(br)
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// A request the server drops on a reused connection is a failure, never
// retried.
func TestConnReportsDrop(t *testing.T) {
	c := &Conn{Addr: rawServer(t, true), Timeout: 5 * time.Second}
	defer c.Close()
	if r := c.Get("/", nil); !r.OK() {
		t.Fatalf("first request: %v", r.Err)
	}
	r := c.Get("/", nil)
	if r.OK() || r.Err == nil || !r.Reused {
		t.Fatalf("dropped request: ok %v reused %v err %v; want a failure on the reused connection", r.OK(), r.Reused, r.Err)
	}
	st := NewStats("", "")
	st.Add(r)
	if st.Failed() != 1 || st.Requests() != 1 {
		t.Errorf("stats: %s; want 1 request, 1 failed", st)
	}
}

// With CheckIdle, a connection the server closed while it idled is
// replaced before the request is sent; without it, the request fails.
func TestCheckIdle(t *testing.T) {
	addr := rawServer(t, false) // closes right after the first response
	for _, check := range []bool{true, false} {
		c := &Conn{Addr: addr, CheckIdle: check, Timeout: 5 * time.Second}
		if r := c.Get("/", nil); !r.OK() {
			t.Fatalf("first request: %v", r.Err)
		}
		time.Sleep(50 * time.Millisecond) // the server's FIN arrives
		r := c.Get("/", nil)
		if check && (!r.OK() || r.Reused) {
			t.Errorf("CheckIdle: ok %v reused %v err %v; want ok on a new connection", r.OK(), r.Reused, r.Err)
		}
		if !check && r.OK() {
			t.Errorf("without CheckIdle: the request on the closed connection succeeded")
		}
		c.Close()
	}
}

// Paced sends rate × d requests, on reused connections.
func TestPaced(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	st := NewStats("", "")
	Paced(context.Background(), st, strings.TrimPrefix(srv.URL, "http://"), "/", 200, 500*time.Millisecond, 16)
	if st.Requests() != 100 || st.Failed() != 0 {
		t.Errorf("paced: %s; want 100 requests, 0 failed", st)
	}
}
