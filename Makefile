# Mingbai — the two commands a newcomer needs:  make run   and   make test
SHELL := /bin/bash
PY_BASE ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false

.PHONY: run test setup data lint typecheck bench eval clean help

help:
	@echo "make run    set up (venv, model, index) and serve Mingbai on http://127.0.0.1:7860/"
	@echo "make test   set up and run every test"
	@echo "make bench  measure performance targets (writes docs/benchmarks.md figures)"

# torch goes first, alone, pinned: the CPU build on this disk (any other resolution pulls CUDA).
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PY_BASE) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# The embedding model and the index live in the data dir ($$MINGBAI_HOME, default ~/.cache/mingbai).
data: setup
	$(VENV)/bin/mingbai models build
	$(VENV)/bin/mingbai index

# The main job: the web page at http://127.0.0.1:7860/ and the JSON API under /v1.
# (A terminal chat instead: .venv/bin/mingbai chat)
run: data
	$(VENV)/bin/mingbai serve --host 127.0.0.1 --port 7860

# Every test (two workers, a test file per worker: 5.5 -> 4.4 min on 2 cores), then the FAQ
# evaluation gate (its targets: knowledge/eval/targets.yaml).
test: data lint typecheck
	$(PY) -m pytest -q -n 2 --dist loadfile
	$(VENV)/bin/mingbai eval knowledge/eval/faq.jsonl --out $${MINGBAI_EVAL_OUT:-artifacts/eval} \
		--workers 2 --gate

lint: setup
	$(VENV)/bin/ruff check assistant retrieval knowledge ui tests benchmarks
	$(VENV)/bin/lint-imports

typecheck: setup
	$(VENV)/bin/mypy

bench: data
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
