package models_test

import (
	"context"
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/rbt-project/rbt/datasets"
	"github.com/rbt-project/rbt/datasets/batches"
	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/models"
	"github.com/rbt-project/rbt/rbt/optim"
	"github.com/rbt-project/rbt/rbt/packed"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

// ExampleWordLM trains a tiny BN-binary word LM for a few truncated-BPTT
// steps (state carried from window to window, reset at the first one),
// exports it to the packed deploy form and checks that the packed engine
// gives the same perplexity as the GoMLX deploy mode.
func ExampleWordLM() {
	tokens := make([]int32, 4*5*8+1) // a repeating "sentence" over 12 words
	for i := range tokens {
		tokens[i] = int32(i*7%12) % 12
	}
	ws, _ := datasets.NewWordStreams(tokens, 4, 5) // 4 streams, windows of 5
	lm := models.WordLM{Vocab: 12, Embed: 6, Hidden: 8, Quantizer: "binary", Dropout: 0.5}

	store := model.NewStore()
	store.SetRNGStateFromSeed(1)
	trainer := train.NewTrainer(backend.Must(), store, lm.TrainLogits, models.WordLMLoss,
		optim.SGD().LearningRate(20).ClipNorm(0.25).Done(), nil, nil)
	for step := range 12 {
		i := step % ws.NumBatches()
		b, _ := batches.Word(ws, i)
		reset := float32(0)
		if i == 0 {
			reset = 1
		}
		if _, err := trainer.TrainStep(train.Batch{
			Inputs: []*tensors.Tensor{b.Inputs, tensors.FromValue(reset)},
			Labels: []*tensors.Tensor{b.Targets, b.Mask}}); err != nil {
			panic(err)
		}
	}

	lm.Inference = recurrent.DeployMode
	deploy, _ := models.EvalWordLM(context.Background(), backend.Must(), store, lm, ws, 0)
	pm, err := models.ExportWordLM(backend.Must(), store, "/", nil)
	if err != nil {
		panic(err)
	}
	engine, _ := packed.NewEngine(pm)
	onEngine, _ := models.PackedWordLMNLL(engine, ws, 0)
	fmt.Printf("export: %s input, %s %s weights, %d per-step statistics\n",
		pm.Input, pm.Layers[0].Cell, pm.Layers[0].Weights, pm.Layers[0].Steps)
	fmt.Printf("same perplexity on the packed engine: %v\n", fmt.Sprintf("%.4f", deploy.Perplexity()) == fmt.Sprintf("%.4f", onEngine.Perplexity()))
	// Output:
	// export: embedding input, LSTM binary weights, 5 per-step statistics
	// same perplexity on the packed engine: true
}
