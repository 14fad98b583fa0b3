package target

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// WaitURL waits for a server that the runner did not start (a URL
// target): it polls url until it answers 2xx, and fails after timeout
// (default 30s) with the last error seen, or when ctx is done. Nothing
// is started or stopped.
func WaitURL(ctx context.Context, url string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: min(time.Second, timeout)}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last := errors.New("no answer yet")
	for {
		err := ready(ctx, client, url)
		if err == nil {
			return nil
		}
		if ctx.Err() == nil {
			last = err // not the error of a request the deadline cut short
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("url target not ready after %v: %s: last error: %w", timeout, url, last)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}
