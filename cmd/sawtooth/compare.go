package main

import "github.com/urfave/cli/v2"

// compareCommand is a placeholder until its issue lands.
func compareCommand() *cli.Command {
	return &cli.Command{Name: "compare", Usage: "(not yet built)", Hidden: true,
		Action: func(*cli.Context) error { return cli.Exit("sawtooth compare: not yet built", 1) }}
}
