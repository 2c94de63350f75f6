# Two entry points that work on a fresh clone: `make demo` (main job) and `make test`
# (what CI runs); `make test-fast` is the quick level for development and `make docs` builds
# the documentation site. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU build of PyTorch; installed first so the dependency range does not pull a CUDA build.
TORCH ?= torch==2.13.0

.PHONY: demo test test-fast lint install docs clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "skyclass needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "$(TORCH)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@

$(BIN)/.docs-installed: pyproject.toml $(BIN)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test,docs]"
	touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed
	$(BIN)/skyclass demo --out runs/demo

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/ruff format --check src tests benchmarks docs/conf.py docs/_ext docs/examples

test: lint
	$(BIN)/python -m pytest --doctest-modules src tests

# Everything but the tests marked slow (seconds each: full-size networks, kills, DDP, clusters)
# and those that read the shared survey data; the doctests included.
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest --doctest-modules -m "not slow and not realdata" src tests

# The site, its API pages and its gallery (every example run) in docs/_build/html; any
# warning fails the build. -E rereads every page so no warning hides in a cached one;
# examples whose script did not change are not run again.
docs: $(BIN)/.docs-installed
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(BIN)/sphinx-build -b html -E -W --keep-going -q docs docs/_build/html
	@echo "docs/_build/html/index.html"

clean:
	rm -rf $(VENV) runs/demo .pytest_cache docs/_build docs/api docs/auto_examples docs/sg_execution_times.rst
