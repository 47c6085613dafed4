# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
# Quiet, and no "new pip available" notice: pip as the venv ships it is enough.
PIP := $(BIN)/pip install --quiet --disable-pip-version-check

.PHONY: run test lint format bench browser clean

# `make run` needs the product only; tests and linters add the dev extra on top.
$(RUNTIME): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $(RUNTIME)

$(DEV): $(RUNTIME)
	$(PIP) -e '.[dev]'
	touch $(DEV)

run: $(RUNTIME)
	$(BIN)/mailsandbox serve

# Browser tests need Debian's chromium; install it when missing (as root), else fail loudly.
browser:
	@test -x /usr/bin/chromium || bash scripts/install-chromium.sh

test: $(DEV) browser
	$(BIN)/pytest -n 2 --dist loadfile -q

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	bash scripts/typecheck-tree.sh
	$(BIN)/mypy

format: $(DEV)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(DEV)
	$(BIN)/python bench/smtp_ingest.py
	$(BIN)/python bench/api_send.py
	$(BIN)/python bench/startup.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
