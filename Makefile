# What a newcomer types. Every target does its own set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATAOPS_HOME ?= $(HOME)/.local/share/cybernetic-dataops
DAGSTER_HOME ?= $(DATAOPS_HOME)/dagster_home
TEST_WORKERS ?= 2
export DATAOPS_HOME DAGSTER_HOME

.PHONY: demo test test-fast ui lint bench bench-loop bench-scale bench-large clean-data

demo: $(VENV)/.installed  ## land the sample orders and run the closed loop
	$(BIN)/dataops demo

test: $(VENV)/.installed-test  ## run every test and doctest (live ones need postgresql and chromium)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not live"
	$(BIN)/python -m pytest -m live

test-fast: $(VENV)/.installed-test  ## every test but the live ones (servers, PostgreSQL, browser)
	$(BIN)/python -m pytest -m "not live"

ui: $(VENV)/.installed  ## the Dagster UI on 127.0.0.1:3000, over the demo's instance and data
	$(BIN)/dataops init
	$(BIN)/dagster-webserver -w workspace.yaml -h 127.0.0.1 -p 3000

lint: $(VENV)/.installed-lint  ## ruff (lint and format) and mypy
	$(BIN)/ruff check driftguard schemasense datareflex suite tests bench
	$(BIN)/ruff format --check driftguard schemasense datareflex suite tests bench
	$(BIN)/mypy driftguard schemasense datareflex suite

bench: $(VENV)/.installed-bench  ## the benchmarks in bench/ (they print ratios against the peers)
	$(BIN)/python bench/schemasense_quality.py
	$(BIN)/python bench/schemasense_speed.py
	$(BIN)/python bench/driftguard_quality.py
	$(BIN)/python bench/driftguard_speed.py
	$(BIN)/python bench/real_data.py

bench-loop: $(VENV)/.installed-test  ## file-to-published latency under the live daemon (about 3 min)
	$(BIN)/python bench/loop_latency.py

bench-scale: $(VENV)/.installed-test  ## 1M, 10M and 100M rows in one process and on 2 Dask workers (about 15 min)
	$(BIN)/python bench/scale.py

bench-large: $(VENV)/.installed-test  ## the loop on 1M, 5M and 10M real flights rows, kept on disk against read whole (about 15 min)
	$(BIN)/python bench/large_loop.py --sizes 1e6,5e6,1e7

clean-data:  ## forget the demo's instance, landing folder and results
	rm -rf "$(DATAOPS_HOME)"

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.created
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.created
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-lint: pyproject.toml $(VENV)/.created
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	touch $@ $(VENV)/.installed $(VENV)/.installed-test

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.created
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@ $(VENV)/.installed $(VENV)/.installed-test
