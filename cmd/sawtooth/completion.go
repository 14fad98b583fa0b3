package main

import (
	"embed"
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/sawtooth-dev/sawtooth/scenarios"
)

// completionScripts are the shell scripts "sawtooth completion SHELL"
// prints; each calls "sawtooth __complete WORDS..." for its candidates.
//
//go:embed completion/sawtooth.*
var completionScripts embed.FS

// completionShells are the shells with a script, in help order.
func completionShells() []string { return []string{"bash", "zsh", "fish"} }

// completionCommand is "sawtooth completion SHELL".
func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print the shell completion script for bash, zsh or fish",
		ArgsUsage: "SHELL",
		Description: `Prints a script that completes sawtooth's commands and flags, the names of
the shipped scenarios, a scenario's variant names after --variant, the keys
--set takes, and files and directories where those are wanted. Install it:

  bash: sawtooth completion bash > ~/.local/share/bash-completion/completions/sawtooth
        (or, for one shell: source <(sawtooth completion bash))
  zsh:  sawtooth completion zsh > "${fpath[1]}/_sawtooth"   (then restart zsh)
  fish: sawtooth completion fish > ~/.config/fish/completions/sawtooth.fish`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 || !slices.Contains(completionShells(), c.Args().First()) {
				return usageError("completion: want one SHELL: %s", strings.Join(completionShells(), ", "))
			}
			b, err := completionScripts.ReadFile("completion/sawtooth." + c.Args().First())
			if err != nil {
				return err
			}
			_, err = c.App.Writer.Write(b)
			return err
		},
	}
}

// completeCommand is the hidden "sawtooth __complete WORDS..." the scripts
// call: WORDS are the command line after "sawtooth", the last one being
// completed (possibly empty). It prints one candidate per line, and
// ":files" or ":dirs" when the shell should also offer those.
func completeCommand() *cli.Command {
	return &cli.Command{
		Name:            "__complete",
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			for _, s := range complete(c.App.Commands, c.Args().Slice()) {
				fmt.Fprintln(c.App.Writer, s)
			}
			return nil
		},
	}
}

// complete returns the candidates for the last of words.
func complete(cmds []*cli.Command, words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	if len(words) == 1 {
		if strings.HasPrefix(cur, "-") {
			return []string{"--help", "--version"}
		}
		var names []string
		for _, c := range cmds {
			if !c.Hidden {
				names = append(names, c.Name)
			}
		}
		return names
	}
	var cmd *cli.Command
	for _, c := range cmds {
		if c.HasName(words[0]) {
			cmd = c
		}
	}
	if cmd == nil || cmd.Hidden {
		return nil
	}
	rest := words[1 : len(words)-1]
	if len(rest) > 0 {
		if f := valueFlag(cmd, rest[len(rest)-1]); f != "" {
			return completeValue(cmd.Name, f, positional(cmd, rest))
		}
	}
	if strings.HasPrefix(cur, "-") {
		var out []string
		for _, f := range cmd.Flags {
			out = append(out, "--"+f.Names()[0])
		}
		return append(out, "--help")
	}
	switch cmd.Name {
	case "completion":
		return completionShells()
	case "run", "validate":
		return append(shippedNames(), ":files")
	case "scenarios":
		return shippedNames()
	case "report", "compare":
		return []string{":dirs"}
	}
	return nil
}

// valueFlag returns the name of cmd's flag that word is, when that flag
// takes a value ("--variant", not "--ci"), else "".
func valueFlag(cmd *cli.Command, word string) string {
	name := strings.TrimLeft(word, "-")
	if !strings.HasPrefix(word, "-") || strings.Contains(name, "=") {
		return ""
	}
	for _, f := range cmd.Flags {
		if slices.Contains(f.Names(), name) {
			if _, isBool := f.(*cli.BoolFlag); isBool {
				return ""
			}
			return f.Names()[0]
		}
	}
	return ""
}

// positional returns the first positional argument among words.
func positional(cmd *cli.Command, words []string) string {
	for i := 0; i < len(words); i++ {
		if valueFlag(cmd, words[i]) != "" {
			i++
			continue
		}
		if !strings.HasPrefix(words[i], "-") {
			return words[i]
		}
	}
	return ""
}

// completeValue returns the candidates for the value of flag of command
// cmd, whose scenario argument (if any) is arg.
func completeValue(cmd, flag, arg string) []string {
	switch flag {
	case "variant", "set":
		s, err := scenarios.Load(arg)
		if arg == "" || err != nil {
			return nil
		}
		if flag == "variant" {
			var out []string
			for _, v := range s.Expand() {
				out = append(out, v.Name)
			}
			return out
		}
		keys := scenarios.BuiltinFlags()
		if c := s.Target.Command; c != nil {
			keys = keys[:0]
			for k := range c.Vars {
				keys = append(keys, k)
			}
			slices.Sort(keys)
		}
		out := []string{"repeat="}
		for _, k := range keys {
			out = append(out, k+"=")
		}
		return out
	case "format":
		if cmd == "report" {
			return []string{"table", "md", "json", "html"}
		}
		return []string{"table", "md"}
	case "out":
		return []string{":dirs"}
	case "baseline", "seed", "timeout", "alpha", "max-regression":
		return nil // free values
	}
	return []string{":files"}
}

// shippedNames lists the shipped scenarios' names.
func shippedNames() []string {
	var out []string
	for _, i := range scenarios.Shipped() {
		out = append(out, i.Name)
	}
	return out
}
