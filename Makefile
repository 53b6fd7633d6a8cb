# daytwo: `make demo` brings everything up locally; `make test` runs every test on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.daytwo-installed
PYTEST_ARGS ?=

.PHONY: help setup deps controlplane tools chart-check crds crds-check lint unit integration e2e test bench cluster demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml hack/install-deps.sh
	@bash hack/install-deps.sh $(VENV)
	@touch $(STAMP)

deps: $(STAMP) ## system packages (apt-get), Python venv with pinned dependencies

controlplane: ## build kube-apiserver, kube-controller-manager, kubectl, etcd from Go modules (cached)
	@bash hack/build-controlplane.sh >/dev/null

tools: ## build helm and kubeconform from Go modules (cached), for chart-check
	@bash hack/build-tools.sh >/dev/null

chart-check: deps controlplane tools ## helm lint, render every ci/ values file, kubeconform against Kubernetes 1.33 schemas
	@bash hack/chart-check.sh

crds: deps ## regenerate CRD YAML from the pydantic models
	@$(PY) -m daytwo.crds.generate

crds-check: deps
	@$(PY) -m daytwo.crds.generate --check

lint: deps ## ruff, mypy --strict, import-linter layer contracts
	@$(VENV)/bin/ruff check operator api crds tests
	@$(VENV)/bin/ruff format --check operator api crds tests
	@# mypy resolves daytwo.* through a link tree: the folders are mapped, not named, daytwo/...
	@mkdir -p .daytwo/typecheck/daytwo && for d in operator api crds; do ln -sfn ../../../$$d .daytwo/typecheck/daytwo/$$d; done
	@$(VENV)/bin/mypy -p daytwo.crds -p daytwo.operator -p daytwo.api
	@$(VENV)/bin/lint-imports

unit: deps
	@$(PY) -m pytest tests/unit -q $(PYTEST_ARGS)

integration: deps
	@$(PY) -m pytest tests/integration -q -m integration $(PYTEST_ARGS)

e2e: deps controlplane
	@$(PY) -m pytest tests/e2e -q -m e2e $(PYTEST_ARGS)

setup: ## deps, control plane and chart tools side by side (pip waits on the network while Go compiles)
	@$(MAKE) --no-print-directory -j3 --output-sync=target deps controlplane tools

test: setup ## everything: lint, unit, integration, e2e on the real control plane
	@$(MAKE) --no-print-directory lint crds-check chart-check
	@bash hack/run-tests.sh $(PY) $(PYTEST_ARGS)

bench: deps controlplane ## benchmarks (BENCH="bench_scale ..." for some); JSON in .daytwo/bench/; fails if one fails its checks
	@$(PY) -m tests.bench --out .daytwo/bench $(BENCH)

cluster: deps controlplane ## run the local control plane in the foreground (Ctrl-C stops it)
	@$(PY) -m tests.harness.controlplane

demo: deps controlplane tools ## control plane (or $$KUBECONFIG), CRDs, stand-ins, operator, facade, examples
	@$(PY) -m tests.harness.demo

clean: ## remove local state (not the build cache in ~/.cache/daytwo)
	rm -rf .daytwo
