package main

import (
	"io"
	"maps"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/sawtooth-dev/sawtooth/server"
	"github.com/sawtooth-dev/sawtooth/server/serveflags"
)

// TestServeFlags: the serve command has a flag per serveflags entry, and
// passes exactly the flags given (booleans bare or with a value) to
// server.ConfigFromValues.
func TestServeFlags(t *testing.T) {
	cmd := serveCommand()
	if len(cmd.Flags) != len(serveflags.List()) {
		t.Errorf("serve has %d flags, serveflags %d", len(cmd.Flags), len(serveflags.List()))
	}
	var got map[string]string
	cmd.Action = func(c *cli.Context) error { got = serveValues(c); return nil }
	app := &cli.App{Name: "sawtooth", Commands: []*cli.Command{cmd}, Writer: io.Discard, ErrWriter: io.Discard}
	if err := app.Run([]string{"sawtooth", "serve", "--workers", "3", "--overlap", "--gil=false", "--worker-model=loop", "--max-rss", "1GiB"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"workers": "3", "overlap": "true", "gil": "false", "worker-model": "loop", "max-rss": "1GiB"}
	if !maps.Equal(got, want) {
		t.Errorf("serve passed %v, want %v", got, want)
	}
	cfg, err := server.ConfigFromValues(got)
	if err != nil || cfg.Workers != 3 || !cfg.Worker.Overlap || cfg.Worker.Loop == nil || cfg.Worker.Loop.GIL || cfg.Worker.MaxRSS != 1<<30 {
		t.Errorf("config %+v, %v", cfg, err)
	}
}
