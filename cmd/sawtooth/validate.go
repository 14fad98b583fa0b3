package main

import "github.com/urfave/cli/v2"

// validateCommand is a placeholder until its issue lands.
func validateCommand() *cli.Command {
	return &cli.Command{Name: "validate", Usage: "(not yet built)", Hidden: true,
		Action: func(*cli.Context) error { return cli.Exit("sawtooth validate: not yet built", 1) }}
}
