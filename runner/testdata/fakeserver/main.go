// Command fakeserver is a small HTTP server used as a command target in
// the runner's tests. It can fork child processes (one of which may leave
// the process group), ignore SIGTERM, never become ready, exit early,
// find its port taken once, or close each keep-alive connection after N
// responses without saying so (no Connection: close), as a recycling
// worker does.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// served is the context key of a connection's count of responses.
type served struct{}

func main() {
	port := flag.Int("port", 0, "port to listen on (127.0.0.1)")
	children := flag.Int("children", 0, "child processes to fork")
	escape := flag.Bool("escape", false, "start one more child in a new session (out of the process group)")
	ignoreTerm := flag.Bool("ignore-term", false, "ignore SIGTERM (also in children)")
	mode := flag.String("mode", "ready", "ready, never (never answers 2xx) or exit (exit 3 after printing)")
	lines := flag.Int("lines", 3, "lines printed at start")
	child := flag.Bool("child", false, "run as a child: sleep until killed")
	collideOnce := flag.String("collide-once", "", "if this file does not exist, create it and fail to bind the port because it is already taken (the free-port race)")
	closeAfter := flag.Int64("close-after", 0, "on / (not /healthz or /metrics): after N responses on a connection, read the next request, print \"dropped\" and close the connection without answering")
	flag.Parse()

	if *ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
	}
	if *child {
		fmt.Printf("child %d started\n", os.Getpid())
		select {}
	}
	for i := 1; i <= *lines; i++ {
		fmt.Printf("fake server line %d\n", i)
	}
	if *mode == "exit" {
		fmt.Fprintln(os.Stderr, "fatal: fake server exiting early")
		os.Exit(3)
	}
	start := func(setsid bool) {
		args := []string{"-child"}
		if *ignoreTerm {
			args = append(args, "-ignore-term")
		}
		cmd := exec.Command(os.Args[0], args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: setsid}
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("Booting worker with pid: %d\n", cmd.Process.Pid)
		go cmd.Wait()
	}
	for i := 0; i < *children; i++ {
		start(false)
	}
	if *escape {
		start(true)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if *mode == "never" {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if n := r.Context().Value(served{}).(*atomic.Int64); *closeAfter > 0 && n.Add(1) > *closeAfter {
			io.Copy(io.Discard, r.Body) // read all of it: unread data would make the close a reset
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			fmt.Printf("dropped %s %s\n", r.Method, r.URL.Path)
			conn.Close()
			return
		}
		if ms, err := strconv.Atoi(r.URL.Query().Get("ms")); err == nil {
			time.Sleep(time.Duration(ms) * time.Millisecond)
		}
		fmt.Fprintln(w, "hello")
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# TYPE fake_requests_total counter\nfake_requests_total{path=\"/\"} 7\n# TYPE fake_lag_seconds histogram\nfake_lag_seconds_bucket{le=\"0.1\"} 1\nfake_lag_seconds_bucket{le=\"+Inf\"} 2\nfake_lag_seconds_sum 0.3\nfake_lag_seconds_count 2\n")
	})
	addr := "127.0.0.1:" + strconv.Itoa(*port)
	if *collideOnce != "" {
		if f, err := os.OpenFile(*collideOnce, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); err == nil {
			f.Close()
			// Another listener takes the port first, as another process
			// might between the runner's pick and this bind.
			if _, err := net.Listen("tcp", addr); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	}
	srv := &http.Server{Addr: addr, Handler: mux, ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, served{}, new(atomic.Int64))
	}}
	err := srv.ListenAndServe()
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
