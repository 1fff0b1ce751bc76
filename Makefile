# What a newcomer types. Every target does its own set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATAOPS_HOME ?= $(HOME)/.local/share/cybernetic-dataops
DAGSTER_HOME ?= $(DATAOPS_HOME)/dagster_home
export DATAOPS_HOME DAGSTER_HOME

.PHONY: demo test ui lint bench clean-data

demo: $(VENV)/.installed  ## land the sample orders and run the closed loop
	$(BIN)/dataops demo

test: $(VENV)/.installed-test  ## run every test and doctest
	$(BIN)/python -m pytest

ui: $(VENV)/.installed  ## the Dagster UI on 127.0.0.1:3000, over the demo's instance and data
	$(BIN)/dataops init
	$(BIN)/dagster-webserver -w workspace.yaml -h 127.0.0.1 -p 3000

lint: $(VENV)/.installed-lint  ## ruff and mypy
	$(BIN)/ruff check driftguard schemasense datareflex suite tests
	$(BIN)/mypy driftguard schemasense datareflex

bench: $(VENV)/.installed-bench  ## the benchmarks in bench/ (they print ratios against the peers)
	$(BIN)/python bench/schemasense_quality.py
	$(BIN)/python bench/schemasense_speed.py
	$(BIN)/python bench/driftguard_quality.py
	$(BIN)/python bench/driftguard_speed.py

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
