# newsflow developer commands. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help install run serve test test-unit lint fmt schemas bench bench-enrich clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv with newsflow and its dev tools installed

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

SAMPLES ?= ../shared/samples/aggregator-seed.page.jsonl

run: install ## Start the pipeline on the embedded broker, feed it the sample pages, show where the articles landed
	$(BIN)/newsflow run --feed $(SAMPLES) --exit-when-drained --free-ports

serve: install ## Run the pipeline on the embedded broker until Ctrl-C
	$(BIN)/newsflow run

test: install ## Run the whole test suite (unit and integration)
	bash deploy/scripts/ensure-prometheus.sh
	$(BIN)/python -m pytest

test-unit: install ## Run the unit tests only
	$(BIN)/python -m pytest tests/unit

lint: install ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy newsflow services schemas tests benchmarks

fmt: install ## Format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

schemas: install ## Re-export the JSON Schema files from the pydantic models
	$(BIN)/python -m schemas.export

bench-enrich: install ## Benchmark offline enrich (text and HTML pages/s, peak memory)
	$(BIN)/python -m benchmarks.enrich

bench: install ## Streaming pipeline benchmark: pipeline vs offline enrich vs bare passthrough, drain, latency, memory
	$(BIN)/python -m benchmarks.pipeline

clean: ## Remove the virtualenv and generated data
	rm -rf $(VENV) data .mypy_cache .pytest_cache .ruff_cache
