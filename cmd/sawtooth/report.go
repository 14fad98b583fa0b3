package main

import "github.com/urfave/cli/v2"

// reportCommand is a placeholder until its issue lands.
func reportCommand() *cli.Command {
	return &cli.Command{Name: "report", Usage: "(not yet built)", Hidden: true,
		Action: func(*cli.Context) error { return cli.Exit("sawtooth report: not yet built", 1) }}
}
