package hwsim

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/rbt-project/rbt/rbt/packed"
)

// StudyOptions selects what RunStudy computes. The zero value studies the
// paper's PTB character model (1 x 1000 LSTM, 50 symbols, 100 folded steps)
// on the shipped designs, without a functional (accuracy) part.
type StudyOptions struct {
	Workload Workload // zero: CharLM("ptb-char", LSTM, 50, 1000, 1, 100, 0)
	// Designs: the baseline first. Zero: fp12, fp16, binary, ternary
	// (shipped configs), with "fp12-offchip" for the ratio table.
	Designs []Config
	// Models are evaluated on Tokens at each of ActBits on the design that
	// matches their weights (binary -> binary, ternary -> ternary, float32 ->
	// fp12), giving accuracy vs energy. Optional.
	Models   []*packed.Model
	Tokens   []int
	MaxChars int   // 0: all tokens
	ActBits  []int // zero: 6, 8, 10, 12, 16
	// Segment and Reference are passed to EvalOptions.
	Segment   int
	Reference bool
	Workers   int
}

// AccuracyPoint is the functional result of one model on one design at one
// activation width, next to that design's energy per character.
type AccuracyPoint struct {
	Model     string  `csv:"model"`
	Design    string  `csv:"design"`
	ActBits   int     `csv:"act_bits"`
	Chars     int64   `csv:"chars"`
	BPC       float64 `csv:"bpc"`
	RefBPC    float64 `csv:"float_bpc"`
	MaxAbsDH  float64 `csv:"max_abs_dh"`
	EnergyNJ  float64 `csv:"energy_nj_per_char"`
	StepsPerS float64 `csv:"hw_steps_per_s"`
	AccOvf    bool    `csv:"acc_overflow_possible"`
}

// Study is everything the hardware notebook shows, as tables.
type Study struct {
	Workload        Workload
	Designs         []Config
	Reports         []Report     // one per design (shipped sizes)
	EqualArea       []Comparison // designs sized to the baseline's area
	EqualThroughput []Comparison // designs sized to the baseline's steps/s
	Ratios          []Ratio      // the 12x / 10x table
	Sweeps          []SweepPoint // units, act_bits, hidden
	Accuracy        []AccuracyPoint
}

// RunStudy computes the study's tables. See StudyOptions for defaults.
func RunStudy(opt StudyOptions) (*Study, error) {
	w := opt.Workload
	if len(w.Layers) == 0 {
		w = CharLM("ptb-char", packed.LSTM, 50, 1000, 1, 100, 0)
	}
	designs := opt.Designs
	if len(designs) == 0 {
		for _, n := range []string{"fp12", "fp16", "binary", "ternary"} {
			designs = append(designs, MustExampleConfig(n))
		}
	}
	s := &Study{Workload: w, Designs: designs}
	for _, d := range designs {
		r, err := Simulate(d, w, 1)
		if err != nil {
			return nil, err
		}
		s.Reports = append(s.Reports, r.Report)
	}
	var err error
	if s.EqualArea, err = CompareEqualArea(designs[0], designs[1:], w); err != nil {
		return nil, err
	}
	if s.EqualThroughput, err = CompareEqualThroughput(designs[0], designs[1:], w); err != nil {
		return nil, err
	}
	find := func(kind WeightFormat, bits int) (Config, bool) {
		for _, d := range designs {
			if d.Weights == kind && (bits == 0 || d.WeightBits == bits) {
				return d, true
			}
		}
		return Config{}, false
	}
	// The ratio table needs all four kinds; missing ones are the shipped configs.
	pick := func(kind WeightFormat, bits int, shipped string) Config {
		if c, ok := find(kind, bits); ok {
			return c
		}
		return MustExampleConfig(shipped)
	}
	fp12, fp16 := pick(Fixed, 12, "fp12"), pick(Fixed, 16, "fp16")
	bin, ter := pick(Binary, 0, "binary"), pick(Ternary, 0, "ternary")
	{
		off := fp12
		off.Name = fp12.Name + "-offchip"
		off.SRAM.BankKB = 64 // 1 MiB with 16 banks (the shipped fp12-offchip)
		if off.SRAM.Banks != 16 {
			off.SRAM.BankKB = 1024 / float64(max(off.SRAM.Banks, 1))
		}
		if s.Ratios, err = Ratios(fp12, fp16, bin, ter, off, w); err != nil {
			return nil, err
		}
	}
	units := []int{8, 16, 32, 64, 128, 256, 512, 1024, 2048}
	if s.Sweeps, err = SweepUnits(designs, w, units); err != nil {
		return nil, err
	}
	acts := opt.ActBits
	if len(acts) == 0 {
		acts = []int{6, 8, 10, 12, 16}
	}
	sa, err := SweepActBits(designs, w, acts)
	if err != nil {
		return nil, err
	}
	s.Sweeps = append(s.Sweeps, sa...)
	l0 := w.Layers[0]
	sh, err := SweepHidden(designs, l0.Input, []int{128, 256, 512, 1000, 2000, 4000}, l0.Steps)
	if err != nil {
		return nil, err
	}
	s.Sweeps = append(s.Sweeps, sh...)

	toks := opt.Tokens
	if opt.MaxChars > 0 && len(toks) > opt.MaxChars {
		toks = toks[:opt.MaxChars]
	}
	for mi, m := range opt.Models {
		if m == nil || len(m.Layers) == 0 {
			return nil, fmt.Errorf("hwsim: study model %d is empty", mi)
		}
		var d Config
		var ok bool
		switch m.Layers[0].Weights {
		case packed.Binary:
			d, ok = find(Binary, 0)
		case packed.Ternary:
			d, ok = find(Ternary, 0)
		default:
			d, ok = find(Fixed, 12)
		}
		if !ok {
			return nil, fmt.Errorf("hwsim: no design for model %d (%v weights)", mi, m.Layers[0].Weights)
		}
		mw, err := WorkloadOf(modelName(m, mi), m)
		if err != nil {
			return nil, err
		}
		for _, a := range acts {
			c := d.WithActBits(a)
			sim, err := NewSim(c, m)
			if err != nil {
				return nil, err
			}
			ev, err := sim.EvalTokens(toks, EvalOptions{Segment: opt.Segment, Reference: opt.Reference, Workers: opt.Workers})
			if err != nil {
				return nil, err
			}
			r, err := Simulate(c, mw, 1)
			if err != nil {
				return nil, err
			}
			s.Accuracy = append(s.Accuracy, AccuracyPoint{Model: modelName(m, mi), Design: c.Name, ActBits: a, Chars: ev.Predictions,
				BPC: ev.BPC, RefBPC: ev.RefBPC, MaxAbsDH: ev.MaxAbsDH, EnergyNJ: r.Report.EnergyPerCharNJ,
				StepsPerS: r.Report.StepsPerSecond, AccOvf: ev.AccOverflow})
		}
	}
	return s, nil
}

func modelName(m *packed.Model, i int) string {
	if n := m.Meta["name"]; n != "" {
		return n
	}
	return fmt.Sprintf("%s-%v-%d", m.Task, m.Layers[0].Weights, i)
}

// WriteCSVs writes every table of the study to dir (created if needed):
// designs.csv, equal_area.csv, equal_throughput.csv, ratios.csv,
// sweeps.csv and, when computed, accuracy.csv.
func (s *Study) WriteCSVs(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	type table struct {
		name  string
		write func(path string) error
	}
	tables := []table{
		{"designs.csv", func(p string) error { return WriteCSVFile(p, s.Reports) }},
		{"equal_area.csv", func(p string) error { return WriteCSVFile(p, s.EqualArea) }},
		{"equal_throughput.csv", func(p string) error { return WriteCSVFile(p, s.EqualThroughput) }},
		{"ratios.csv", func(p string) error { return WriteCSVFile(p, s.Ratios) }},
		{"sweeps.csv", func(p string) error { return WriteCSVFile(p, s.Sweeps) }},
	}
	if len(s.Accuracy) > 0 {
		tables = append(tables, table{"accuracy.csv", func(p string) error { return WriteCSVFile(p, s.Accuracy) }})
	}
	for _, t := range tables {
		if err := t.write(filepath.Join(dir, t.name)); err != nil {
			return err
		}
	}
	return nil
}
