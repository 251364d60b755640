# Vigil developer commands. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench docs install clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/vigil db upgrade
	$(BIN)/vigil serve

# Two runs side by side (see tests/run_suite.py); PYTEST_ARGS runs plain pytest instead.
test: $(STAMP)
ifeq ($(strip $(PYTEST_ARGS)),)
	$(BIN)/python -m tests.run_suite
else
	$(BIN)/python -m pytest $(PYTEST_ARGS)
endif

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

docs: $(STAMP)
	$(BIN)/python docs/gen_config.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
