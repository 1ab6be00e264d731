// Package models holds the model functions of rbt's experiments, built on
// the recurrent layers of package recurrent.
package models

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/loss"

	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/quant"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

// CharLM is the character-level language model of the paper's char-LM
// experiments: one-hot input, stacked (BN-)LSTM or GRU layers with quantized
// weights, and a full-precision softmax layer on every hidden state.
//
// Variables: <scope>/rnn/layer_k/... (package recurrent) and
// <scope>/output/{weights [n, Vocab], bias [Vocab]}.
type CharLM struct {
	Vocab         int                     // number of symbols (50 for PTB)
	Hidden        int                     // n (1000 in the paper's PTB run)
	Layers        int                     // stacked layers (default 1)
	Cell          recurrent.Cell          // LSTM (default) or GRU
	Quantizer     string                  // quant registry name; "" = "fp"
	Normalization recurrent.Normalization // PerStepBN (default), SharedBN, None
	Inference     recurrent.Inference     // CodeMode (default) or DeployMode
}

// Validate checks the configuration.
func (m CharLM) Validate() error {
	if m.Vocab < 2 || m.Hidden < 1 || m.Layers < 0 {
		return fmt.Errorf("models: CharLM: Vocab=%d Hidden=%d Layers=%d, want Vocab >= 2, Hidden >= 1", m.Vocab, m.Hidden, m.Layers)
	}
	if m.Cell != 0 && m.Cell != recurrent.LSTM && m.Cell != recurrent.GRU {
		return fmt.Errorf("models: CharLM: unknown cell %d", m.Cell)
	}
	_, err := lookupQuantizer(m.Quantizer)
	return err
}

// Logits maps token ids [B, T] (int32) to next-symbol logits [B, T, Vocab].
// It has the train.ModelFn-compatible signature, so m.Logits can be passed
// to train.NewTrainer directly.
func (m CharLM) Logits(scope *model.Scope, tokens *Node) *Node {
	if err := m.Validate(); err != nil {
		panic(err)
	}
	q, _ := lookupQuantizer(m.Quantizer)
	rnn := recurrent.New(scope.In("rnn"), tokens, m.Hidden).OneHot(m.Vocab).
		Quantizer(q).Normalization(m.Normalization).Inference(m.Inference).Layers(max(m.Layers, 1))
	if m.Cell != 0 {
		rnn.Cell(m.Cell)
	}
	h, _ := rnn.Done() // [B, T, n]
	return OutputLayer(scope.In("output"), h, m.Vocab)
}

// OutputLayer is the full-precision softmax layer: h [B, T, n] . weights
// [n, classes] + bias [classes], with weights initialized U(-a, a),
// a = sqrt(6/(n+classes)) (Glorot), bias 0.
func OutputLayer(scope *model.Scope, h *Node, classes int) *Node {
	g := h.Graph()
	dims := h.Shape().Dimensions
	n := dims[len(dims)-1]
	a := math.Sqrt(6 / float64(n+classes))
	w := scope.WithInitializer(initializer.RandomUniformFn(scope, -a, a)).
		VariableWithShape("weights", shapes.Make(h.DType(), n, classes)).NodeValue(g)
	b := scope.WithInitializer(initializer.Zero).
		VariableWithShape("bias", shapes.Make(h.DType(), classes)).NodeValue(g)
	rows := h.Shape().Size() / n
	out := Add(MatMul(Reshape(h, rows, n), w), ExpandAxes(b, 0))
	outDims := append(append([]int(nil), dims[:len(dims)-1]...), classes)
	return Reshape(out, outDims...)
}

// CharLMLoss is the mean cross-entropy in nats of logits [B, T, V] against
// labels [B, T] (int32 next symbols); divide by ln 2 for bits per character.
// It has the train.LossFn signature.
func CharLMLoss(labels, logits []*Node) *Node {
	l := labels[0]
	if l.Rank() == logits[0].Rank()-1 {
		l = InsertAxes(l, -1)
	}
	return ReduceAllMean(loss.SparseCategoricalCrossEntropyLogits([]*Node{l}, logits))
}

// ExportCharLM reads a trained CharLM built under scopePath (the scope given
// to Logits; "/" for a train.Trainer's root) and returns its deploy form:
// the recurrent layers of recurrent.ExportLayers, the output layer and the
// vocabulary (symbols, may be nil).
func ExportCharLM(b compute.Backend, store *model.Store, scopePath string, vocab []string) (*packed.Model, error) {
	layers, err := recurrent.ExportLayers(b, store, model.JoinPath(scopePath, "rnn"))
	if err != nil {
		return nil, err
	}
	cfg, _ := recurrent.ReadConfig(store, model.JoinPath(scopePath, "rnn"))
	w, bias, classes, err := readOutputLayer(b, store, scopePath, "ExportCharLM", layers[len(layers)-1].Hidden)
	if err != nil {
		return nil, err
	}
	m := &packed.Model{
		Task: "charlm", Vocab: vocab, Input: packed.OneHot, Layers: layers,
		Output: w, OutputBias: bias, Classes: classes,
		Meta: map[string]string{
			"quantizer": cfg.Quantizer, "deploy_quantizer": quant.MustLookup(cfg.Quantizer).Deploy,
			"normalization": cfg.Normalization.String(),
		},
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("models: ExportCharLM: %w", err)
	}
	return m, nil
}
