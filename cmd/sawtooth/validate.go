package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// validateCommand is "sawtooth validate": check scenario files.
func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check scenario files and print OK or every error",
		ArgsUsage: "SCENARIO...",
		Description: `Parses and validates each SCENARIO (a file, or the name of a shipped scenario)
without running anything, applying --set overrides as "sawtooth run" would,
with every check the run makes before it starts the target: value ranges,
combinations (a loop-model flag such as offload needs worker_model loop in
every variant), and the files the scenario names (body_file, a command's dir).
The program in a command's argv is looked up only when the run starts.
Prints "OK" with the variants that would run, or every error as
FILE:LINE:COL: field PATH: what was wrong, what was expected.
With --print, also prints the scenario as it would run (defaults filled in).

With --format json, prints one JSON array on stdout instead: per scenario
"scenario", "valid", its "variants", "repeat" and "load_seconds", or its
"errors", each with "file", "line", "column" (0 when there is no position),
"field" and "message".

Exit status: 0 when every scenario is valid, 2 otherwise.`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "set", Usage: "override a builtin flag or command variable, `KEY=VALUE` (repeatable), checked like the file"},
			&cli.BoolFlag{Name: "print", Usage: "print each valid scenario as it would run, in YAML"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "`FORMAT` of the result: text, or json (one array of results with each error's file, line, column, field and message on stdout)"},
		},
		Action: validateAction,
	}
}

func validateAction(c *cli.Context) error {
	args, err := positionalArgs(c)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return usageError("validate: want at least one SCENARIO (a file or a shipped scenario's name)")
	}
	format := c.String("format")
	if format != "text" && format != "json" {
		return usageError("validate: --format: want text or json, got %q", format)
	}
	if format == "json" && c.Bool("print") {
		return usageError("validate: --print is for --format text (the JSON result has no scenario)")
	}
	out, errOut := c.App.Writer, c.App.ErrWriter
	bad := 0
	var results []validateResult
	for _, path := range args {
		s, err := scenarios.Load(path)
		if err == nil {
			err = s.ApplySet(c.StringSlice("set"))
		}
		if format == "json" {
			r := newValidateResult(path, s, err)
			if !r.Valid {
				bad++
			}
			results = append(results, r)
			continue
		}
		if err != nil {
			bad++
			printInvalid(errOut, path, err)
			continue
		}
		if err := printValid(out, path, s, c.Bool("print")); err != nil {
			return err
		}
	}
	if format == "json" {
		if err := writeJSONTo(out, results); err != nil {
			return err
		}
	}
	if bad > 0 {
		return usageError("validate: %d of %d scenario(s) invalid", bad, len(args))
	}
	return nil
}

// printInvalid prints why the scenario at path is invalid: each field
// error on a line of its own.
func printInvalid(w io.Writer, path string, err error) {
	var ve *scenarios.ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Errors {
			fmt.Fprintln(w, fe)
		}
	} else {
		fmt.Fprintf(w, "%s: %v\n", path, err)
	}
}

// printValid prints the one-line summary of the valid scenario s at path
// and, when yaml is set, s as YAML.
func printValid(w io.Writer, path string, s *scenarios.Scenario, yaml bool) error {
	variants := s.Expand()
	names := make([]string, len(variants))
	for i, v := range variants {
		names[i] = v.Name
	}
	fmt.Fprintf(w, "%s: OK: %s × %s, %v of load each: %s\n",
		path, plural(len(variants), "variant"), plural(s.Repeat, "repeat"), s.TotalDuration(), strings.Join(names, ", "))
	if yaml {
		y, err := s.Marshal()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\n", y)
	}
	return nil
}

// validateResult is one scenario's entry in "validate --format json".
type validateResult struct {
	Scenario string   `json:"scenario"` // as given on the command line
	Valid    bool     `json:"valid"`
	Variants []string `json:"variants,omitempty"`
	Repeat   int      `json:"repeat,omitempty"`
	// LoadSeconds is the length of one run of one variant.
	LoadSeconds float64      `json:"load_seconds,omitempty"`
	Errors      []fieldError `json:"errors,omitempty"`
}

// fieldError is a scenarios.FieldError in JSON; Line and Column are 0
// when there is no position (see docs/scenarios.md).
type fieldError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func newValidateResult(path string, s *scenarios.Scenario, err error) validateResult {
	r := validateResult{Scenario: path, Valid: err == nil}
	if err != nil {
		var ve *scenarios.ValidationError
		if errors.As(err, &ve) {
			for _, fe := range ve.Errors {
				r.Errors = append(r.Errors, fieldError{File: fe.File, Line: fe.Line, Column: fe.Column, Field: fe.Path, Message: fe.Msg})
			}
		} else {
			r.Errors = []fieldError{{File: path, Message: err.Error()}}
		}
		return r
	}
	for _, v := range s.Expand() {
		r.Variants = append(r.Variants, v.Name)
	}
	r.Repeat, r.LoadSeconds = s.Repeat, s.TotalDuration().Seconds()
	return r
}

// writeJSONTo writes v to w as indented JSON and a newline.
func writeJSONTo(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// plural formats "1 variant", "2 variants".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
