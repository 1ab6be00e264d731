// Package experiments holds the experiments of the paper end to end — data,
// model, training, evaluation, tables and figures — so that each notebook is a
// settings cell and a main cell that calls one function and shows its report.
//
// # The contract
//
// Every experiment is written the same way, top to bottom in its own file:
//
//  1. Its models are Recipes: a short name, a label, the cell (LSTM or GRU),
//     the quantizer of Wx and Wh by its rbt/quant registry name, the
//     normalization, and whether the Adam step of the latent weights is
//     clipped (as the authors' code does per quantizer). A model may also be
//     named after any registered quantizer: "bn-twn" (per-step BN) or "k3"
//     (none), see QuantizerRecipe.
//  2. Its settings are a Config returned by XxxSettings(b budget.Budget):
//     every knob (models, sizes, length, batch, steps or epochs, learning
//     rate, seed) is a field, the budget is a field, and String() writes them
//     all on one line. Nothing reads the environment after that.
//  3. It runs as XxxRun(ctx, cfg, ..., w) or Xxx(ctx, cfg, w): a context for
//     cancellation, progress lines to w, checkpoints in a directory that a
//     second run resumes. The character-level LMs of every notebook — LSTM
//     (01-04) and GRU (08) — train through one trainer, TrainCharLM.
//  4. Its result implements Result: Report() gives the settings, notes on
//     the data, the tables, the verdicts (each claim, the measured figures it
//     rests on, and whether they agree), the figures and the machine-readable
//     rows that nbrun collects into summary.md / summary.csv.
//
// Budgets: smoke (seconds, CI), quick (the committed notebook outputs, about
// 15 minutes per notebook on a 2-core CPU), cpu (about an hour per notebook,
// provisional settings), paper (METHOD.md's; a GPU).
//
// # A worked example
//
// The PTB-character notebook, headless:
//
//	cfg, err := experiments.CharLMSettings(experiments.TaskPTBChar, budget.Quick)
//	if err != nil { ... }
//	cfg.Models = []string{"bn-fp", "bn-binary", "bn-twn"} // any knob, changed in one line
//	data, err := experiments.LoadCharLMData(cfg.Task, true)
//	if err != nil { ... }
//	res, err := experiments.RunCharLM(ctx, cfg, data, "runs/ptb-char", os.Stdout)
//	if err != nil { ... }
//	rep, err := res.Report()
//	if err != nil { ... }
//	fmt.Print(rep.Markdown())  // in a notebook: rep.Show(gonbui.DisplayHTML, gonbui.DisplayPNG)
//	err = rep.Record()         // the rows, for nbrun's summary
//
// A new experiment is this example plus its model: a Recipe list, a Config
// with its XxxSettings, a run function, and a Report method on its result.
package experiments
