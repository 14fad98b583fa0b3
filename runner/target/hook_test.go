package target

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunHookTimeoutKillsGroup checks that a hook that outlives its
// timeout fails with its output, and that the children it started die
// with it.
func TestRunHookTimeoutKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child")
	t0 := time.Now()
	err := RunHook(context.Background(), []string{"/bin/sh", "-c", "sleep 30 & echo $! > " + pidFile + "; echo started; wait"}, 300*time.Millisecond, nil)
	if err == nil || !strings.Contains(err.Error(), "still running after 300ms") || !strings.Contains(err.Error(), "started") {
		t.Fatalf("err = %v, want a timeout with the hook's output", err)
	}
	if took := time.Since(t0); took > 5*time.Second {
		t.Errorf("took %v", took)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(2 * time.Second)
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		if st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && strings.Contains(string(st), ") Z ") {
			break // a zombie: killed, not yet reaped by init
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil && !strings.Contains(string(st), ") Z ") {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the hook's child %d survived it", pid)
	}
}

func TestRunHookExitStatus(t *testing.T) {
	if err := RunHook(context.Background(), []string{"/bin/sh", "-c", "exit 0"}, time.Second, nil); err != nil {
		t.Errorf("exit 0: %v", err)
	}
	err := RunHook(context.Background(), []string{"/bin/sh", "-c", "echo nope >&2; exit 4"}, time.Second, nil)
	if err == nil || !strings.Contains(err.Error(), "exit status 4") || !strings.Contains(err.Error(), "nope") {
		t.Errorf("exit 4: %v", err)
	}
}
