# CNNs from the Ground Up. `make book` and `make test` each set up everything they need.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Kernels started by the book build, nbval and JupyterLab must be this venv's Python.
export PATH := $(abspath $(VENV))/bin:$(PATH)
# Offline machines: MNIST_NPZ=path/to/mnist.npz make book (CI sets it from ../shared).
# Non-empty when make runs as root (containers, cloud shells, CI).
AS_ROOT := $(filter 0,$(shell id -u))

# The exact versions `make` installs (a pip constraints file), written by `make lock`.
LOCK := requirements/lock.txt

.PHONY: help install book test lab outputs benchmark clean browser-test lock test-latest

help:
	@echo "make book       build the HTML book into _build/html (fails on any notebook error or warning)"
	@echo "make test       unit, property and notebook (nbval) tests"
	@echo "make lab        JupyterLab on the chapters"
	@echo "make outputs    re-execute every chapter and store its outputs (run before committing a chapter)"
	@echo "make benchmark  conv2d against tf.nn.conv2d"
	@echo "make lock       re-resolve requirements/lock.txt and environment.yml (UPGRADE=1: newest releases)"
	@echo "make test-latest  make test with the newest releases instead of the lock, in .venv-latest (not in CI)"
	@echo "make clean      remove the build, caches and the virtual environments"
	@echo "make browser-test  check the built book in Debian's Chromium: every page, images, maths, links, search, axe (after make book)"

$(STAMP): pyproject.toml $(LOCK)
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -c $(LOCK) -e ".[book,test,lab]"
	touch $(STAMP)

install: $(STAMP)

# tools/build_book.py re-executes every chapter when src/, the lock file or the MNIST file has
# changed since the last successful build (jupyter-cache alone would keep the old outputs).
book: $(STAMP)
	$(PYTHON) tools/build_book.py
	$(PYTHON) tools/check_built_html.py _build/html

test: $(STAMP)
	$(PYTHON) -m pytest

# JupyterLab refuses to start as root (containers, cloud shells) without --allow-root.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(if $(AS_ROOT),--allow-root) chapters/

outputs: $(STAMP)
	$(PYTHON) tools/execute_notebooks.py $(NOTEBOOKS)

benchmark: $(STAMP)
	$(PYTHON) benchmarks/conv2d_vs_tensorflow.py

clean:
	rm -rf _build .pytest_cache .hypothesis $(VENV) $(LATEST_VENV) $(UV_VENV)
	find . -name __pycache__ -prune -exec rm -rf {} +

# The lock: one file for every Python and platform in pyproject.toml's [tool.uv]
# environments, by uv (from PyPI, in its own venv). Pins that still fit are kept; UPGRADE=1
# moves every package to its newest release. environment.yml gets the same pins for
# CONDA_PYTHON on Linux (Binder; CI's Python).
UV_VERSION := 0.13.9
UV_VENV := .venv-uv
COMPILE := $(UV_VENV)/bin/uv pip compile pyproject.toml --extra book --extra test --extra lab --no-python-downloads --quiet
CONDA_PYTHON := 3.11.7

$(UV_VENV)/.uv-$(UV_VERSION):
	python3 -m venv --clear $(UV_VENV)
	$(UV_VENV)/bin/python -m pip install --quiet uv==$(UV_VERSION)
	touch $@

lock: $(UV_VENV)/.uv-$(UV_VERSION)
	@mkdir -p $(dir $(LOCK))
	$(COMPILE) --universal --python-version 3.10 $(if $(UPGRADE),--upgrade) --custom-compile-command "make lock" -o $(LOCK)
	$(COMPILE) -c $(LOCK) --python-version $(CONDA_PYTHON) --python-platform x86_64-unknown-linux-gnu \
		--no-header --no-annotate -o $(UV_VENV)/conda-pins.txt
	{ echo "# The conda route (and what Binder builds from), written by make lock: the versions of"; \
	  echo "# $(LOCK) for Python $(CONDA_PYTHON) on Linux. tests/test_environment.py checks they agree."; \
	  printf '%s\n' "name: cnn-course" "channels:" "  - conda-forge" "dependencies:" "  - python=$(CONDA_PYTHON)" "  - pip" "  - pip:"; \
	  sed 's/^/      - /' $(UV_VENV)/conda-pins.txt; echo "      - -e ."; } > environment.yml
	rm $(UV_VENV)/conda-pins.txt

# Drift check, not part of CI: a second venv with the newest releases that pyproject.toml's
# ranges allow (no lock), which packages moved from the lock, then the same tests as make test.
LATEST_VENV := .venv-latest
define SHOW_DRIFT
import importlib.metadata
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
locked = {}
for line in open("$(LOCK)"):
    line = line.split("#")[0].strip()
    pin = Requirement(line) if line else None
    if pin and (pin.marker is None or pin.marker.evaluate()):
        locked[canonicalize_name(pin.name)] = next(iter(pin.specifier)).version
installed = {canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
names = sorted((locked.keys() | installed.keys()) - {"pip", "cnn-course"})
moved = [name for name in names if locked.get(name) != installed.get(name)]
for name in moved:
    print(f"  {name}: {locked.get(name, 'not in the lock')} -> {installed.get(name, 'not installed')}")
print(f"  {len(moved)} of {len(names)} packages differ")
endef
export SHOW_DRIFT

test-latest:
	python3 -m venv --clear $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e ".[book,test,lab]"
	@echo "Newest releases that differ from $(LOCK):"
	@$(LATEST_VENV)/bin/python -c "$$SHOW_DRIFT"
	PATH="$(abspath $(LATEST_VENV))/bin:$$PATH" $(LATEST_VENV)/bin/python -m pytest

# Real-browser test of the built book (tests/browser/README.md). It needs Debian's
# Chromium and Node.js 20+ with npm on the machine; playwright-core and axe-core come
# from package-lock.json. BROWSER_HTML=other/_build/html checks another build. The page
# "Draw a digit" is compared with NumPy on MNIST test digits (MNIST_NPZ offline).
BROWSER_HTML ?= _build/html
CHROMIUM ?= /usr/bin/chromium
SUDO := $(if $(AS_ROOT),,sudo )

browser-test: $(STAMP)
	@test -f $(BROWSER_HTML)/index.html || { echo "browser-test: $(BROWSER_HTML)/index.html not found: run \`make book\` first"; exit 1; }
	@test -x $(CHROMIUM) || { echo "browser-test: $(CHROMIUM) not found: install Debian's Chromium with"; echo "    $(SUDO)apt-get update && $(SUDO)apt-get install -y chromium"; exit 1; }
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "browser-test: node and npm not found: install Node.js 20 or later with npm"; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { echo "browser-test: Node.js 20 or later needed, found $$(node --version)"; exit 1; }
	@if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then \
		echo "npm ci (node_modules missing or older than package-lock.json)"; npm ci --no-audit --no-fund; fi
	$(PYTHON) tools/draw_parity_fixture.py $(BROWSER_HTML) $(BROWSER_HTML)/../browser/draw_parity.json
	CHROMIUM_PATH=$(CHROMIUM) node tests/browser/check_site.mjs $(BROWSER_HTML)
