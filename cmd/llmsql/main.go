// Command llmsql is the llmsql server and its tools: inspect, tokenize,
// generate, quantize, bench and serve. Each subcommand lives in its own file
// and registers itself in commands; scripts outside the repository call these
// names and flags, so they are kept stable once added.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
)

// command is one subcommand. run receives the arguments after the
// subcommand's name and returns an error to print; usageError makes main
// print the subcommand's usage as well.
type command struct {
	name    string
	summary string
	usage   string // argument synopsis, e.g. "FILE [--json]"
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// usageError marks an error caused by how the command was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "llmsql: unknown command %q\n\n", args[0])
		printUsage(stderr)
		return 2
	}
	if err := loadEnv(stderr); err != nil {
		fmt.Fprintf(stderr, "llmsql: %v\n", err)
		return 2
	}
	err := c.run(args[1:], stdout, stderr)
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "llmsql %s: %v\nusage: llmsql %s %s\n", c.name, err, c.name, c.usage)
		return 2
	}
	fmt.Fprintf(stderr, "llmsql %s: %v\n", c.name, err)
	return 1
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: llmsql COMMAND [ARGS]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'llmsql COMMAND -h' for a command's flags.")
}

// newFlagSet returns a FlagSet that reports errors instead of exiting or
// printing: run prints a parse error once, as one line plus the synopsis.
// -h prints the synopsis and the flags to stderr.
func newFlagSet(c *command, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	helpPrinters.Store(fs, func() {
		fmt.Fprintf(stderr, "usage: llmsql %s %s\n", c.name, c.usage)
		fs.SetOutput(stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	})
	return fs
}

// helpPrinters holds each FlagSet's -h output; the flag package calls Usage
// on every parse error too, where we want one line instead.
var helpPrinters sync.Map // *flag.FlagSet -> func()

// parseFlags parses args allowing flags after positional arguments
// (llmsql inspect FILE --json), which the flag package alone stops at.
// A "--" ends flag parsing; everything after it is positional.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				if p, ok := helpPrinters.Load(fs); ok {
					p.(func())()
				}
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, rest...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
