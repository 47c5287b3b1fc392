# boundaryline: every job starts here. `make` lists the targets.
# Each target installs what it needs first, so a fresh clone needs only Python 3.11 and make.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CLI := $(BIN)/boundaryline
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
INBOX ?=
OUT ?=
NEW ?=
ENGINE ?=
SCHEDULER ?=
JOBS ?=

.DEFAULT_GOAL := help
.PHONY: help install model validate train train-quick score serve test lint format bench bench-scaling study retrain notebook clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-12s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv and install the package (editable) with the dev tools, at the pinned versions

$(STAMP): pyproject.toml requirements/constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "boundaryline needs Python 3.11 or newer"'
	@echo "install: creating the virtual environment $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@echo "install: upgrading pip"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "install: boundaryline and its pinned dependencies (scikit-learn, FastAPI, Playwright, ...): a few minutes the first time"
	$(BIN)/python -m pip install --progress-bar on -c requirements/constraints.txt -e '.[dev]'
	@echo "install: done"
	@touch $(STAMP)

model: install ## make sure a verified model is in service; train one if there is none or it cannot load
	@$(CLI) models check || $(CLI) train

validate: install ## check the corpus and challenge set, print counts and the near-duplicate rate
	$(CLI) validate-data

train: install ## grid-search, evaluate against the baselines, save and promote a new model version
	$(CLI) -v train

train-quick: install ## train with the last chosen parameters only (no search, no baselines)
	$(CLI) -v train --quick --no-baselines

# INBOX, OUT and NEW are quoted: Gmail Takeout's file is "All mail Including Spam and Trash.mbox".
score: model ## score an inbox export: make score INBOX=path [OUT=path] [OWNER=name] [SNIPPETS=1] [JOBS=n] [ENGINE=dask [SCHEDULER=tcp://…]]
	$(CLI) score $(if $(INBOX),"$(INBOX)") $(if $(OUT),--out "$(OUT)") $(if $(OWNER),--owner "$(OWNER)") $(if $(SNIPPETS),--snippets) $(if $(JOBS),--jobs $(JOBS)) \
		$(if $(ENGINE),--engine $(ENGINE)) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

serve: model ## run the HTTP service on $(HOST):$(PORT) with uvicorn, WORKERS=2 processes (/metrics counts them all)
	$(CLI) serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

retrain: model ## merge new labels (NEW=file.csv, default: the service's feedback), train, promote if not worse
	$(CLI) -v retrain $(if $(NEW),"$(NEW)")

test: model lint ## lint, then the whole test suite (code, data, model, service, notebooks)
	$(BIN)/pytest -q --nbmake notebooks tests

lint: install ## ruff (lint and format check) and mypy
	$(BIN)/ruff check src service tests benchmarks
	$(BIN)/ruff format --check src service tests benchmarks
	$(BIN)/mypy src/boundaryline service benchmarks

format: install ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix src service tests benchmarks
	$(BIN)/ruff format src service tests benchmarks

bench: model ## benchmarks (batch scoring, service latency, partitioned scaling); results in reports/bench/
	$(BIN)/python -m benchmarks.bench
	$(BIN)/python -m benchmarks.dask_scaling

bench-scaling: model ## partitioned scoring only: --jobs 1 vs 2, Dask 1 vs 2 workers; reports/bench/scaling.json
	$(BIN)/python -m benchmarks.dask_scaling

study: install ## the model-selection, mail-parser, history-rule and peer-fixture studies behind docs/model-selection.md (~20 min)
	$(BIN)/python -m benchmarks.mail_parsers
	$(BIN)/python -m benchmarks.model_selection
	$(BIN)/python -m benchmarks.history_rule
	$(BIN)/python -m benchmarks.peer_fixtures

notebook: install ## run the error-analysis notebook in place
	$(BIN)/jupyter-execute --inplace notebooks/error-analysis.ipynb

clean: ## remove the virtual environment and caches (keeps data and models)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
