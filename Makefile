# CNNs from the Ground Up. `make book` and `make test` each set up everything they need.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Kernels started by the book build, nbval and JupyterLab must be this venv's Python.
export PATH := $(abspath $(VENV))/bin:$(PATH)
# Offline machines: MNIST_NPZ=path/to/mnist.npz make book (CI sets it from ../shared).

.PHONY: help install book test lab outputs benchmark clean browser-test

help:
	@echo "make book       build the HTML book into _build/html (fails on any notebook error or warning)"
	@echo "make test       unit, property and notebook (nbval) tests"
	@echo "make lab        JupyterLab on the chapters"
	@echo "make outputs    re-execute every chapter and store its outputs (run before committing a chapter)"
	@echo "make benchmark  conv2d against tf.nn.conv2d"
	@echo "make clean      remove the build, caches and the virtual environment"
	@echo "make browser-test  check the built book in Debian's Chromium: every page, images, maths, links, search, axe (after make book)"

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e ".[book,test,lab]"
	touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . --warningiserror --keep-going
	$(PYTHON) tools/check_built_html.py _build/html

test: $(STAMP)
	$(PYTHON) -m pytest

lab: $(STAMP)
	$(VENV)/bin/jupyter lab chapters/

outputs: $(STAMP)
	$(PYTHON) tools/execute_notebooks.py $(NOTEBOOKS)

benchmark: $(STAMP)
	$(PYTHON) benchmarks/conv2d_vs_tensorflow.py

clean:
	rm -rf _build .pytest_cache .hypothesis $(VENV)
	find . -name __pycache__ -prune -exec rm -rf {} +

# Real-browser test of the built book (tests/browser/README.md). It needs Debian's
# Chromium and Node.js 20+ with npm on the machine; playwright-core and axe-core come
# from package-lock.json. BROWSER_HTML=other/_build/html checks another build.
BROWSER_HTML ?= _build/html
CHROMIUM ?= /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo )

browser-test:
	@test -f $(BROWSER_HTML)/index.html || { echo "browser-test: $(BROWSER_HTML)/index.html not found: run \`make book\` first"; exit 1; }
	@test -x $(CHROMIUM) || { echo "browser-test: $(CHROMIUM) not found: install Debian's Chromium with"; echo "    $(SUDO)apt-get update && $(SUDO)apt-get install -y chromium"; exit 1; }
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "browser-test: node and npm not found: install Node.js 20 or later with npm"; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { echo "browser-test: Node.js 20 or later needed, found $$(node --version)"; exit 1; }
	@if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ]; then \
		echo "npm ci (node_modules missing or older than package-lock.json)"; npm ci --no-audit --no-fund; fi
	CHROMIUM_PATH=$(CHROMIUM) node tests/browser/check_site.mjs $(BROWSER_HTML)
