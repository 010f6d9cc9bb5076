# Two commands on a fresh machine with Python 3.10+ and make:
#   make run   - create .venv, install, validate the specs, run the California housing pipeline locally
#   make test  - create .venv, install with test extras, lint (ruff, mypy --strict), run the whole suite; then
#                create .venv-v3 (SageMaker Python SDK v3) and run the v3 backend's tests there
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
VENV3  ?= .venv-v3
BIN3   := $(VENV3)/bin
export SAGEMAKER_SUPPRESS_V2_WARNING = 1

.PHONY: run test lint bench bench-smoke clean suite v3-env

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

# The SDK v3 environment: the same project, with sagemaker 3.x where .venv has 2.x (one
# environment holds one SDK major: both install as the distribution `sagemaker`).
$(BIN3)/python:
	$(PYTHON) -m venv $(VENV3)
	$(BIN3)/python -m pip install --quiet --upgrade pip

# Only what the v3 suite needs (the local extra for the end-to-end run, pytest); --no-compile:
# bytecode is written as modules are first imported, a third of the install time saved.
$(VENV3)/.installed-test: pyproject.toml constraints-v3.txt | $(BIN3)/python
	$(BIN3)/python -m pip install --quiet --no-compile -c constraints-v3.txt -e '.[local]' 'sagemaker>=3,<4' 'pytest>=8' 'pytest-xdist>=3.5'
	@touch $@

run: $(VENV)/.installed-run
	$(BIN)/sagespec validate pipelines/
	$(BIN)/sagespec run pipelines/california_housing.yaml

LINTED := framework tests bench training_code xgboost_code sklearn_code

lint: $(VENV)/.installed-test
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

# The v3 suite: the v3 backend's own tests, those that hold for either SDK's definitions, and the
# local runs of the California spec (cache, false branch, a failed step, retry after a code fix) and
# of the quality checks (baselines, drift, registration).
V3_TESTS := tests/sdk_v3 tests/compiler/test_sdk_equivalence.py tests/compiler/test_sdk_choice.py tests/compiler/test_service_model.py \
	tests/executor/test_local_run.py tests/compiler/test_quality.py tests/executor/test_quality_local.py

# The v3 environment installs while the main suite runs (pip waits on the disk and network as
# much as on the CPU); its log is shown only when the install fails.
test: lint
	@$(MAKE) --no-print-directory -j2 suite v3-env
	$(BIN3)/python -m pytest -n 2 -p no:cacheprovider $(V3_TESTS)

suite:
	$(BIN)/python -m pytest -n 2 --dist loadgroup

v3-env:
	@$(MAKE) --no-print-directory $(VENV3)/.installed-test > $(VENV3).log 2>&1 || { cat $(VENV3).log; exit 1; }

bench: $(VENV)/.installed-test
	$(BIN)/python bench/validate.py
	$(BIN)/python bench/compile.py
	$(BIN)/python bench/registry.py
	$(BIN)/python bench/local_face.py

# Every bench script's smoke mode: the same code path on the smallest data and repeats, failing
# when the path is broken (its numbers mean nothing). The longest first, BENCH_JOBS at a time; one
# line each, a failure's tail shown, full logs in bench/.out/.
BENCHES := local_tuning local_run model_quality endpoint compile local_face validate registry
BENCH_JOBS ?= 2

bench-smoke: $(VENV)/.installed-test
	$(BIN)/python bench/_smoke.py --jobs $(BENCH_JOBS) $(BENCHES)

clean:
	@if [ -x $(BIN)/sagespec ]; then $(BIN)/sagespec endpoints stop-servers; fi
	rm -rf $(VENV) $(VENV3) .sagespec .pytest_cache .hypothesis
