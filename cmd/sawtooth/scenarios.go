package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// scenariosCommand is "sawtooth scenarios": list or print the shipped
// scenarios, or the scenario JSON Schema.
func scenariosCommand() *cli.Command {
	return &cli.Command{
		Name:      "scenarios",
		Usage:     "list the shipped scenarios, print one, or print the scenario JSON Schema",
		ArgsUsage: "[NAME]",
		Description: `Without arguments, lists the scenarios built into sawtooth: run one with
"sawtooth run NAME". With NAME, prints that scenario's YAML, a starting point
for your own ("sawtooth scenarios quickstart > mine.yaml"). With --schema,
prints the JSON Schema of the format for editors (docs/scenarios.md).`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "schema", Usage: "print the JSON Schema of scenario files"},
			&cli.StringFlag{Name: "format", Value: "table", Usage: "`FORMAT`: table (or the YAML of NAME), or json (the list, or NAME as it would run, as JSON)"},
		},
		Action: scenariosAction,
	}
}

func scenariosAction(c *cli.Context) error {
	args, err := positionalArgs(c)
	if err != nil {
		return err
	}
	out := c.App.Writer
	format := c.String("format")
	if format != "table" && format != "json" {
		return usageError("scenarios: --format: want table or json, got %q", format)
	}
	switch {
	case c.Bool("schema"):
		if len(args) > 0 {
			return usageError("scenarios: --schema takes no NAME")
		}
		_, err := out.Write(scenarios.Schema())
		return err
	case len(args) == 1:
		data, err := scenarios.ShippedFile(args[0])
		if err != nil {
			return usageError("scenarios: %v", err)
		}
		if format == "json" {
			s, err := scenarios.Load(args[0])
			if err != nil {
				return err
			}
			return writeJSONTo(out, s)
		}
		_, err = out.Write(data)
		return err
	case len(args) > 1:
		return usageError("scenarios: want at most one NAME, got %d", len(args))
	}
	if format == "json" {
		return writeJSONTo(out, shippedList())
	}
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVARIANTS\tLENGTH\tDESCRIPTION")
	for _, info := range scenarios.Shipped() {
		if info.Err != nil {
			fmt.Fprintf(tw, "%s\t-\t-\tinvalid: %v\n", info.Name, info.Err)
			continue
		}
		s, err := scenarios.Load(info.Name)
		if err != nil {
			fmt.Fprintf(tw, "%s\t-\t-\tinvalid: %v\n", info.Name, err)
			continue
		}
		n := len(s.Expand())
		fmt.Fprintf(tw, "%s\t%d\t%v\t%s\n", info.Name, n, s.TotalDuration()*time.Duration(n*s.Repeat), firstSentence(info.Description))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nRun one with \"sawtooth run NAME\"; print its YAML with \"sawtooth scenarios NAME\".")
	return nil
}

// shippedEntry is one scenario in "scenarios --format json".
type shippedEntry struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Variants    []string `json:"variants,omitempty"`
	Repeat      int      `json:"repeat,omitempty"`
	// LoadSeconds is the load of the whole run: every variant and repeat.
	LoadSeconds float64 `json:"load_seconds,omitempty"`
	Error       string  `json:"error,omitempty"`
}

func shippedList() []shippedEntry {
	var out []shippedEntry
	for _, info := range scenarios.Shipped() {
		e := shippedEntry{Name: info.Name, Description: strings.Join(strings.Fields(info.Description), " ")}
		s, err := scenarios.Load(info.Name)
		if err != nil {
			e.Error = err.Error()
		} else {
			for _, v := range s.Expand() {
				e.Variants = append(e.Variants, v.Name)
			}
			e.Repeat = s.Repeat
			e.LoadSeconds = (s.TotalDuration() * time.Duration(len(e.Variants)*s.Repeat)).Seconds()
		}
		out = append(out, e)
	}
	return out
}

// firstSentence shortens a description to its first sentence.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i+1]
	}
	const max = 110
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}
