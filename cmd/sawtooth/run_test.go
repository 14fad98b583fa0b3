package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/sawtooth-dev/sawtooth/reports"
)

// finish runs finishRun on a copy of the testdata run directory (whose
// thresholds are partly broken) as "sawtooth run" would at its end, after
// prepare edits the copy; it returns the exit status and the output.
func finish(t *testing.T, ci bool, prepare func(dir string)) (code int, stdout, stderr string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.CopyFS(dir, os.DirFS("../../reports/testdata/run")); err != nil {
		t.Fatal(err)
	}
	if prepare != nil {
		prepare(dir)
	}
	var out, errOut bytes.Buffer
	app := &cli.App{Name: "sawtooth", Writer: &out, ErrWriter: &errOut, ExitErrHandler: func(*cli.Context, error) {},
		Commands: []*cli.Command{{Name: "run", Flags: []cli.Flag{&cli.BoolFlag{Name: "ci"}},
			Action: func(c *cli.Context) error { return finishRun(c, dir, nil) }}}}
	args := []string{"sawtooth", "run"}
	if ci {
		args = append(args, "--ci")
	}
	err := app.Run(args)
	var ec cli.ExitCoder
	switch {
	case err == nil:
	case errors.As(err, &ec):
		code = ec.ExitCode()
		errOut.WriteString(err.Error())
	default:
		t.Fatalf("finishRun: %v", err)
	}
	return code, out.String(), errOut.String()
}

// TestRunReportWriteFailure checks that a report that cannot be written
// (here report.md is a non-empty directory, as good as a full disk) makes
// "sawtooth run" exit 1 naming the file and the error, with and without
// --ci, and that the table with its PASS and FAIL lines is still printed.
func TestRunReportWriteFailure(t *testing.T) {
	for _, ci := range []bool{false, true} {
		code, out, errOut := finish(t, ci, func(dir string) {
			if err := os.MkdirAll(filepath.Join(dir, reports.MarkdownFile, "x"), 0o755); err != nil {
				t.Fatal(err)
			}
		})
		if code != 1 || !strings.Contains(errOut, reports.MarkdownFile) || !strings.Contains(errOut, "could not be written") {
			t.Errorf("ci=%v: exit %d, stderr %q; want 1 naming %s", ci, code, errOut, reports.MarkdownFile)
		}
		if !strings.Contains(out, "PASS  ") || !strings.Contains(out, "FAIL  ") {
			t.Errorf("ci=%v: no PASS/FAIL lines printed:\n%s", ci, out)
		}
	}
}

// TestRunBrokenThresholdWithoutCI checks that a broken threshold without
// --ci exits 0 but says so, with the FAIL lines and the exit status rule,
// and that with --ci it exits 1.
func TestRunBrokenThresholdWithoutCI(t *testing.T) {
	code, _, errOut := finish(t, false, nil)
	if code != 0 || !strings.Contains(errOut, "2 threshold(s) broken") || !strings.Contains(errOut, "FAIL  max-requests: errors.ratio < 1%") ||
		!strings.Contains(errOut, "exit status 0: without --ci") {
		t.Errorf("without --ci: exit %d, stderr:\n%s", code, errOut)
	}
	code, _, errOut = finish(t, true, nil)
	if code != 1 || !strings.Contains(errOut, "2 threshold(s) broken") {
		t.Errorf("with --ci: exit %d, stderr:\n%s", code, errOut)
	}
}
