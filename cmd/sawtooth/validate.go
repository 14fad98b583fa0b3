package main

import (
	"errors"
	"fmt"
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

Exit status: 0 when every scenario is valid, 2 otherwise.`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "set", Usage: "override a builtin flag or command variable, `KEY=VALUE` (repeatable), checked like the file"},
			&cli.BoolFlag{Name: "print", Usage: "print each valid scenario as it would run, in YAML"},
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
	out, errOut := c.App.Writer, c.App.ErrWriter
	bad := 0
	for _, path := range args {
		s, err := scenarios.Load(path)
		if err == nil {
			err = s.ApplySet(c.StringSlice("set"))
		}
		if err != nil {
			bad++
			var ve *scenarios.ValidationError
			if errors.As(err, &ve) {
				for _, fe := range ve.Errors {
					fmt.Fprintln(errOut, fe)
				}
			} else {
				fmt.Fprintf(errOut, "%s: %v\n", path, err)
			}
			continue
		}
		variants := s.Expand()
		names := make([]string, len(variants))
		for i, v := range variants {
			names[i] = v.Name
		}
		fmt.Fprintf(out, "%s: OK: %s × %s, %v of load each: %s\n",
			path, plural(len(variants), "variant"), plural(s.Repeat, "repeat"), s.TotalDuration(), strings.Join(names, ", "))
		if c.Bool("print") {
			y, err := s.Marshal()
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s\n", y)
		}
	}
	if bad > 0 {
		return usageError("validate: %d of %d scenario(s) invalid", bad, len(args))
	}
	return nil
}

// plural formats "1 variant", "2 variants".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
