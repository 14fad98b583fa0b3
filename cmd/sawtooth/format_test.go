package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/urfave/cli/v2"
)

// runCLI runs the CLI with args, returning its exit status and stdout.
func runCLI(t *testing.T, args ...string) (int, []byte) {
	t.Helper()
	var out bytes.Buffer
	app := newApp()
	app.Writer, app.ErrWriter = &out, &bytes.Buffer{}
	err := app.Run(append([]string{"sawtooth"}, args...))
	if ec, ok := err.(cli.ExitCoder); ok {
		return ec.ExitCode(), out.Bytes()
	}
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return 0, out.Bytes()
}

// TestValidateJSON checks "validate --format json": one array, a valid
// scenario with its variants, an invalid one with positioned errors, and
// exit status 2 when any is invalid.
func TestValidateJSON(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nrepeat: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runCLI(t, "validate", "quickstart", bad, "--format", "json")
	var res []validateResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if code != 2 || len(res) != 2 {
		t.Fatalf("exit %d, %d results:\n%s", code, len(res), out)
	}
	if q := res[0]; !q.Valid || len(q.Variants) != 2 || q.LoadSeconds != 20 || q.Repeat != 1 {
		t.Errorf("quickstart: %+v", q)
	}
	if b := res[1]; b.Valid || len(b.Errors) == 0 || b.Errors[0].File != bad || b.Errors[0].Line == 0 || b.Errors[0].Field == "" {
		t.Errorf("bad: %+v", b)
	}
	if code, _ := runCLI(t, "validate", "--format", "xml", "quickstart"); code != 2 {
		t.Errorf("--format xml: exit %d, want 2", code)
	}
}

// TestScenariosJSON checks "scenarios --format json", the list and one.
func TestScenariosJSON(t *testing.T) {
	code, out := runCLI(t, "scenarios", "--format", "json")
	var list []shippedEntry
	if err := json.Unmarshal(out, &list); code != 0 || err != nil {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	found := false
	for _, e := range list {
		if e.Name == "quickstart" {
			found = e.Description != "" && len(e.Variants) == 2 && e.LoadSeconds == 40 && e.Error == ""
		}
	}
	if !found {
		t.Errorf("quickstart missing or wrong in %s", out)
	}
	code, out = runCLI(t, "scenarios", "quickstart", "--format", "json")
	var one struct {
		Name   string `json:"name"`
		Phases []struct {
			Duration string `json:"duration"`
		} `json:"phases"`
	}
	if err := json.Unmarshal(out, &one); code != 0 || err != nil || one.Name != "quickstart" || len(one.Phases) != 2 || one.Phases[0].Duration != "4s" {
		t.Errorf("scenarios quickstart --format json: exit %d, %v: %s", code, err, out)
	}
}
