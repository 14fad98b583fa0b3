package main

import "github.com/urfave/cli/v2"

// serveCommand is a placeholder until its issue lands.
func serveCommand() *cli.Command {
	return &cli.Command{Name: "serve", Usage: "(not yet built)", Hidden: true,
		Action: func(*cli.Context) error { return cli.Exit("sawtooth serve: not yet built", 1) }}
}
