"""Shared test set-up: TensorFlow imported quietly once, Hypothesis profiles, MNIST path."""

import os
import pathlib

import hypothesis
import pytest

from cnn_course import quiet_tensorflow

ROOT = pathlib.Path(__file__).resolve().parent.parent

# TensorFlow calls are slow on their first run (graph tracing), so Hypothesis's
# per-example deadline would flake; the number of examples bounds the time instead.
hypothesis.settings.register_profile("default", deadline=None, max_examples=60, derandomize=True)
hypothesis.settings.register_profile("thorough", deadline=None, max_examples=400)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def tf():
    """The ``tensorflow`` module, imported without its start-up log lines."""
    tensorflow, _ = quiet_tensorflow.import_tensorflow()
    return tensorflow


@pytest.fixture(scope="session")
def keras():
    """The ``keras`` module, imported without TensorFlow's start-up log lines."""
    _, keras_module = quiet_tensorflow.import_tensorflow()
    return keras_module


@pytest.fixture(scope="session")
def mnist_path():
    """Path of a local MNIST file (``MNIST_NPZ``), or skip the test that needs it."""
    path = os.environ.get("MNIST_NPZ")
    if not path or not os.path.isfile(path):
        pytest.skip("needs MNIST_NPZ pointing at a copy of Keras's mnist.npz")
    return path
