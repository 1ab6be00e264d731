// Command rbt is the command-line face of the project: training, evaluation,
// export of packed models, text generation and the hardware simulator.
//
//	rbt <command> [flags]
//	rbt help
//
// Each command lives in its own file and registers itself in init. Exit
// status (exit.go): 0 done, 1 the work failed (resumable), 2 bad input
// (nothing written), 3 training finished with a diverged model.
package main

import (
	"fmt"
	"os"
	"sort"
)

// command is one sub-command of rbt.
type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{}

// register adds a sub-command; called from init functions of the command files.
func register(name, summary string, run func(args []string) error) {
	if _, dup := commands[name]; dup {
		panic("rbt: command registered twice: " + name)
	}
	commands[name] = command{summary, run}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: rbt <command> [flags]   (rbt <command> -h for its flags)")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(os.Stderr, "  %-12s %s\n", name, commands[name].summary)
	}
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "help" || os.Args[1] == "-h" || os.Args[1] == "--help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "rbt: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := cmd.run(os.Args[2:]); err != nil {
		code := exitCode(err)
		if code != 0 {
			fmt.Fprintf(os.Stderr, "rbt %s: %v\n", os.Args[1], err)
		}
		os.Exit(code)
	}
}
