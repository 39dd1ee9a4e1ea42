# CNNs from the Ground Up. `make book` and `make test` each set up everything they need.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# Kernels started by the book build, nbval and JupyterLab must be this venv's Python.
export PATH := $(abspath $(VENV))/bin:$(PATH)
# Offline machines: MNIST_NPZ=path/to/mnist.npz make book (CI sets it from ../shared).

.PHONY: help install book test lab outputs benchmark clean

help:
	@echo "make book       build the HTML book into _build/html (fails on any notebook error or warning)"
	@echo "make test       unit, property and notebook (nbval) tests"
	@echo "make lab        JupyterLab on the chapters"
	@echo "make outputs    re-execute every chapter and store its outputs (run before committing a chapter)"
	@echo "make benchmark  conv2d against tf.nn.conv2d"
	@echo "make clean      remove the build, caches and the virtual environment"

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e ".[book,test,lab]"
	touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . --warningiserror --keep-going

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
