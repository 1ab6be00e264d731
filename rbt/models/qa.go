package models

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // GoMLX style.
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"

	"github.com/rbt-project/rbt/rbt/recurrent"
)

// AttentiveReader is the Attentive Reader of Hermann et al. 2015 ("Teaching
// Machines to Read and Comprehend"), as the paper's CNN question-answering
// experiment uses it (METHOD.md): a full-precision word embedding shared by
// document and question, bidirectional (BN-)LSTMs over the question and over
// the document (four LSTMs, all with the quantizer's weights), an attention
// MLP, and a softmax over the entity ids with non-candidates masked:
//
//	y_d(t) = [fwd_d(t); bwd_d(t)]                 (B, D, 2n) document encoding
//	u      = [fwd_q(|q|-1); bwd_q(0)]             (B, 2n)    question encoding
//	m(t)   = tanh(y_d(t) W_ym + u W_um)            (B, D, A)  attention MLP
//	s      = softmax_t(m(t) . w_ms)  over t < |d|  (B, D)
//	r      = sum_t s(t) y_d(t)                     (B, 2n)
//	g      = tanh(r W_rg + u W_ug)                 (B, 2n)
//	logits = g W_out + b_out, -1e9 where the entity is not a candidate  (B, Entities)
//
// The backward direction reads each sequence reversed within its own length
// (padding stays at the end), so that neither direction sees padding before
// a real token; the reversed outputs are put back in the original order.
// Padded positions still take part in the batch statistics of the time steps
// they occupy (the recurrent layer normalizes over the whole batch): length
// bucketing (datasets.QABatches) keeps those few.
//
// Variables: <scope>/embedding/embeddings [Vocab, Embedding];
// <scope>/{question,document}_{fwd,bwd}/layer_0/... (package recurrent);
// <scope>/{att_y,att_u,att_s,g_r,g_u,output}/{weights,bias}.
type AttentiveReader struct {
	Vocab     int // vocabulary size (entities first: ids 0..Entities-1)
	Entities  int // output classes (550 for CNN)
	Embedding int // 200 in the paper
	Hidden    int // n per direction (256 in the paper)
	Attention int // attention MLP width A (100 in the paper)

	Quantizer     string                  // quant registry name for all four LSTMs; "" = "fp"
	Normalization recurrent.Normalization // PerStepBN (default), SharedBN, None
	Inference     recurrent.Inference     // CodeMode (default) or DeployMode
	// MaxDocSteps, MaxQuestionSteps: per-step population statistics stored
	// (recurrent.Builder.MaxSteps); 0 = the length of the first graph built.
	MaxDocSteps, MaxQuestionSteps int
}

// Validate checks the configuration.
func (m AttentiveReader) Validate() error {
	if m.Entities < 2 || m.Vocab < m.Entities || m.Embedding < 1 || m.Hidden < 1 || m.Attention < 1 {
		return fmt.Errorf("models: AttentiveReader: Vocab=%d Entities=%d Embedding=%d Hidden=%d Attention=%d, want Entities >= 2, Vocab >= Entities, widths >= 1",
			m.Vocab, m.Entities, m.Embedding, m.Hidden, m.Attention)
	}
	if m.MaxDocSteps < 0 || m.MaxQuestionSteps < 0 {
		return fmt.Errorf("models: AttentiveReader: negative MaxDocSteps/MaxQuestionSteps")
	}
	_, err := lookupQuantizer(m.Quantizer)
	return err
}

// QA input positions of AttentiveReader.Logits.
const (
	QADocument    = iota // int32 [B, D] token ids, padded
	QADocLen             // int32 [B] real lengths
	QAQuestion           // int32 [B, Q]
	QAQuestionLen        // int32 [B]
	QACandidates         // float32 [B, Entities]: 1 for the candidate answers
	QAInputs             // number of inputs
)

// Logits maps the inputs (in the order QADocument, QADocLen, QAQuestion,
// QAQuestionLen, QACandidates; as datasets.QABatch holds them) to answer
// logits [B, Entities], non-candidates at -1e9. It has the
// train.ModelFn-compatible signature.
func (m AttentiveReader) Logits(scope *model.Scope, inputs []*Node) *Node {
	if err := m.Validate(); err != nil {
		panic(err)
	}
	if len(inputs) != QAInputs {
		panic(fmt.Errorf("models: AttentiveReader: %d inputs, want %d (document, length, question, length, candidates)", len(inputs), QAInputs))
	}
	doc, docLen := inputs[QADocument], inputs[QADocLen]
	question, qLen := inputs[QAQuestion], inputs[QAQuestionLen]
	cand := inputs[QACandidates]
	g := doc.Graph()
	dt := dtypes.Float32
	B := doc.Shape().Dim(0)
	n := m.Hidden

	// Shared full-precision embedding, U(-0.1, 0.1).
	es := scope.In("embedding")
	table := es.WithInitializer(initializer.RandomUniformFn(es, -0.1, 0.1)).
		VariableWithShape("embeddings", shapes.Make(dt, m.Vocab, m.Embedding)).NodeValue(g)
	embed := func(ids *Node) *Node { return Gather(table, InsertAxes(ids, -1)) } // [B, T, E]

	ed, eq := embed(doc), embed(question)
	docY := m.biLSTM(scope, "document", ed, docLen, m.MaxDocSteps)  // [B, D, 2n]
	qY := m.biLSTM(scope, "question", eq, qLen, m.MaxQuestionSteps) // [B, Q, 2n]
	qFwdLast := atPosition(Slice(qY, AxisRange(), AxisRange(), AxisRange(0, n)), Max(AddScalar(qLen, -1), ZerosLike(qLen)))
	qBwdFirst := Squeeze(Slice(qY, AxisRange(), AxisRange(0, 1), AxisRange(n, 2*n)), 1)
	u := Concatenate([]*Node{qFwdLast, qBwdFirst}, -1) // [B, 2n]

	// Attention over the real document positions.
	att := Tanh(Add(OutputLayer(scope.In("att_y"), docY, m.Attention), ExpandAxes(OutputLayer(scope.In("att_u"), u, m.Attention), 1)))
	score := Squeeze(OutputLayer(scope.In("att_s"), att, 1), -1) // [B, D]
	D := doc.Shape().Dim(1)
	pos := Iota(g, shapes.Make(docLen.DType(), B, D), 1)
	mask := LessThan(pos, ExpandAxes(docLen, -1))
	weights := MaskedSoftmax(score, mask, -1)             // [B, D]
	r := ReduceSum(Mul(docY, ExpandAxes(weights, -1)), 1) // [B, 2n]
	gOut := Tanh(Add(OutputLayer(scope.In("g_r"), r, 2*n), OutputLayer(scope.In("g_u"), u, 2*n)))
	logits := OutputLayer(scope.In("output"), gOut, m.Entities) // [B, Entities]
	return Add(logits, MulScalar(OneMinus(ConvertDType(cand, logits.DType())), -1e9))
}

// biLSTM runs a forward and a backward recurrent layer over x [B, T, d] with
// real lengths lens [B] and returns [B, T, 2n]: forward outputs, then the
// backward outputs put back in the original order.
func (m AttentiveReader) biLSTM(scope *model.Scope, name string, x, lens *Node, maxSteps int) *Node {
	q, _ := lookupQuantizer(m.Quantizer)
	run := func(sub string, in *Node) *Node {
		b := recurrent.New(scope.In("%s_%s", name, sub), in, m.Hidden).Quantizer(q).
			Normalization(m.Normalization).Inference(m.Inference)
		if maxSteps > 0 {
			b.MaxSteps(maxSteps)
		}
		h, _ := b.Done()
		return h
	}
	fwd := run("fwd", x)
	bwd := ReverseWithin(run("bwd", ReverseWithin(x, lens)), lens)
	return Concatenate([]*Node{fwd, bwd}, -1)
}

// ReverseWithin reverses every row of x [B, T, ...] within its own length:
// out[b, t] = x[b, len[b]-1-t] for t < len[b], and x[b, t] otherwise (the
// padding stays where it is). It is its own inverse. lens is int [B].
func ReverseWithin(x, lens *Node) *Node {
	g := x.Graph()
	B, T := x.Shape().Dim(0), x.Shape().Dim(1)
	it := lens.DType()
	t := Iota(g, shapes.Make(it, B, T), 1)
	L := ExpandAxes(lens, -1)
	src := Where(LessThan(t, L), Sub(AddScalar(L, -1), t), t)
	b := Iota(g, shapes.Make(it, B, T), 0)
	return Gather(x, Stack([]*Node{b, src}, -1))
}

// atPosition returns x[b, pos[b]] for x [B, T, k] and pos int [B]: [B, k].
func atPosition(x, pos *Node) *Node {
	g := x.Graph()
	B := x.Shape().Dim(0)
	b := Iota(g, shapes.Make(pos.DType(), B), 0)
	return Gather(x, Stack([]*Node{b, pos}, -1))
}

// QALoss is the mean cross-entropy (nats) of the answer logits [B, E]
// against the answers [B] over the rows whose mask is 1. labels are
// [answers int32 [B], mask float32 [B]] (the mask may be omitted). It has the
// train.LossFn signature.
func QALoss(labels, logits []*Node) *Node {
	nll := TokenNLL(logits[0], labels[0]) // [B]
	if len(labels) > 1 {
		return maskedMean(nll, labels[1])
	}
	return ReduceAllMean(nll)
}
