# Two commands on a fresh machine with Python 3.10+ and make:
#   make run   - create .venv, install, validate the specs, run the California housing pipeline locally
#   make test  - create .venv, install with test extras, lint (ruff), run the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export SAGEMAKER_SUPPRESS_V2_WARNING = 1

.PHONY: run test lint bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "sagespec needs Python 3.10+, found " + sys.version.split()[0] + " (set PYTHON=python3.x)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files make the second run quick: pip runs again only when pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[local]'
	@touch $@

$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[local,test]'
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/sagespec validate pipelines/
	$(BIN)/sagespec run pipelines/california_housing.yaml

LINTED := framework tests bench training_code xgboost_code sklearn_code

lint: $(VENV)/.installed-test
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: $(VENV)/.installed-test
	$(BIN)/python bench/validate.py
	$(BIN)/python bench/compile.py
	$(BIN)/python bench/registry.py

clean:
	@if [ -x $(BIN)/sagespec ]; then $(BIN)/sagespec endpoints stop-servers; fi
	rm -rf $(VENV) .sagespec .pytest_cache .hypothesis
