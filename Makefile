# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
STAMP := $(VENV)/.installed-stamp
CATALOGUE := moraspar/translations/sv/LC_MESSAGES/messages

.PHONY: install translations run test lint bench floors extract-messages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(CATALOGUE).mo: $(CATALOGUE).po $(STAMP)
	$(BIN)/pybabel compile -d moraspar/translations -D messages

translations: $(CATALOGUE).mo

# The web server in the foreground and a job worker beside it, both on the
# embedded defaults (SQLite database, SQLite queue); the worker stops with it.
run: translations
	$(BIN)/moraspar db upgrade
	$(BIN)/moraspar seed-demo
	@echo "Moraspår at http://127.0.0.1:$(PORT)"
	@$(BIN)/moraspar worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	trap 'exit 130' INT TERM; \
	$(BIN)/moraspar run --host 127.0.0.1 --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/bandit -q -r moraspar matching -c pyproject.toml

test: translations lint
	$(BIN)/pytest

bench: translations
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/speed.py
	$(BIN)/python bench/load/run.py

# The suite once more on the lowest versions pyproject.toml allows (a venv of
# its own in /tmp). Not yet part of CI: see README, "Dependencies and why".
floors: translations
	$(PYTHON) -m venv /tmp/moraspar-floors
	$(PYTHON) .ci/floors.py > /tmp/moraspar-floors/constraints.txt
	/tmp/moraspar-floors/bin/python -m pip install --quiet --upgrade pip
	/tmp/moraspar-floors/bin/python -m pip install --quiet \
	  -c /tmp/moraspar-floors/constraints.txt -e '.[dev]'
	/tmp/moraspar-floors/bin/pytest -p no:randomly --ignore=tests/browser

# After changing interface strings: extract, merge into the sv catalogue, translate.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o moraspar/translations/messages.pot moraspar templates
	$(BIN)/pybabel update -i moraspar/translations/messages.pot -d moraspar/translations -D messages --no-fuzzy-matching

clean:
	rm -rf $(VENV) instance .mypy_cache .ruff_cache
