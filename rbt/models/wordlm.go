package models

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"

	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/quant"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

// Variable and scope names of WordLM (relative to the scope given to its
// methods).
const (
	WordLMEmbeddingScope = "embedding" // holds WordLMEmbeddingVar [Vocab, Embed]
	WordLMEmbeddingVar   = "table"
	WordLMStateScope     = "state" // carried TBPTT state "h", "c" [B, Hidden] (TrainLogits only)
	WordLMEmbeddingInit  = 0.1     // embedding ~ U(-0.1, 0.1), as pytorch/examples word_language_model
)

// WordLM is the word-level language model of the paper's PTB experiment
// (METHOD.md, "word LM"): a full-precision embedding of Embed features, one
// (BN-)LSTM (or GRU) of Hidden units whose Wx and Wh are quantized, and a
// full-precision softmax layer over the vocabulary, with dropout on the
// embedding and on the recurrent outputs in training.
//
// It is trained with truncated back-propagation through time: the final
// state of one batch of T steps is the initial state of the next (package
// datasets, WordStreams), reset to zeros at the start of every epoch. With
// per-time-step batch normalization the statistics are indexed by the step
// inside the window (0..T-1), so a deployed model restarts its statistics
// index every T tokens while keeping (h, c): see WordLMPerplexityPacked.
//
// Variables: <scope>/embedding/table [Vocab, Embed], <scope>/rnn/layer_0/...
// (package recurrent; no learned h0/c0, the state is given),
// <scope>/output/{weights [Hidden, Vocab], bias [Vocab]}, and for TrainLogits
// the non-trainable carried state <scope>/state/{h, c} [B, Hidden].
type WordLM struct {
	Vocab         int                     // 10,000 for PTB
	Embed         int                     // embedding width d (300 in the paper)
	Hidden        int                     // n (300 in the paper)
	Cell          recurrent.Cell          // LSTM (default) or GRU
	Quantizer     string                  // quant registry name; "" = "fp"
	Normalization recurrent.Normalization // PerStepBN (default), SharedBN, None
	Inference     recurrent.Inference     // CodeMode (default) or DeployMode
	Dropout       float64                 // rate on the embedding and the LSTM outputs, training only (paper 0.5)
}

// Validate checks the configuration.
func (m WordLM) Validate() error {
	if m.Vocab < 2 || m.Embed < 1 || m.Hidden < 1 {
		return fmt.Errorf("models: WordLM: Vocab=%d Embed=%d Hidden=%d, want Vocab >= 2, Embed >= 1, Hidden >= 1", m.Vocab, m.Embed, m.Hidden)
	}
	if m.Cell != 0 && m.Cell != recurrent.LSTM && m.Cell != recurrent.GRU {
		return fmt.Errorf("models: WordLM: unknown cell %d", m.Cell)
	}
	if m.Dropout < 0 || m.Dropout >= 1 {
		return fmt.Errorf("models: WordLM: Dropout=%g, want 0 <= rate < 1", m.Dropout)
	}
	_, err := lookupQuantizer(m.Quantizer)
	return err
}

func (m WordLM) cell() recurrent.Cell {
	if m.Cell == 0 {
		return recurrent.LSTM
	}
	return m.Cell
}

// IsLSTM reports whether the recurrent cell is an LSTM (which carries c).
func (m WordLM) IsLSTM() bool { return m.cell() == recurrent.LSTM }

// Forward maps token ids [B, T] (int32) and the initial state h0, c0 [B,
// Hidden] (c0 nil for a GRU; h0 nil = zeros) to the logits [B, T, Vocab]
// and the final state hT, cT [B, Hidden] (cT nil for a GRU). Dropout is
// applied only when scope.IsTraining(g).
func (m WordLM) Forward(scope *model.Scope, tokens, h0, c0 *Node) (logits, hT, cT *Node) {
	if err := m.Validate(); err != nil {
		panic(err)
	}
	if tokens.Rank() != 2 || !tokens.DType().IsInt() {
		panic(fmt.Errorf("models: WordLM: want int token ids [B, T], got %s", tokens.Shape()))
	}
	g := tokens.Graph()
	B := tokens.Shape().Dim(0)
	q, _ := lookupQuantizer(m.Quantizer)
	es := scope.In(WordLMEmbeddingScope)
	a := WordLMEmbeddingInit
	table := es.WithInitializer(initializer.RandomUniformFn(es, -a, a)).
		VariableWithShape(WordLMEmbeddingVar, shapes.Make(dtypes.Float32, m.Vocab, m.Embed)).NodeValue(g)
	x := Gather(table, InsertAxes(tokens, -1)) // [B, T, Embed]
	x = layers.DropoutStatic(scope, x, m.Dropout)

	zeros := func() *Node { return Zeros(g, shapes.Make(dtypes.Float32, B, m.Hidden)) }
	if h0 == nil {
		h0 = zeros()
	}
	rnn := recurrent.New(scope.In("rnn"), x, m.Hidden).Cell(m.cell()).
		Quantizer(q).Normalization(m.Normalization).Inference(m.Inference)
	if m.IsLSTM() {
		if c0 == nil {
			c0 = zeros()
		}
		rnn.InitialState([]*Node{h0}, []*Node{c0})
	} else {
		rnn.InitialState([]*Node{h0}, nil)
	}
	h, final := rnn.Done() // [B, T, n]
	hT = final.H[0]
	if m.IsLSTM() {
		cT = final.C[0]
	}
	h = layers.DropoutStatic(scope, h, m.Dropout)
	return OutputLayer(scope.In("output"), h, m.Vocab), hT, cT
}

// TrainLogits is the train.ModelFn of truncated-BPTT training: inputs are
// the token ids [B, T] (int32) and a float32 scalar "reset" (1 at the first
// batch of an epoch, 0 otherwise). The initial state is the carried state,
// kept in the non-trainable variables <scope>/state/{h, c} [B, Hidden] and
// multiplied by 1-reset; the final state (without gradient) is written back
// for the next batch. It returns the logits [B, T, Vocab].
func (m WordLM) TrainLogits(scope *model.Scope, inputs []*Node) []*Node {
	if len(inputs) != 2 {
		panic(fmt.Errorf("models: WordLM.TrainLogits: want inputs [tokens, reset], got %d", len(inputs)))
	}
	tokens, reset := inputs[0], inputs[1]
	g := tokens.Graph()
	B := tokens.Shape().Dim(0)
	ss := scope.In(WordLMStateScope).WithInitializer(initializer.Zero)
	keep := OneMinus(ConvertDType(reset, dtypes.Float32))
	stateVar := func(name string) (*model.Variable, *Node) {
		v := ss.VariableWithShape(name, shapes.Make(dtypes.Float32, B, m.Hidden)).SetTrainable(false)
		return v, Mul(v.NodeValue(g), keep)
	}
	hv, h0 := stateVar("h")
	var cv *model.Variable
	var c0 *Node
	if m.IsLSTM() {
		cv, c0 = stateVar("c")
	}
	logits, hT, cT := m.Forward(scope, tokens, h0, c0)
	hv.SetNodeValue(StopGradient(hT))
	if cv != nil {
		cv.SetNodeValue(StopGradient(cT))
	}
	return []*Node{logits}
}

// TokenNLL returns the negative log-likelihood in nats of every target,
// [B, T], for logits [B, T, V] and targets [B, T] (int32), or of any other
// leading dimensions (QALoss: [B] for [B, E]):
// logsumexp(logits) - logits[target], with the row maximum subtracted inside
// the exponential. (It gathers the target logit instead of multiplying a
// one-hot [B, T, V] tensor: about 20 % less CPU per training step of the
// 10,000-word softmax, measured.)
func TokenNLL(logits, targets *Node) *Node {
	g := logits.Graph()
	dims := logits.Shape().Dimensions
	V := dims[len(dims)-1]
	rows := logits.Shape().Size() / V
	flat := Reshape(logits, rows, V)
	mx := StopGradient(ReduceAndKeep(flat, ReduceMax, -1)) // [rows, 1]
	lse := Add(Log(ReduceSum(Exp(Sub(flat, mx)), -1)), Reshape(mx, rows))
	idx := Concatenate([]*Node{Iota(g, shapes.Make(dtypes.Int32, rows, 1), 0), Reshape(ConvertDType(targets, dtypes.Int32), rows, 1)}, -1)
	picked := Gather(flat, idx) // [rows]
	return Reshape(Sub(lse, picked), dims[:len(dims)-1]...)
}

// WordLMLoss is the mean cross-entropy in nats over the real positions:
// labels are the targets [B, T] (int32) and the mask [B, T] (float32, 1 for
// real positions, 0 for the padding of a last, shorter batch). exp(loss) is
// the batch perplexity. It has the train.LossFn signature.
func WordLMLoss(labels, logits []*Node) *Node {
	if len(labels) != 2 {
		panic(fmt.Errorf("models: WordLMLoss: want labels [targets, mask], got %d", len(labels)))
	}
	return maskedMean(TokenNLL(logits[0], labels[0]), labels[1])
}

// maskedMean is the mean of nll over the positions whose mask is 1 (0 when
// the mask is all zeros): sum(nll * mask) / max(sum(mask), 1).
func maskedMean(nll, mask *Node) *Node {
	w := ConvertDType(mask, nll.DType())
	return Div(ReduceAllSum(Mul(nll, w)), MaxScalar(ReduceAllSum(w), 1))
}

// ExportWordLM reads a trained WordLM built under scopePath ("/" for a
// train.Trainer's root) and returns its deploy form: Input packed.Embedding
// with the embedding table, the recurrent layer of recurrent.ExportLayers
// (zero initial state: a sequence starts from zeros, as an epoch does),
// the output layer and the vocabulary (words, may be nil). Its Steps are the
// BPTT length T the model was trained with; an engine reproduces the
// GoMLX deploy mode over consecutive windows of T tokens by resetting its
// State.T to 0 at every window (WordLMPerplexityPacked).
func ExportWordLM(b compute.Backend, store *model.Store, scopePath string, vocab []string) (*packed.Model, error) {
	layers, err := recurrent.ExportLayers(b, store, model.JoinPath(scopePath, "rnn"))
	if err != nil {
		return nil, err
	}
	cfg, _ := recurrent.ReadConfig(store, model.JoinPath(scopePath, "rnn"))
	emb, ed, err := readFloat32(b, store, model.JoinPath(scopePath, WordLMEmbeddingScope, WordLMEmbeddingVar))
	if err != nil {
		return nil, fmt.Errorf("models: ExportWordLM: %w", err)
	}
	if len(ed) != 2 || ed[1] != layers[0].Input {
		return nil, fmt.Errorf("models: ExportWordLM: embedding shape %v, want [vocab, %d]", ed, layers[0].Input)
	}
	w, bias, classes, err := readOutputLayer(b, store, scopePath, "ExportWordLM", layers[len(layers)-1].Hidden)
	if err != nil {
		return nil, err
	}
	if vocab != nil && len(vocab) != ed[0] {
		return nil, fmt.Errorf("models: ExportWordLM: %d vocabulary words for an embedding of %d rows", len(vocab), ed[0])
	}
	m := &packed.Model{
		Task: "wordlm", Vocab: vocab, Input: packed.Embedding,
		Embedding: emb, EmbeddingDim: ed[1], Layers: layers,
		Output: w, OutputBias: bias, Classes: classes,
		Meta: map[string]string{
			"quantizer": cfg.Quantizer, "deploy_quantizer": quant.MustLookup(cfg.Quantizer).Deterministic().Name,
			"normalization": cfg.Normalization.String(),
		},
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("models: ExportWordLM: %w", err)
	}
	return m, nil
}
