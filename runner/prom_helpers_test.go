package runner

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// prometheusBin is Debian's Prometheus (package prometheus).
const prometheusBin = "/usr/bin/prometheus"

// requirePrometheus skips the test when Prometheus is not installed, or
// fails it when CI is set (CI installs it, so missing is a bug).
func requirePrometheus(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(prometheusBin); err == nil {
		return
	}
	msg := prometheusBin + " not installed; install the Debian package with `apt-get install prometheus` (scripts/deps.sh, `make deps`)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// testFreePort returns a port on 127.0.0.1 nothing listens on now.
func testFreePort(t *testing.T) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startGroup starts argv in its own process group, with its output in
// log, killed with its group when the test ends.
func startGroup(t *testing.T, log string, argv ...string) *exec.Cmd {
	t.Helper()
	out, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("start %s: %v", argv[0], err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		out.Close()
		if t.Failed() {
			if b, err := os.ReadFile(log); err == nil {
				lines := strings.Split(strings.TrimSpace(string(b)), "\n")
				t.Logf("%s (last lines):\n%s", filepath.Base(log), strings.Join(lines[max(0, len(lines)-15):], "\n"))
			}
		}
	})
	return cmd
}

// served is a "sawtooth serve" the test started.
type served struct {
	pid         int
	base, admin string // http://127.0.0.1:PORT
}

// startServe starts "sawtooth serve" on free ports with args and waits
// until its ready file is written.
func startServe(t *testing.T, args ...string) served {
	t.Helper()
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready.json")
	argv := append([]string{sawtoothBin, "serve", "--bind=127.0.0.1:0", "--admin-bind=127.0.0.1:0", "--ready-file=" + ready}, args...)
	cmd := startGroup(t, filepath.Join(dir, "serve.log"), argv...)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var r struct {
			PID   int    `json:"pid"`
			Bind  string `json:"bind"`
			Admin string `json:"admin"`
		}
		if b, err := os.ReadFile(ready); err == nil && json.Unmarshal(b, &r) == nil && r.Bind != "" {
			if r.PID == 0 {
				r.PID = cmd.Process.Pid
			}
			return served{pid: r.PID, base: "http://" + r.Bind, admin: "http://" + r.Admin}
		}
		if time.Now().After(deadline) {
			t.Fatalf("sawtooth serve not ready after 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startPrometheus starts Prometheus on a free port, scraping each of
// targets' /metrics (host:port) every second, and waits until it is
// ready. It returns its URL.
func startPrometheus(t *testing.T, targets ...string) string {
	t.Helper()
	requirePrometheus(t)
	dir := t.TempDir()
	quoted := make([]string, len(targets))
	for i, tg := range targets {
		quoted[i] = strconv.Quote(tg)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: sawtooth
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: [%s]
`, strings.Join(quoted, ", "))
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	port := testFreePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	startGroup(t, filepath.Join(dir, "prometheus.log"), prometheusBin,
		"--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	url := "http://" + addr
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := client.Get(url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus at %s not ready after 30s", url)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// hostPort returns the host:port of an http URL.
func hostPort(url string) string {
	return strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://")
}
