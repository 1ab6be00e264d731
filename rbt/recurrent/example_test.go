package recurrent_test

import (
	"fmt"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/ml/model"

	"github.com/rbt-project/rbt/rbt/backend"
	"github.com/rbt-project/rbt/rbt/quant"
	"github.com/rbt-project/rbt/rbt/recurrent"
)

// A two-layer BN-LSTM with stochastic binary weights on token ids, and its
// export to the deploy form.
func ExampleNew() {
	store := model.NewStore()
	_ = store.SetRNGStateFromSeed(1)
	tokens := [][]int32{{0, 3, 1}, {4, 2, 2}} // [B=2, T=3], vocabulary 5
	outs := model.MustNewExec(backend.Must(), store, func(scope *model.Scope, x *Node) (*Node, *Node) {
		h, final := recurrent.New(scope.In("rnn"), x, 4).
			OneHot(5).
			Quantizer(quant.MustLookup("binary")).
			Normalization(recurrent.PerStepBN).
			Layers(2).
			Done()
		return h, final.C[1]
	}).MustCall(tokens)
	fmt.Println("hidden states:", outs[0].Shape().Dimensions, "last c of layer 1:", outs[1].Shape().Dimensions)

	layers, err := recurrent.ExportLayers(backend.Must(), store, "/rnn")
	if err != nil {
		panic(err)
	}
	l := layers[0]
	fmt.Println("layer 0:", l.Cell, l.Weights, "input", l.Input, "hidden", l.Hidden, "steps", l.Steps, "signs", len(l.WxSign)+len(l.WhSign))
	// Output:
	// hidden states: [2 3 4] last c of layer 1: [2 4]
	// layer 0: LSTM binary input 5 hidden 4 steps 3 signs 144
}
