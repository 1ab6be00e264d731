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
# summary.{md,csv} under results/, and refreshes the committed notebooks in place.
reproduce:
	$(GO) run ./rbt/cmd/nbrun -budget $(RBT_BUDGET) -out results -inplace $(NOTEBOOKS)

test: vet gotest notebooks-smoke

vet:
	$(GO) vet ./...

gotest:
	$(GO) test ./...

# The committed notebooks keep their quick-budget outputs: the smoke run writes elsewhere.
notebooks-smoke:
	$(GO) run ./rbt/cmd/nbrun -budget smoke -out results/smoke -html=false $(NOTEBOOKS)

bench:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./...

clean:
	rm -rf results
