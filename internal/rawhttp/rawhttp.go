// Package rawhttp is a non-retrying HTTP/1.1 keep-alive client for tests
// and benchmarks of servers that recycle their workers.
//
// net/http's Transport (and everything built on it, vegeta included)
// silently retries an idempotent request that fails on a reused
// connection, which hides exactly the failures a recycling server must not
// cause. A Conn here writes a request on its own connection, reads the
// response with http.ReadResponse, and reports any failure as it is: a
// refused connection, a reset, an EOF before the response, a timeout or a
// non-200 status. It reconnects only when the server said
// "Connection: close" (or after a failure), never to retry a request.
package rawhttp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// DefaultTimeout bounds one request (connect, write, read) when
// Conn.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Conn is one client connection to Addr, opened on first use and reopened
// after the server closes it. It is not safe for concurrent use.
type Conn struct {
	// Addr is the server's host:port.
	Addr string
	// Timeout bounds each request; 0 means DefaultTimeout.
	Timeout time.Duration
	// CheckIdle makes Get check, before it reuses a connection, that the
	// server has not closed it meanwhile (as urllib3 and net/http do; wrk
	// does not), and open a new one if it has. The request has not been
	// sent then, so this is no retry; what is left is the race of a
	// request sent at the instant the server closes the connection.
	CheckIdle bool

	c      net.Conn
	br     *bufio.Reader
	served int       // requests answered on c
	last   time.Time // when the last response on c was read
}

// Result is the outcome of one request.
type Result struct {
	// Status is the response's status code, 0 if there was none.
	Status int
	// Header is the response's header, nil if there was none.
	Header http.Header
	// Close reports that the response carried "Connection: close".
	Close bool
	// Reused reports that the request went on a connection that had
	// answered a request before.
	Reused bool
	// Idle is how long the connection was idle before this request
	// (0 on a new connection).
	Idle time.Duration
	// Err is the failure, if any (a non-200 status is not an Err; see OK).
	Err error
}

// OK reports whether the request got a 200 response.
func (r Result) OK() bool { return r.Err == nil && r.Status == http.StatusOK }

// Int returns header name of the response as an integer, 0 if absent.
func (r Result) Int(name string) int64 {
	if r.Header == nil {
		return 0
	}
	n, _ := strconv.ParseInt(r.Header.Get(name), 10, 64)
	return n
}

// Get sends "GET path" with the headers in hdr (may be nil) and reads the
// response and its body.
func (c *Conn) Get(path string, hdr http.Header) Result {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var res Result
	if c.c != nil && c.CheckIdle && c.closedByPeer() {
		c.Close()
	}
	if c.c == nil {
		nc, err := net.DialTimeout("tcp", c.Addr, timeout)
		if err != nil {
			return Result{Err: fmt.Errorf("connect: %w", err)}
		}
		c.c, c.br, c.served = nc, bufio.NewReader(nc), 0
	} else {
		res.Reused, res.Idle = true, time.Since(c.last)
	}
	req, err := http.NewRequest(http.MethodGet, "http://"+c.Addr+path, nil)
	if err != nil {
		c.Close()
		return Result{Err: err}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	c.c.SetDeadline(time.Now().Add(timeout))
	if err := req.Write(c.c); err != nil {
		c.Close()
		res.Err = fmt.Errorf("write (request %d on the connection): %w", c.served+1, err)
		return res
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		c.Close()
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("connection closed before the response: %w", err)
		}
		res.Err = fmt.Errorf("read (request %d on the connection): %w", c.served+1, err)
		return res
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	res.Status, res.Header, res.Close = resp.StatusCode, resp.Header, resp.Close
	if err != nil {
		c.Close()
		res.Err = fmt.Errorf("read body: %w", err)
		return res
	}
	c.served, c.last = c.served+1, time.Now()
	if resp.Close {
		c.Close()
	}
	return res
}

// closedByPeer reports whether the server closed the idle connection (or
// sent something unasked): a peek that does not wait finds EOF or data,
// as urllib3's wait_for_read(sock, timeout=0) does.
func (c *Conn) closedByPeer() bool {
	if c.br.Buffered() > 0 {
		return true
	}
	sc, ok := c.c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = rerr == nil || n > 0 || rerr != syscall.EAGAIN
		return true
	})
	return closed || err != nil
}

// Open reports whether the connection is open (it is after a response that
// kept it alive).
func (c *Conn) Open() bool { return c.c != nil }

// Close closes the connection, if open.
func (c *Conn) Close() error {
	if c.c == nil {
		return nil
	}
	err := c.c.Close()
	c.c, c.br = nil, nil
	return err
}
