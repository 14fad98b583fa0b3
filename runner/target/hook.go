package target

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// RunHook runs argv to completion without a shell, in its own process
// group, with its output copied to log (may be nil). It fails when the
// command cannot start, exits non-zero, or outlives timeout or ctx (its
// whole group is then killed); the error carries the last lines of its
// output.
func RunHook(ctx context.Context, argv []string, timeout time.Duration, log io.Writer) error {
	if len(argv) == 0 {
		return errors.New("hook: empty command")
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var out bytes.Buffer
	w := io.Writer(&out)
	if log != nil {
		w = io.MultiWriter(&out, log)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // children it left behind
	}
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("still running after %v: %w", timeout, err)
	}
	tail := strings.TrimSpace(out.String())
	if lines := strings.Split(tail, "\n"); len(lines) > tailLines {
		tail = strings.Join(lines[len(lines)-tailLines:], "\n")
	}
	if tail == "" {
		tail = "(no output)"
	}
	return fmt.Errorf("%s: %w\nlast lines of its output:\n%s", strings.Join(argv, " "), err, indent(tail))
}
