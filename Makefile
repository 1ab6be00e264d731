# rbt — the two commands of the README, and their parts.
#   bash .ci/setup.sh && make reproduce   # every notebook at $RBT_BUDGET (default quick) -> results/
#   make test                             # go vet, go test, every notebook at RBT_BUDGET=smoke
export GOTOOLCHAIN := go1.27.3
export GOEXPERIMENT := simd
RBT_BUDGET ?= quick
NOTEBOOKS ?= $(sort $(wildcard notebooks/*.ipynb))
GO ?= go

.PHONY: setup reproduce test vet gotest notebooks-smoke bench clean

setup:
	bash .ci/setup.sh

# Executes every notebook at $(RBT_BUDGET), writes executed notebooks, HTML, figures and
# summary.{md,csv} under results/. At the quick budget (the one committed) it also refreshes
# the notebooks in place; other budgets leave the committed outputs alone.
INPLACE = $(if $(filter quick,$(RBT_BUDGET)),-inplace,)
reproduce:
	$(GO) run ./rbt/cmd/nbrun -budget $(RBT_BUDGET) -out results $(INPLACE) $(NOTEBOOKS)

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

clean:
	rm -rf results
