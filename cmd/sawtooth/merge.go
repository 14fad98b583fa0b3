package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/sawtooth-dev/sawtooth/runner/shard"
)

// mergeCommand is "sawtooth merge": merge a sharded run's directories.
func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "merge the run directories of a sharded run (run --shard I/N) into one",
		ArgsUsage: "DIR... --out DIR",
		Description: `Merges the run directories that the N shards of one run wrote ("sawtooth run
--shard I/N --start-at TIME", one per process or machine) into one new run
directory that report, compare and plan read as if one process had run it.

The shards must belong together: the same scenario (scenario.yaml byte for
byte), seed, shard count and start time, no shard twice, and none missing
unless --partial (the merged run is then marked partial). The raw results are
merged by send time, so the percentiles are exact, and the timeline is
recomputed from them; the target's side (memory, metrics, its events) is the
first shard's, read once, since every shard watched the same target. The
report is built into the merged directory and printed. See docs/distributed.md.

Exit status: 0 when merged; 2 when the directories are not the shards of one
run, or for bad usage; 1 when the merge or its report could not be written.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "the new merged run directory `DIR` (must not exist)"},
			&cli.BoolFlag{Name: "partial", Usage: "merge even when some shards are missing, marking the merged run partial"},
		},
		Action: mergeAction,
	}
}

func mergeAction(c *cli.Context) error {
	dirs, err := positionalArgs(c)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		return usageError("merge: want the shards' run directories, DIR..., got none")
	}
	out := c.String("out")
	if out == "" {
		return usageError("merge: want --out DIR, the new merged run directory")
	}
	meta, err := shard.Merge(dirs, out, shard.Options{Partial: c.Bool("partial"), CommandLine: os.Args, ToolVersion: toolVersion()})
	switch {
	case errors.Is(err, shard.ErrMismatch):
		return usageError("merge: %v", err)
	case err != nil:
		return cli.Exit(fmt.Sprintf("merge: %v", err), 1)
	}
	fmt.Fprintf(c.App.ErrWriter, "merged %d of %d shards of %s\n", len(meta.Merged.Shards), meta.Merged.Count, meta.Scenario)
	if _, err := writeReport(c, out); err != nil {
		fmt.Fprintf(c.App.Writer, "run directory: %s\n", out)
		return cli.Exit(fmt.Sprintf("merge: %v", err), 1)
	}
	fmt.Fprintf(c.App.Writer, "run directory: %s\n", out)
	return nil
}
