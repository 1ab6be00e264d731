package hwsim

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
)

// Report is the headline figures of one design on one workload: the row of
// the per-design CSV. Steady-state per-step figures assume a long sequence
// (the once-per-sequence weight load and prologue are in SequenceLatencyUS).
type Report struct {
	Design     string  `csv:"design"`
	Workload   string  `csv:"workload"`
	Weights    string  `csv:"weights"`
	WeightBits int     `csv:"weight_bits"`
	ActBits    int     `csv:"act_bits"`
	Units      int     `csv:"units"`
	Lanes      int     `csv:"lanes"`
	ClockMHz   float64 `csv:"clock_mhz"`

	CyclesPerStep  int64   `csv:"cycles_per_step"`
	StallPerStep   int64   `csv:"stall_cycles_per_step"`
	LatencyNS      float64 `csv:"latency_ns_per_step"`
	StepsPerSecond float64 `csv:"steps_per_s"`
	// OpsPerStep counts 2 ops (multiply and add) per weight of the model,
	// 2*G*n*(d+n) per layer, whatever the datapath does; GOPS uses it.
	OpsPerStep int64   `csv:"ops_per_step"`
	GOPS       float64 `csv:"gops"`

	WeightMemoryBits float64 `csv:"weight_memory_bits"`
	ParamMemoryBits  float64 `csv:"param_memory_bits"`
	SRAMBits         float64 `csv:"sram_bits"`
	OnChipFraction   float64 `csv:"onchip_fraction"`

	EnergyPerStepNJ float64 `csv:"energy_nj_per_step"`
	EnergyPerCharNJ float64 `csv:"energy_nj_per_char"`
	PowerMW         float64 `csv:"power_mw"`
	EArrayNJ        float64 `csv:"e_array_nj"`
	EElementwiseNJ  float64 `csv:"e_elementwise_nj"`
	ENonlinNJ       float64 `csv:"e_nonlin_nj"`
	EWeightSRAMNJ   float64 `csv:"e_weight_sram_nj"`
	EActBufferNJ    float64 `csv:"e_act_buffer_nj"`
	EDRAMNJ         float64 `csv:"e_dram_nj"`
	EParamSRAMNJ    float64 `csv:"e_param_sram_nj"`

	AreaMM2           float64 `csv:"area_mm2"`
	AArrayMM2         float64 `csv:"a_array_mm2"`
	AElementwiseMM2   float64 `csv:"a_elementwise_mm2"`
	ANonlinMM2        float64 `csv:"a_nonlin_mm2"`
	AWeightSRAMMM2    float64 `csv:"a_weight_sram_mm2"`
	AActBufferMM2     float64 `csv:"a_act_buffer_mm2"`
	AParamSRAMMM2     float64 `csv:"a_param_sram_mm2"`
	GOPSPerW          float64 `csv:"gops_per_w"`
	GOPSPerMM2        float64 `csv:"gops_per_mm2"`
	SkippedFraction   float64 `csv:"skipped_fraction"`
	SequenceSteps     int64   `csv:"sequence_steps"`
	SequenceLatencyUS float64 `csv:"sequence_latency_us"`
	SequenceEnergyUJ  float64 `csv:"sequence_energy_uj"`
	Notes             string  `csv:"notes"`
}

// Result is the full simulation of a design on a workload: the schedule,
// the energy and area breakdowns and the flat Report.
type Result struct {
	Config   Config
	Workload Workload
	Schedule *Schedule
	Energy   Energy
	Area     Area
	Report   Report
}

// Simulate runs the cycle, energy and area models of cfg on w for a sequence
// of steps time steps (steps <= 0: one step). Every figure of the Report is
// derived here from the Schedule's counts and the technology table.
func Simulate(cfg Config, w Workload, steps int64) (*Result, error) {
	s, err := cfg.Schedule(w)
	if err != nil {
		return nil, err
	}
	if steps <= 0 {
		steps = 1
	}
	e := cfg.EnergyOf(s.Counts, s.ParamBits)
	a := cfg.AreaOf()
	tech := cfg.Technology()
	a.ParamSRAM = tech.SRAMArea(s.ParamBits) * 1e-6
	var ops int64
	for _, l := range w.Layers {
		ops += 2 * l.Weights()
	}
	hz := cfg.ClockMHz * 1e6
	r := Report{
		Design: cfg.Name, Workload: w.Name, Weights: string(cfg.Weights), WeightBits: cfg.WeightBits,
		ActBits: cfg.Datapath.ActBits, Units: cfg.Units, Lanes: cfg.Lanes, ClockMHz: cfg.ClockMHz,
		CyclesPerStep:    s.StepCycles,
		StallPerStep:     s.Counts.StallCycles,
		LatencyNS:        float64(s.StepCycles) / hz * 1e9,
		StepsPerSecond:   hz / float64(s.StepCycles),
		OpsPerStep:       ops,
		WeightMemoryBits: s.WeightBits,
		ParamMemoryBits:  s.ParamBits,
		SRAMBits:         cfg.SRAM.Bits(),
		OnChipFraction:   s.OnChipFraction,
		EnergyPerStepNJ:  e.Total() / 1e3,
		EArrayNJ:         e.Array / 1e3, EElementwiseNJ: e.Elementwise / 1e3, ENonlinNJ: e.Nonlin / 1e3,
		EWeightSRAMNJ: e.WeightSRAM / 1e3, EActBufferNJ: e.ActBuffer / 1e3, EDRAMNJ: e.DRAM / 1e3, EParamSRAMNJ: e.ParamSRAM / 1e3,
		AreaMM2: a.Total(), AArrayMM2: a.Array, AElementwiseMM2: a.Elementwise, ANonlinMM2: a.Nonlin,
		AWeightSRAMMM2: a.WeightSRAM, AActBufferMM2: a.ActBuffer, AParamSRAMMM2: a.ParamSRAM,
		SequenceSteps: steps,
	}
	// One step consumes one input token: for a character model the energy
	// per character is the energy per step.
	r.EnergyPerCharNJ = r.EnergyPerStepNJ
	r.GOPS = float64(ops) * r.StepsPerSecond / 1e9
	r.PowerMW = e.Total() * 1e-12 * r.StepsPerSecond * 1e3
	if r.PowerMW > 0 {
		r.GOPSPerW = r.GOPS / (r.PowerMW / 1e3)
	}
	r.GOPSPerMM2 = r.GOPS / r.AreaMM2
	if tot := s.Counts.Adds + s.Counts.Skipped; tot > 0 {
		r.SkippedFraction = float64(s.Counts.Skipped) / float64(tot)
	}
	seq := s.SequenceCycles(steps)
	r.SequenceLatencyUS = float64(seq) / hz * 1e6
	loadE := s.WeightBits * s.OnChipFraction * tech.DRAMBitEnergy()
	if s.LoadCycles == 0 {
		loadE = 0
	}
	r.SequenceEnergyUJ = (float64(steps)*e.Total() + loadE) * 1e-6
	if s.OnChipFraction < 1 {
		r.Notes = fmt.Sprintf("%.1f%% of weights streamed from DRAM every step", 100*(1-s.OnChipFraction))
	}
	return &Result{Config: cfg, Workload: w, Schedule: s, Energy: e, Area: a, Report: r}, nil
}

// WriteCSV writes a slice of structs as CSV: one column per exported field
// with a `csv` tag (the tag is the header), in field order. Floats use the
// shortest representation that round-trips.
func WriteCSV[T any](w io.Writer, rows []T) error {
	var zero T
	typ := reflect.TypeOf(zero)
	if typ.Kind() != reflect.Struct {
		return fmt.Errorf("hwsim.WriteCSV: rows of %v, want a struct type", typ)
	}
	var idx []int
	var head []string
	for i := 0; i < typ.NumField(); i++ {
		if tag := typ.Field(i).Tag.Get("csv"); tag != "" && tag != "-" {
			idx = append(idx, i)
			head = append(head, tag)
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return err
	}
	rec := make([]string, len(idx))
	for _, row := range rows {
		v := reflect.ValueOf(row)
		for j, i := range idx {
			rec[j] = formatField(v.Field(i))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteCSVFile writes rows with WriteCSV to the file at path (created or
// truncated). Every error names the file.
func WriteCSVFile[T any](path string, rows []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err // an *os.PathError: names path
	}
	if err := WriteCSV(f, rows); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close() // an *os.PathError too
}

func formatField(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.String:
		return v.String()
	}
	return fmt.Sprint(v.Interface())
}
