package main

import "github.com/urfave/cli/v2"

// runCommand is a placeholder until its issue lands.
func runCommand() *cli.Command {
	return &cli.Command{Name: "run", Usage: "(not yet built)", Hidden: true,
		Action: func(*cli.Context) error { return cli.Exit("sawtooth run: not yet built", 1) }}
}
