# Retention Workbench. Every target creates .venv and installs the pinned set when needed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
WORKERS ?= 2
# One BLAS thread per process: runs and tests already use one process per core, and threaded BLAS
# on small matrices is slower than single-threaded when processes compete for the cores.
export OPENBLAS_NUM_THREADS ?= 1
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: reports test lab lint format bench screenshots clean-reports help

help:
	@echo "make reports   run every notebook on the built-in data -> reports/index.html"
	@echo "make test      run the whole test suite"
	@echo "make lab       JupyterLab on notebooks/ with the project's kernel"
	@echo "make lint      ruff check + format check"
	@echo "make bench     benchmarks against the peers -> benchmarks/results.{json,md}"
	@echo "make screenshots  the top of every default report at 1280 px -> docs/screenshots/"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,bench]"
	$(BIN)/python -m ipykernel install --sys-prefix --name workbench --display-name "Python (workbench)" > /dev/null
	touch $(STAMP)

# the batch writes reports/index.html itself (`workbench reports` only rebuilds it)
reports: $(STAMP)
	$(BIN)/workbench batch batches/default.yml --workers $(WORKERS)

test: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root,)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# The default batch into a scratch folder (not reports/), then a PNG of the top of each report as a
# manager sees it at 1280 px (headless /usr/bin/chromium through Playwright).
SHOTS_OUT ?= $(or $(TMPDIR),/tmp)/workbench-screenshots
screenshots: $(STAMP)
	rm -rf $(SHOTS_OUT)
	$(BIN)/workbench batch batches/default.yml --workers $(WORKERS) --out $(SHOTS_OUT) --quiet
	$(BIN)/python tests/browser/screenshots.py $(SHOTS_OUT) docs/screenshots

clean-reports:
	rm -rf reports/*/ reports/index.html
