# citebot: `make run` answers questions from corpus/; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run install install-dev test lint typecheck pytest eval bench index clean

run: $(VENV)/.installed  ## build or update the index over corpus/, then start citebot
	$(BIN)/citebot run

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# torch goes first, pinned: pip takes the CPU build from this machine's disk instead of a
# multi-GB CUDA build, and sentence-transformers then installs on top of it.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

test: install-dev lint typecheck pytest  ## lint, type-check and run the whole test suite

lint: install-dev
	$(BIN)/ruff check bot index tests
	$(BIN)/ruff format --check bot index tests

typecheck: install-dev
	$(BIN)/mypy

pytest: install-dev
	$(BIN)/pytest

index: install  ## build or update the index without starting anything
	$(BIN)/citebot index build

XQUAD ?= ../shared/data/xquad/xquad.en.json

# Retrieval and quotes with every article indexed, then answerable, missing-fact, off-topic,
# off-corpus and news figures by article fold, cross-validated and held back (a few minutes).
eval: install  ## answer quality on XQuAD English (needs ../shared/data, or XQUAD=path)
	nice -n 10 $(BIN)/citebot eval $(XQUAD)
	nice -n 10 $(BIN)/citebot eval $(XQUAD) --folds

bench: install-dev  ## speed and memory figures on the sample corpus
	$(BIN)/python -m tests.bench.bench

clean:
	rm -rf $(VENV) .citebot .pytest_cache .mypy_cache .ruff_cache
