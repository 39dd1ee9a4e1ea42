"""load_mnist: the file argument, MNIST_NPZ, Keras's download, and clear errors for bad files."""

import hashlib

import numpy as np
import pytest

from cnn_course import data

# Checks from ../shared/data/README.md, which describes the verified copy.
FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
FIRST_TEST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
X_TEST_SHA256 = "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"


def small_mnist(path, **changes):
    """Write a tiny MNIST-shaped .npz (5 train, 3 test images) with optional bad arrays."""
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "y_train": np.array([0, 1, 2, 3, 9], dtype=np.uint8),
        "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_test": np.array([4, 5, 6], dtype=np.uint8),
    }
    arrays.update(changes)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return arrays


def test_real_file_matches_keras_layout(mnist_path):
    (x_train, y_train), (x_test, y_test) = data.load_mnist(mnist_path)
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert y_train[:10].tolist() == FIRST_TRAIN_LABELS and y_test[:10].tolist() == FIRST_TEST_LABELS
    assert hashlib.sha256(np.ascontiguousarray(x_test).tobytes()).hexdigest() == X_TEST_SHA256


def test_path_argument_wins_over_environment(tmp_path, monkeypatch):
    wanted = small_mnist(tmp_path / "wanted.npz")
    small_mnist(tmp_path / "other.npz", y_test=np.array([7, 7, 7], dtype=np.uint8))
    monkeypatch.setenv("MNIST_NPZ", str(tmp_path / "other.npz"))
    (_, _), (_, y_test) = data.load_mnist(tmp_path / "wanted.npz")
    np.testing.assert_array_equal(y_test, wanted["y_test"])


def test_environment_variable_is_used(tmp_path, monkeypatch):
    arrays = small_mnist(tmp_path / "env.npz")
    monkeypatch.setenv("MNIST_NPZ", str(tmp_path / "env.npz"))
    (x_train, _), _ = data.load_mnist()
    np.testing.assert_array_equal(x_train, arrays["x_train"])


def test_keras_download_is_used_without_a_file(keras, monkeypatch):
    monkeypatch.delenv("MNIST_NPZ", raising=False)
    sentinel = (("x", "y"), ("xt", "yt"))
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: sentinel)
    assert data.load_mnist() is sentinel


def test_offline_machine_is_told_how_to_pass_a_file(keras, monkeypatch):
    monkeypatch.delenv("MNIST_NPZ", raising=False)

    def offline():
        raise Exception("URL fetch failure on https://example.invalid/mnist.npz: None -- [Errno -3]")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(ConnectionError, match=r"load_mnist\(path=.*MNIST_NPZ"):
        data.load_mnist()


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.npz"):
        data.load_mnist(tmp_path / "nowhere.npz")


def test_empty_file(tmp_path):
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty\.npz.*is empty"):
        data.load_mnist(tmp_path / "empty.npz")


def test_corrupt_file(tmp_path):
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with pytest.raises(ValueError, match=r"corrupt\.npz.*not a readable \.npz"):
        data.load_mnist(tmp_path / "corrupt.npz")


def test_truncated_file(tmp_path, mnist_path):
    with open(mnist_path, "rb") as source:
        (tmp_path / "truncated.npz").write_bytes(source.read(100_000))
    with pytest.raises(ValueError, match="truncated.npz"):
        data.load_mnist(tmp_path / "truncated.npz")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"y_test": None}, r"lacks the arrays \['y_test'\]"),
        ({"x_train": np.zeros((5, 28, 27), np.uint8)}, r"x_train must have shape \(N, 28, 28\), got \(5, 28, 27\)"),
        ({"y_train": np.zeros(4, np.uint8)}, r"y_train must have shape \(5,\) to match x_train, got \(4,\)"),
        ({"x_test": np.zeros((3, 28, 28), np.float32)}, "x_test must have dtype uint8, got float32"),
        ({"y_test": np.array([1, 2, 10], np.uint8)}, "y_test must hold digits 0-9, found 10"),
    ],
)
def test_wrong_arrays(tmp_path, changes, message):
    small_mnist(tmp_path / "bad.npz", **changes)
    with pytest.raises(ValueError, match=message):
        data.load_mnist(tmp_path / "bad.npz")
