"""Shared test set-up: TensorFlow imported quietly once, Hypothesis profiles, MNIST path, exercise verdicts."""

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


class CheckRunner:
    """Runs an exercise check and captures the verdict it prints (the ``run_check`` fixture).

    ``run_check(check, *arguments)`` returns ``(passed, text)``: what the
    check returned and what it printed. The methods assert the common
    verdicts of an answer check.
    """

    def __init__(self, capsys):
        self._capsys = capsys

    def __call__(self, check, *arguments, **options):
        self._capsys.readouterr()  # what was printed before is not part of this verdict
        passed = check(*arguments, **options)
        return passed, self._capsys.readouterr().out

    def right(self, check, *arguments, **options):
        """Assert that the check passes, with its one-line "right" verdict."""
        passed, text = self(check, *arguments, **options)
        assert passed is True, text
        assert text == f"{check.__name__}: right. Well done!\n", text

    def named(self, check, answer, words, *data):
        """Assert that ``answer`` fails as a known mistake whose explanation holds ``words``; return the verdict."""
        passed, text = self(check, answer, *data)
        assert passed is False, text
        assert "This looks like a known mistake" in text and words in text, text
        return text

    def no_answer(self, check, *data):
        """Assert that the answer None fails with the verdict that says what to give."""
        passed, text = self(check, None, *data)
        assert passed is False, text
        assert text.startswith(f"{check.__name__}: no answer yet. Replace None with "), text


@pytest.fixture
def run_check(capsys):
    """A :class:`CheckRunner`: call an exercise check, get ``(passed, printed verdict)``."""
    return CheckRunner(capsys)
