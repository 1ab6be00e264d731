# rbt — the two commands of the README, and their parts.
#   bash .ci/setup.sh && make reproduce   # every notebook at $RBT_BUDGET (default quick) -> results/
#   make test                             # go vet, go test, every notebook at RBT_BUDGET=smoke
export GOTOOLCHAIN := go1.27.3
export GOEXPERIMENT := simd
RBT_BUDGET ?= quick
NOTEBOOKS ?= $(sort $(wildcard notebooks/*.ipynb))
GO ?= go

.PHONY: setup reproduce test vet gotest notebooks-smoke bench bench-peer fuzz clean

setup:
	bash .ci/setup.sh

# Executes every notebook at $(RBT_BUDGET), writes executed notebooks, HTML, figures and
# summary.{md,csv} under results/. At the quick budget (the one committed) it also refreshes
# the notebooks in place; other budgets leave the committed outputs alone.
INPLACE = $(if $(filter quick,$(RBT_BUDGET)),-inplace,)
# Every notebook's headline rows (at quick and cpu) go to the reviewer's table notebooks/RESULTS.md
# and RESULTS.csv, replacing that notebook's rows of the same budget.
reproduce:
	$(GO) run ./rbt/cmd/nbrun -budget $(RBT_BUDGET) -out results/$(RBT_BUDGET) $(INPLACE) -review notebooks/RESULTS.md $(NOTEBOOKS)

test: vet gotest notebooks-smoke

vet:
	$(GO) vet ./...

gotest:
	$(GO) test ./...

# The committed notebooks keep their quick-budget outputs: the smoke run writes elsewhere.
# Every HTML report is opened in headless Chromium, network off (nbrun -check-html):
# a missing or blank figure, or a resource from outside the file, fails the run.
notebooks-smoke:
	$(GO) run ./rbt/cmd/nbrun -budget smoke -out results/smoke $(NOTEBOOKS)

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./...

# Every Fuzz target of the module, found with go test -list, for $(FUZZTIME)
# each (go test -fuzz runs one target at a time). A crasher is written to the
# package's testdata/fuzz/<target>/ and stops the run: commit it, and it stays a
# regression case of go test.
FUZZTIME ?= 60s
fuzz:
	@$(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ { t[n++] = $$1; next } /^ok/ { for (i = 0; i < n; i++) print $$2, t[i]; n = 0 }' > .fuzz-targets
	@echo "fuzz: $$(wc -l < .fuzz-targets) targets, $(FUZZTIME) each"
	@while read -r pkg target; do \
		echo "== $$pkg $$target"; \
		$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || { rm -f .fuzz-targets; exit 1; }; \
	done < .fuzz-targets; rm -f .fuzz-targets

# One training step of rbt's models side by side with PyTorch (../shared/bench/torch_lstm_bench.py,
# when /usr/bin/python3 has torch), one table of medians. A quick run: make bench-peer
# BENCH_SHAPES=charlm-h256-t50 BENCH_RUNS=1 (empty BENCH_SHAPES = every shape; h1000 and sMNIST are slow).
BENCH_SHAPES ?=
BENCH_MODELS ?= bn-fp,bn-binary,bn-ternary,nn.LSTM
BENCH_STEPS ?= 5
BENCH_RUNS ?= 3
bench-peer:
	$(GO) run ./rbt/cmd/benchpeer -shapes '$(BENCH_SHAPES)' -models '$(BENCH_MODELS)' -steps $(BENCH_STEPS) -runs $(BENCH_RUNS)

clean:
	rm -rf results
