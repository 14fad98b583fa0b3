package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"

	"github.com/sawtooth-dev/sawtooth/server/loop"
)

// measureServe measures one row through "p.sawtooth serve": a master with
// one loop worker on free ports, in its own process group.
func measureServe(p params, offload, heavy string) (row, error) {
	r := row{offload: offload, heavy: heavy}
	dir, err := os.MkdirTemp("", "bench-loop-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	ready := filepath.Join(dir, "ready.json")
	srv, err := startServe(p, offload, ready)
	if err != nil {
		return r, err
	}
	defer srv.kill()
	bind, adminBind, err := srv.waitReady(ready)
	if err != nil {
		return r, err
	}
	base, admin := "http://"+bind, "http://"+adminBind
	for range 5 {
		resp, err := http.Get(base + "/light")
		if err != nil {
			return r, err
		}
		resp.Body.Close()
	}
	// Let a heartbeat carry the warm-up's lag before the baseline.
	time.Sleep(1500 * time.Millisecond)
	before, err := lagBuckets(admin)
	if err != nil {
		return r, err
	}
	attackBoth(p, base, heavy, &r)
	time.Sleep(1500 * time.Millisecond) // the last heartbeat
	after, err := lagBuckets(admin)
	if err != nil {
		return r, err
	}
	r.lagP99, r.lagMax, r.lagN = bucketQuantile(before, after, 0.99)
	return r, srv.stop()
}

// serveProc is a running "sawtooth serve", in its own process group.
type serveProc struct {
	name   string // the sawtooth executable
	cmd    *exec.Cmd
	waited chan error // receives cmd.Wait's error, and is refilled by whoever takes it
}

// startServe starts "p.sawtooth serve" with one loop worker offloading to
// offload, on free ports, writing its ready file to ready.
func startServe(p params, offload, ready string) (*serveProc, error) {
	cmd := exec.Command(p.sawtooth, "serve", "--worker-model", "loop", "--workers", "1",
		"--offload", offload, "--offload-workers", strconv.Itoa(p.workers), "--switch-interval", p.switchInterval.String(),
		"--bind", "127.0.0.1:0", "--admin-bind", "127.0.0.1:0", "--ready-file", ready)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = p.serverLog
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", p.sawtooth, err)
	}
	s := &serveProc{name: p.sawtooth, cmd: cmd, waited: make(chan error, 1)}
	go func() { s.waited <- cmd.Wait() }()
	return s, nil
}

// kill kills the server's process group and waits for the server.
func (s *serveProc) kill() {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.waited
}

// waitReady waits up to 30s for the server's ready file and returns the
// listen addresses it gives.
func (s *serveProc) waitReady(ready string) (bind, admin string, err error) {
	var info struct{ Bind, Admin string }
	for deadline := time.Now().Add(30 * time.Second); ; {
		b, err := os.ReadFile(ready)
		if err == nil && json.Unmarshal(b, &info) == nil {
			break
		}
		select {
		case err := <-s.waited:
			s.waited <- err
			return "", "", fmt.Errorf("%s serve exited before ready: %v", s.name, err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return "", "", errors.New("server not ready after 30s")
		}
	}
	return info.Bind, info.Admin, nil
}

// stop sends the server SIGTERM and waits up to 20s for it to exit
// cleanly.
func (s *serveProc) stop() error {
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	select {
	case err := <-s.waited:
		s.waited <- err
		if err != nil {
			return fmt.Errorf("%s serve: %w", s.name, err)
		}
	case <-ctx.Done():
		return errors.New("server did not stop within 20s of SIGTERM")
	}
	return nil
}

// lagHist is a reading of a histogram: bucket upper bounds (the last may
// be +Inf) and cumulative counts.
type lagHist struct {
	bounds []float64
	counts []uint64
}

// lagBuckets reads the master's loop-lag histogram.
func lagBuckets(admin string) (lagHist, error) {
	var h lagHist
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	var tp expfmt.TextParser
	fams, err := tp.TextToMetricFamilies(resp.Body)
	if err != nil {
		return h, fmt.Errorf("parse %s/metrics: %w", admin, err)
	}
	f := fams[loop.LagMetricName]
	if f == nil || len(f.Metric) == 0 {
		return h, fmt.Errorf("%s/metrics has no %s", admin, loop.LagMetricName)
	}
	dh := f.Metric[0].GetHistogram()
	for _, b := range dh.Bucket {
		h.bounds = append(h.bounds, b.GetUpperBound())
		h.counts = append(h.counts, b.GetCumulativeCount())
	}
	if n := len(h.bounds); n == 0 || !math.IsInf(h.bounds[n-1], 1) {
		h.bounds = append(h.bounds, math.Inf(1))
		h.counts = append(h.counts, dh.GetSampleCount())
	}
	return h, nil
}

// bucketQuantile returns the upper bound of the bucket holding quantile q
// of the observations between two readings, the upper bound of the highest
// non-empty bucket, and the number of observations.
func bucketQuantile(before, after lagHist, q float64) (qd, maxd time.Duration, n int) {
	if len(before.counts) != len(after.counts) || len(after.counts) == 0 {
		return 0, 0, 0
	}
	last := len(after.counts) - 1
	total := after.counts[last] - before.counts[last]
	if total == 0 {
		return 0, 0, 0
	}
	dur := func(s float64) time.Duration {
		if math.IsInf(s, 1) {
			return time.Duration(math.MaxInt64)
		}
		return time.Duration(s * float64(time.Second))
	}
	rank := uint64(math.Ceil(q * float64(total)))
	found := false
	for i, b := range after.bounds {
		c := after.counts[i] - before.counts[i]
		if !found && c >= rank {
			qd, found = dur(b), true
		}
		if c == total {
			maxd = dur(b)
			break
		}
	}
	return qd, maxd, int(total)
}
