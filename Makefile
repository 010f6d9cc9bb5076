# Two commands on a fresh machine with Python 3.10+ and make:
#   make run   - create .venv, install, validate the specs, run the California housing pipeline locally
#   make test  - create .venv (test and docs extras) and .venv-v3 (SageMaker Python SDK v3), then at
#                once: lint (ruff, mypy --strict) and the strict docs build, the whole suite (the docs'
#                examples included), the v3 backend's tests in .venv-v3, every bench's smoke mode
#   make test-fast - the inner loop, under a minute: the suite in .venv without lint, the slow
#                end-to-end tests (marked `slow`), tests/aws and the framework compiles
#   make test-extras - the tests of what `make test` does not install: the local-torch,
#                local-huggingface and local-spark extras and Graphviz (see the target)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
VENV3  ?= .venv-v3
BIN3   := $(VENV3)/bin
export SAGEMAKER_SUPPRESS_V2_WARNING = 1
# The suite starts hundreds of interpreters (the CLI as a user runs it, each local step): they must
# find bytecode. A machine that sets PYTHONDONTWRITEBYTECODE (this one's environment does) would compile
# TensorFlow and the SDK from source in every one of them (.venv-v3 installs with --no-compile),
# 7 s of CPU per TensorFlow import: bytecode is written on first import instead.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test checks test-fast test-extras graphviz lint docs docs-update bench bench-smoke clean suite v3 v3-env v3-suite

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "sagespec needs Python 3.10+, found " + sys.version.split()[0] + " (set PYTHON=python3.x)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files make the second run quick: pip runs again only when pyproject.toml changes.
$(VENV)/.installed-run: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[local]'
	@touch $@

# --no-compile: bytecode is written as modules are first imported (a fraction of the 16,000 files
# installed), not all at install: 85 s of CPU becomes 27 s on a fresh clone.
$(VENV)/.installed-test: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-compile -c constraints.txt -e '.[local,test,docs]'
	@touch $@ $(VENV)/.installed-run

# The SDK v3 environment: the same project, with sagemaker 3.x where .venv has 2.x (one
# environment holds one SDK major: both install as the distribution `sagemaker`).
$(BIN3)/python:
	$(PYTHON) -m venv $(VENV3)
	$(BIN3)/python -m pip install --quiet --upgrade pip

# Only what the v3 suite needs (the local extra for the end-to-end run, pytest); --no-compile:
# bytecode is written as modules are first imported, a third of the install time saved.
$(VENV3)/.installed-test: pyproject.toml constraints-v3.txt | $(BIN3)/python
	$(BIN3)/python -m pip install --quiet --no-compile -c constraints-v3.txt -e '.[local]' 'sagemaker>=3,<4' 'pytest>=8,<9.2' 'pytest-xdist>=3.5'
	@touch $@

run: $(VENV)/.installed-run
	$(BIN)/sagespec validate pipelines/
	$(BIN)/sagespec run pipelines/california_housing.yaml

LINTED := framework tests bench docs/_gen training_code xgboost_code sklearn_code

lint: $(VENV)/.installed-test
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

# The v3 suite: the v3 backend's own tests (among them a local run of the California spec through
# the v3 driver, registered and served), those that hold for either SDK's definitions, and the
# local run of the quality checks (baselines, drift, registration). The main suite's local runs
# (cache, false branch, a failed step and its retry) are the executor's, the same under either SDK:
# they run once, there.
V3_TESTS := tests/sdk_v3 tests/compiler/test_sdk_equivalence.py tests/compiler/test_sdk_choice.py tests/compiler/test_service_model.py \
	tests/compiler/test_quality.py tests/compiler/test_clarify.py tests/compiler/test_sdk_twins.py tests/executor/test_quality_local.py \
	tests/compiler/test_settings.py::test_volume_sizes_run_times_and_content_types_take_parameters_as_the_sdk_takes_pipeline_variables

# Both suites print their 25 slowest tests; no .pytest_cache is written (a fresh clone has none).
PYTEST := -p no:cacheprovider --durations=25

# The documentation site, built strictly (a warning, a broken link or anchor fails) into build/site.
# Its generated parts are checked by the suite (tests/test_docs.py); docs-update writes them anew.
# (NO_MKDOCS_2_WARNING: Material 9.8 prints a notice of its end of life, May 2027, on every build.)
docs: $(VENV)/.installed-test
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --quiet

docs-update: $(VENV)/.installed-test
	$(BIN)/python docs/_gen/cogdocs.py

# Everything at once, each part's output shown whole when it ends (--output-sync): the checks (lint,
# docs), the main suite, the v3 environment's install then its suite, and the bench smoke. Run one
# after another they leave a core idle (mypy and pip are single-threaded, each suite's last long
# tests run alone); together the two cores stay busy until the end.
test: $(VENV)/.installed-test
	@$(MAKE) --no-print-directory -j4 --output-sync=target BENCH_JOBS=1 checks suite v3 bench-smoke

checks: lint docs

suite: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST) -m 'not v3env'

# After the v3 suite, the docs pages that run commands in .venv-v3 (how-to/sdk-versions.md).
v3: v3-env
	@$(MAKE) --no-print-directory v3-suite
	$(BIN)/python -m pytest -p no:cacheprovider -q -m v3env tests/test_docs.py

v3-suite:
	$(BIN3)/python -m pytest -n 2 --dist loadgroup $(PYTEST) $(V3_TESTS)

v3-env:
	@$(MAKE) --no-print-directory $(VENV3)/.installed-test > $(VENV3).log 2>&1 || { cat $(VENV3).log; exit 1; }

# The inner loop, under a minute: .venv only, no lint, and it leaves out the tests marked `slow`
# (local runs of whole pipelines, the training scripts, endpoints serving a model, the promotion
# stories, linting whole templates), the AWS backends played on moto (tests/aws, and `accounts
# apply` on moto in tests/crossaccount/test_apply.py) and the compile of every framework's steps
# through the SDK (tests/compiler/test_frameworks.py, 28 s of CPU). make test runs all of them.
FAST_LEAVES_OUT := --ignore=tests/aws --ignore=tests/crossaccount/test_apply.py --ignore=tests/compiler/test_frameworks.py
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 --dist loadgroup -p no:cacheprovider -q -m 'not slow' $(FAST_LEAVES_OUT)

# What `make test` installs neither of: the local-torch, local-huggingface and local-spark extras
# (the local PyTorch, Hugging Face and PySpark paths) and Graphviz (`sagespec graph --format svg`).
# Their six tests skip in .venv; here they run in .venv-extras, which has all three extras. They do
# not fit in make test's time (measured on this 2-core machine: installing torch takes 40-80 s,
# pyspark 40-110 s, transformers 15-30 s, and the Spark and Hugging Face runs 10-20 s each), so
# make test does not run this target: run it before touching those paths (or in a CI job of its own).
# TORCH: the CPU build (pip's default torch on Linux is the CUDA build, several GB). This machine
# keeps torch 2.13.0's CPU wheel on disk; elsewhere set TORCH_INDEX=https://download.pytorch.org/whl/cpu.
VENVX  ?= .venv-extras
BINX   := $(VENVX)/bin
TORCH  ?= torch==2.13.0
TORCH_INDEX ?=
# (tests/promotion last: its modules import names from their folder's conftest.py, which is the
# module `conftest` only when that folder's conftest is the last one loaded)
EXTRAS_TESTS := \
	tests/compiler/test_graph_diff_errors.py::test_svg_when_graphviz_is_installed \
	tests/executor/test_frameworks_local.py::test_a_tiny_pytorch_model_trains_locally_with_the_local_torch_extra \
	tests/executor/test_frameworks_local.py::test_a_tiny_hugging_face_model_trains_locally_with_the_local_huggingface_extra \
	tests/executor/test_frameworks_local.py::test_a_pyspark_processor_runs_locally_with_the_local_spark_extra \
	tests/promotion/test_inference_toolkit.py::test_pytorch_defaults_serve_a_torchscript_model_pt_with_no_script \
	tests/promotion/test_local_endpoints.py::test_a_pytorch_model_is_served_by_the_toolkits_default_handlers_and_passes_qa

$(BINX)/python:
	$(PYTHON) -m venv $(VENVX)
	$(BINX)/python -m pip install --quiet --upgrade pip

$(VENVX)/.installed-test: pyproject.toml constraints.txt | $(BINX)/python
	$(BINX)/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) '$(TORCH)'
	$(BINX)/python -m pip install --quiet -c constraints.txt -e '.[local,test,local-torch,local-huggingface,local-spark]' '$(TORCH)'
	@touch $@

# Graphviz's `dot`: installed from Debian's packages where this runs as root with apt-get (CI);
# elsewhere it must be on PATH already (apt-get install graphviz, brew install graphviz).
graphviz:
	@command -v dot >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends graphviz >/dev/null; }; } || \
		{ echo "graphviz: no dot on PATH and cannot install it here: install Graphviz"; exit 1; }

# None of the six may skip here: a skip (an extra that did not install) fails the target.
test-extras: $(VENVX)/.installed-test graphviz
	@$(BINX)/python -m pytest -n 2 -p no:cacheprovider -rs --durations=10 $(EXTRAS_TESTS) > $(VENVX).log 2>&1; status=$$?; \
		cat $(VENVX).log; [ $$status = 0 ] && ! grep -q '^SKIPPED' $(VENVX).log

# The benches whose tables the docs show (docs/explanation/performance.md): each one's output is
# kept in bench/results/NAME.txt, with the machine it ran on, and committed with the change it
# measures. Run them on a quiet machine: they time whole processes.
BENCHES_RECORDED := validate compile registry local_face
bench: $(VENV)/.installed-test
	@mkdir -p bench/results
	@set -e; for name in $(BENCHES_RECORDED); do \
		echo "$(BIN)/python bench/$$name.py"; \
		{ echo "# $$(date -u +%Y-%m-%d), $$(nproc) cores, $$($(BIN)/python -c 'import platform; print(platform.python_implementation(), platform.python_version())')"; \
		  $(BIN)/python bench/$$name.py; } > bench/results/$$name.txt.part; \
		mv bench/results/$$name.txt.part bench/results/$$name.txt; cat bench/results/$$name.txt; \
	done

# Every bench script's smoke mode: the same code path on the smallest data and repeats, failing
# when the path is broken (its numbers mean nothing). The longest first, BENCH_JOBS at a time; one
# line each, a failure's tail shown, full logs in bench/.out/.
BENCHES := local_tuning local_run model_quality endpoint compile local_face validate registry
BENCH_JOBS ?= 2

bench-smoke: $(VENV)/.installed-test
	$(BIN)/python bench/_smoke.py --jobs $(BENCH_JOBS) $(BENCHES)

clean:
	@if [ -x $(BIN)/sagespec ]; then $(BIN)/sagespec endpoints stop-servers; fi
	rm -rf $(VENV) $(VENV3) $(VENVX) .sagespec .pytest_cache .hypothesis build
