// Command sawtooth is a load-testing and leak-reproduction harness for
// pre-fork web servers. It drives a server with scripted, mixed heavy and
// light traffic, records latency, errors and the memory of every worker
// process across restarts, and compares worker-recycling and executor-offload
// configurations side by side.
//
// Run "sawtooth --help" for the commands.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/sawtooth-dev/sawtooth/server"
	"github.com/urfave/cli/v2"
)

// version is the tool's version, set at build time with
// -ldflags "-X main.version=..." (make build does); without it, toolVersion
// falls back to what the Go toolchain recorded in the binary.
var version = "dev"

// toolVersion is the version sawtooth reports (--version, run.json).
func toolVersion() string {
	bi, ok := debug.ReadBuildInfo()
	return versionFrom(version, bi, ok)
}

// versionFrom picks the version: the -ldflags one when set; else the module
// version "go install ...@v1.2.3" recorded; else "dev+" the VCS revision
// "go build" and "go install ./cmd/sawtooth" record in a checkout (12 hex
// digits, "-dirty" with uncommitted changes); else "dev".
func versionFrom(ldflags string, bi *debug.BuildInfo, ok bool) string {
	if ldflags != "dev" && ldflags != "" {
		return ldflags
	}
	if !ok || bi == nil {
		return "dev"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	if rev == "" {
		return "dev"
	}
	return "dev+" + rev[:min(12, len(rev))] + dirty
}

func main() {
	if server.RunChild() {
		return
	}
	os.Exit(run(os.Args))
}

// run runs the CLI with args and returns the process exit status:
// 0 on success, 1 on a failed run or a broken threshold, 2 on bad usage,
// 130 when interrupted.
func run(args []string) int {
	app := newApp()
	err := app.Run(args)
	if err == nil {
		return 0
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "sawtooth:", msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(os.Stderr, "sawtooth:", err)
	return 1
}

func newApp() *cli.App {
	return &cli.App{
		Name:    "sawtooth",
		Usage:   "load-test a pre-fork web server and watch its workers' memory across restarts",
		Version: toolVersion(),
		Description: `sawtooth drives a web server with scripted, mixed heavy and light traffic,
records p99 latency, throughput, errors and the memory (RSS/PSS) of every worker
process, and compares worker-recycling and executor-offload configurations side
by side. It ships its own system under test ("sawtooth serve") and drives real
gunicorn and uvicorn apps just as well.

Exit status: 0 ok, 1 a run failed or a threshold was broken, 2 bad usage or
input, 130 interrupted.`,
		EnableBashCompletion: true,
		Commands:             commands(),
		// run prints the error and picks the exit status; cli's default
		// handler would print it and exit the process itself.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError("%v", err)
		},
		CommandNotFound: func(c *cli.Context, name string) {
			fmt.Fprintf(c.App.ErrWriter, "sawtooth: no such command %q; run \"sawtooth --help\" for the list\n", name)
			cli.OsExiter(2)
		},
	}
}

// usageError returns an error that makes sawtooth exit with status 2.
func usageError(format string, args ...any) error {
	return cli.Exit(fmt.Sprintf(format, args...), 2)
}
