package main

import "github.com/urfave/cli/v2"

// scenariosCommand is a placeholder until its issue lands.
func scenariosCommand() *cli.Command {
	return &cli.Command{Name: "scenarios", Usage: "(not yet built)", Hidden: true,
		Action: func(*cli.Context) error { return cli.Exit("sawtooth scenarios: not yet built", 1) }}
}
