package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/rbt-project/rbt/rbt/packed"
)

func init() {
	register("generate", "sample text from a packed character (or word) model", runGenerate)
}

// runGenerate: rbt generate -model file.rbtm -prime "..." -n 200 -temperature 0.8 -seed 1
func runGenerate(args []string) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	model := fs.String("model", "", "packed model file (.rbtm), written by the exporter")
	prime := fs.String("prime", "", "text to start from (default: the first vocabulary entry)")
	n := fs.Int("n", 200, "number of tokens (characters) to generate")
	temp := fs.Float64("temperature", 0.8, "sampling temperature; 0 picks the most likely token")
	seed := fs.Int64("seed", 1, "random seed (same seed, same text)")
	showPrime := fs.Bool("show-prime", true, "print the prime before the generated text")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *model == "" {
		return errors.New("-model is required")
	}
	if *n < 0 {
		return fmt.Errorf("-n = %d, want >= 0", *n)
	}
	m, err := packed.ReadFile(*model)
	if err != nil {
		return err
	}
	e, err := packed.NewEngine(m)
	if err != nil {
		return fmt.Errorf("%s: %w", *model, err)
	}
	p := *prime
	if p == "" && len(m.Vocab) > 0 {
		p = m.Vocab[0]
	}
	text, err := e.Generate(p, *n, *temp, *seed)
	if err != nil {
		return fmt.Errorf("%s: %w", *model, err)
	}
	if *showPrime {
		sep := ""
		if len(text) > 0 && e.Vocab() != nil && !singleChars(e.Vocab()) {
			sep = " "
		}
		fmt.Fprint(os.Stdout, p+sep)
	}
	fmt.Fprintln(os.Stdout, text)
	return nil
}

func singleChars(v []string) bool {
	for _, s := range v {
		if len([]rune(s)) != 1 {
			return false
		}
	}
	return true
}
