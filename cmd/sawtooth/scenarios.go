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
		},
		Action: scenariosAction,
	}
}

func scenariosAction(c *cli.Context) error {
	out := c.App.Writer
	switch {
	case c.Bool("schema"):
		if c.NArg() > 0 {
			return usageError("scenarios: --schema takes no NAME")
		}
		_, err := out.Write(scenarios.Schema())
		return err
	case c.NArg() == 1:
		data, err := scenarios.ShippedFile(c.Args().First())
		if err != nil {
			return usageError("scenarios: %v", err)
		}
		_, err = out.Write(data)
		return err
	case c.NArg() > 1:
		return usageError("scenarios: want at most one NAME, got %d", c.NArg())
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
