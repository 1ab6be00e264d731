package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/rbt-project/rbt/rbt/packed"
)

func init() {
	register("inspect", "print the sizes, memory and metadata of a packed model file", runInspect)
}

// runInspect: rbt inspect -model file.rbtm
func runInspect(args []string) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	model := fs.String("model", "", "packed model file (.rbtm)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *model == "" && fs.NArg() == 1 {
		*model = fs.Arg(0)
	}
	if *model == "" {
		return errors.New("-model is required")
	}
	m, err := packed.ReadFile(*model)
	if err != nil {
		return err
	}
	st, err := os.Stat(*model)
	if err != nil {
		return err
	}
	return printInspect(os.Stdout, *model, st.Size(), m)
}

func printInspect(w io.Writer, name string, fileSize int64, m *packed.Model) error {
	e, err := packed.NewEngine(m)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "file        %s (%d bytes, format version %d, checksum OK)\n", name, fileSize, packed.FormatVersion)
	fmt.Fprintf(w, "task        %s\n", m.Task)
	fmt.Fprintf(w, "input       %s", m.Input)
	switch m.Input {
	case packed.OneHot:
		fmt.Fprintf(w, ", vocabulary %d", m.VocabSize())
	case packed.Embedding:
		fmt.Fprintf(w, ", vocabulary %d, embedding dim %d", m.VocabSize(), m.EmbeddingDim)
	case packed.Dense:
		fmt.Fprintf(w, ", %d features per step", m.Layers[0].Input)
	}
	fmt.Fprintf(w, "\nclasses     %d\n", m.Classes)
	for i, l := range m.Layers {
		fmt.Fprintf(w, "layer %-5d %s %s, input %d, hidden %d, %d statistic block(s)\n", i, l.Cell, l.Weights, l.Input, l.Hidden, l.Steps)
	}
	mem := m.Memory()
	ratio := func(a, b int64) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1fx", float64(a)/float64(b))
	}
	fmt.Fprintf(w, "weights     %d recurrent weights (Wx, Wh)\n", mem.Weights)
	fmt.Fprintf(w, "  float32   %12d bytes\n", mem.Float32Bytes)
	fmt.Fprintf(w, "  in file   %12d bytes (%s smaller)\n", mem.FileWeightBytes, ratio(mem.Float32Bytes, mem.FileWeightBytes))
	fmt.Fprintf(w, "  in engine %12d bytes (%s smaller, kernel %s: %s)\n", e.WeightBytes(), ratio(mem.Float32Bytes, e.WeightBytes()), e.Kernel(), e.Kernel().Implementation())
	fmt.Fprintf(w, "other       %12d bytes float32 (folded BN, initial states, embedding, output layer)\n", mem.OtherBytes)
	fmt.Fprintf(w, "resident    %12d bytes engine + %d bytes state (batch 1)\n", e.ResidentBytes(), e.StateBytes(1))
	fmt.Fprintf(w, "as float32  %12d bytes for the same model with float32 weights (%s the resident size)\n",
		mem.Float32Bytes+mem.OtherBytes, ratio(mem.Float32Bytes+mem.OtherBytes, e.ResidentBytes()))
	if len(m.Vocab) > 0 {
		show := m.Vocab
		if len(show) > 40 {
			show = show[:40]
		}
		q := make([]string, len(show))
		for i, s := range show {
			q[i] = fmt.Sprintf("%q", s)
		}
		more := ""
		if len(m.Vocab) > len(show) {
			more = fmt.Sprintf(" ... (%d more)", len(m.Vocab)-len(show))
		}
		fmt.Fprintf(w, "vocabulary  %s%s\n", strings.Join(q, " "), more)
	}
	keys := make([]string, 0, len(m.Meta))
	for k := range m.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "meta        %s = %s\n", k, m.Meta[k])
	}
	return nil
}
