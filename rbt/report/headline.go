package report

import (
	"fmt"
	"math"
	"slices"
)

// Headline returns the headline row of one model: the mean of values (one
// per seed), their spread (max - min) and the epochs trained, its source
// measured at budget. Claims are added with AtMost, AtLeast, WithinPercent
// and WithinPoints.
//
//	h := report.Headline("PTB char", "BN binary LSTM 1x256", "test BPC (deploy)", "cpu", 1.0, 1.71, 1.73, 1.70)
//	h = h.WithinPercent(1.62, 6, "of the BN-LSTM")
//	// h.Verdict: "missed: +5.9% ..." or "met: ..."
func Headline(experiment, model, metric, budget string, epochs float64, values ...float64) Result {
	r := Result{Experiment: experiment, Model: model, Metric: metric, Source: Measured(budget), Headline: true,
		Epochs: epochs, Seeds: len(values), Value: math.NaN()}
	if len(values) == 0 {
		return r
	}
	sum := 0.0
	for _, v := range values {
		sum += v
	}
	r.Value = sum / float64(len(values))
	if spread := slices.Max(values) - slices.Min(values); len(values) > 1 && !math.IsNaN(spread) && !math.IsInf(spread, 0) {
		r.Spread = spread
	}
	return r
}

// Cite sets the published figure of the row and its source.
func (r Result) Cite(published, source string) Result {
	r.Published, r.PublishedSource = published, source
	return r
}

// verdict sets Claim and Verdict; a non-finite value never meets a claim.
func (r Result) verdict(claim string, met bool, detail string) Result {
	r.Claim = claim
	switch {
	case math.IsNaN(r.Value) || math.IsInf(r.Value, 0):
		r.Verdict = "missed: the value is not finite (" + fmt.Sprint(r.Value) + ")"
	case met:
		r.Verdict = "met: " + detail
	default:
		r.Verdict = "MISSED: " + detail
	}
	return r
}

// NotTestable states claim with the verdict "not testable: why", for a
// comparison whose reference has not learned (a reader at chance): neither
// met nor missed.
func (r Result) NotTestable(claim, why string) Result {
	r.Claim = claim
	r.Verdict = "not testable: " + why
	return r
}

// AtMost checks Value <= target (a loss: BPC, perplexity).
func (r Result) AtMost(target float64) Result {
	return r.verdict(fmt.Sprintf("at most %s", FormatValue(target)), r.Value <= target,
		fmt.Sprintf("%s vs at most %s (%+.1f%%)", fmt4(r.Value), FormatValue(target), 100*(r.Value/target-1)))
}

// AtLeast checks Value >= target (an accuracy).
func (r Result) AtLeast(target float64) Result {
	return r.verdict(fmt.Sprintf("at least %s", FormatValue(target)), r.Value >= target,
		fmt.Sprintf("%s vs at least %s (%+.2f)", fmt4(r.Value), FormatValue(target), r.Value-target))
}

// WithinPercent checks that Value (a loss) is at most pct percent above ref,
// the figure of the model named by what (e.g. "of the BN-LSTM").
func (r Result) WithinPercent(ref, pct float64, what string) Result {
	gap := 100 * (r.Value/ref - 1)
	return r.verdict(fmt.Sprintf("within %g%% %s", pct, what), gap <= pct && !math.IsNaN(ref),
		fmt.Sprintf("%+.1f%% (%s vs %s)", gap, fmt4(r.Value), fmt4(ref)))
}

// WithinPoints checks that Value (an accuracy in percent) is at most pts
// points below ref, the figure of the model named by what.
func (r Result) WithinPoints(ref, pts float64, what string) Result {
	gap := r.Value - ref
	return r.verdict(fmt.Sprintf("within %g points %s", pts, what), gap >= -pts && !math.IsNaN(ref),
		fmt.Sprintf("%+.2f points (%s vs %s)", gap, fmt4(r.Value), fmt4(ref)))
}

// AtLeastPercentAbove checks that Value (a loss) is at least pct percent
// above ref: an ablation that should be clearly worse.
func (r Result) AtLeastPercentAbove(ref, pct float64, what string) Result {
	gap := 100 * (r.Value/ref - 1)
	return r.verdict(fmt.Sprintf("at least %g%% above %s", pct, what), gap >= pct && !math.IsNaN(ref),
		fmt.Sprintf("%+.1f%% (%s vs %s)", gap, fmt4(r.Value), fmt4(ref)))
}

// Near checks that Value is within pct percent of ref either way: the same
// figure computed two ways.
func (r Result) Near(ref, pct float64, what string) Result {
	gap := 100 * (r.Value/ref - 1)
	return r.verdict(fmt.Sprintf("within %g%% %s", pct, what), math.Abs(gap) <= pct,
		fmt.Sprintf("%+.2f%% (%s vs %s)", gap, fmt4(r.Value), fmt4(ref)))
}

func fmt4(v float64) string { return fmt.Sprintf("%.4g", v) }
