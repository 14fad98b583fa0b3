package main

import (
	"github.com/sawtooth-dev/sawtooth/server"
	"github.com/urfave/cli/v2"
)

// serveCommand is "sawtooth serve", the built-in recycling server.
func serveCommand() *cli.Command { return server.Command() }
