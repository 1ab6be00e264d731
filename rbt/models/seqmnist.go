package models

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/loss"

	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/quant"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

// SeqMNIST is the sequence classifier of the paper's pixel-by-pixel MNIST
// experiment (METHOD.md, "sequence classification"): one recurrent layer reads
// an image one pixel per time step (784 steps of a single float feature, or
// fewer for a downsampled variant), and a full-precision linear classifier
// maps the last hidden state h_T to 10 logits. In training N(0, Noise^2) noise
// is added to the learned h_0 (the released code uses 0.1).
//
// Variables: <scope>/rnn/layer_0/... (package recurrent) and
// <scope>/output/{weights [n, Classes], bias [Classes]}.
type SeqMNIST struct {
	Hidden        int                     // n (100 in the paper)
	Classes       int                     // output classes (0 = 10)
	Cell          recurrent.Cell          // LSTM (default when 0) or GRU
	Quantizer     string                  // quant registry name; "" = "fp"
	Normalization recurrent.Normalization // PerStepBN (default), SharedBN, None
	Inference     recurrent.Inference     // CodeMode (default) or DeployMode
	Noise         float64                 // std of the training noise on h_0 (0.1 in the paper)
}

// Validate checks the configuration.
func (m SeqMNIST) Validate() error {
	if m.Hidden < 1 || m.Classes < 0 || m.Classes == 1 || m.Noise < 0 {
		return fmt.Errorf("models: SeqMNIST: Hidden=%d Classes=%d Noise=%g, want Hidden >= 1, Classes 0 or >= 2, Noise >= 0",
			m.Hidden, m.Classes, m.Noise)
	}
	if m.Cell != 0 && m.Cell != recurrent.LSTM && m.Cell != recurrent.GRU {
		return fmt.Errorf("models: SeqMNIST: unknown cell %d", m.Cell)
	}
	_, err := lookupQuantizer(m.Quantizer)
	return err
}

func (m SeqMNIST) classes() int {
	if m.Classes == 0 {
		return 10
	}
	return m.Classes
}

func lookupQuantizer(name string) (quant.Quantizer, error) {
	if name == "" {
		name = "fp"
	}
	return quant.Lookup(name)
}

// Logits maps pixel sequences [B, T, 1] (float, in [0, 1]) to class logits
// [B, Classes] computed from the last hidden state. It has the
// train.ModelFn-compatible signature.
func (m SeqMNIST) Logits(scope *model.Scope, pixels *Node) *Node {
	if err := m.Validate(); err != nil {
		panic(err)
	}
	q, _ := lookupQuantizer(m.Quantizer)
	rnn := recurrent.New(scope.In("rnn"), pixels, m.Hidden).Quantizer(q).
		Normalization(m.Normalization).Inference(m.Inference).InitialStateNoise(m.Noise)
	if m.Cell != 0 {
		rnn.Cell(m.Cell)
	}
	_, final := rnn.Done()
	return OutputLayer(scope.In("output"), final.H[0], m.classes())
}

// ClassifierLoss is the mean cross-entropy (nats) of logits [B, C] against
// labels [B] (int32). It has the train.LossFn signature.
func ClassifierLoss(labels, logits []*Node) *Node {
	l := labels[0]
	if l.Rank() == 1 {
		l = InsertAxes(l, -1)
	}
	return ReduceAllMean(loss.SparseCategoricalCrossEntropyLogits([]*Node{l}, logits[0:1]))
}

// ExportSeqMNIST reads a trained SeqMNIST built under scopePath ("/" for a
// train.Trainer's root) and returns its deploy form: Input packed.Dense of
// width 1 (the pixel), the recurrent layer of recurrent.ExportLayers with its
// per-step folded statistics, and the classifier (Output, OutputBias,
// Classes). The class of an image is the argmax of the logits after its last
// step (packed.Engine.RunDense).
func ExportSeqMNIST(b compute.Backend, store *model.Store, scopePath string) (*packed.Model, error) {
	layers, err := recurrent.ExportLayers(b, store, model.JoinPath(scopePath, "rnn"))
	if err != nil {
		return nil, err
	}
	cfg, _ := recurrent.ReadConfig(store, model.JoinPath(scopePath, "rnn"))
	w, bias, classes, err := readOutputLayer(b, store, scopePath, "ExportSeqMNIST", layers[len(layers)-1].Hidden)
	if err != nil {
		return nil, err
	}
	m := &packed.Model{
		Task: "seqmnist", Input: packed.Dense, Layers: layers,
		Output: w, OutputBias: bias, Classes: classes,
		Meta: map[string]string{
			"quantizer": cfg.Quantizer, "deploy_quantizer": quant.MustLookup(cfg.Quantizer).Deploy,
			"normalization": cfg.Normalization.String(),
		},
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("models: ExportSeqMNIST: %w", err)
	}
	return m, nil
}

// readOutputLayer reads the output layer under scopePath ("output/weights",
// hidden x classes, and "output/bias") for the exporter named exporter, whose
// last recurrent layer has hidden units.
func readOutputLayer(b compute.Backend, store *model.Store, scopePath, exporter string, hidden int) (w, bias []float32, classes int, err error) {
	w, wd, err := readFloat32(b, store, model.JoinPath(scopePath, "output", "weights"))
	if err != nil {
		return nil, nil, 0, fmt.Errorf("models: %s: %w", exporter, err)
	}
	if bias, _, err = readFloat32(b, store, model.JoinPath(scopePath, "output", "bias")); err != nil {
		return nil, nil, 0, fmt.Errorf("models: %s: %w", exporter, err)
	}
	if len(wd) != 2 || wd[0] != hidden {
		return nil, nil, 0, fmt.Errorf("models: %s: output weights shape %v, want [%d, classes]", exporter, wd, hidden)
	}
	return w, bias, wd[1], nil
}

// readFloat32 returns the value of the variable at path as float32 and its
// dimensions.
func readFloat32(b compute.Backend, store *model.Store, path string) ([]float32, []int, error) {
	v := store.GetVariable(path)
	if v == nil {
		return nil, nil, fmt.Errorf("variable %s not found", path)
	}
	t, err := v.Value()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	conv, err := CallOnceN(b, func(x *Node) *Node { return ConvertDType(x, dtypes.Float32) }, t)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	defer conv[0].FinalizeAll()
	return tensors.MustCopyFlatData[float32](conv[0]), t.Shape().Dimensions, nil
}
