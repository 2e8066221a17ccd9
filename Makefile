# Two entry points for a fresh machine: `make play` and `make test`.
# Both create or refresh the virtual environment in .venv from the pinned requirements.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

EXTRAS := $(VENV)/.extras

.PHONY: play test lint venv

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# Optional extras the tests cover too (Minari export, the benchmark's comparison libraries).
$(EXTRAS): $(STAMP) requirements-extras.txt requirements-bench.txt
	$(PY) -m pip install --quiet -r requirements-extras.txt -r requirements-bench.txt
	touch $(EXTRAS)

venv: $(STAMP)

play: $(STAMP)
	$(PY) main.py play $(ARGS)

test: $(STAMP) $(EXTRAS)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
