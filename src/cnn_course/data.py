"""Loading MNIST: from a file you name, or through Keras's own download.

Introduced in the chapter "Images as arrays".
"""

import os
import zipfile

import numpy as np

__all__ = ["load_mnist", "MNIST_ENV_VAR"]

MNIST_ENV_VAR = "MNIST_NPZ"

_EXPECTED = {
    "x_train": ((28, 28), "images"),
    "y_train": ((), "labels"),
    "x_test": ((28, 28), "images"),
    "y_test": ((), "labels"),
}


def _read_npz(path):
    """Read and check an MNIST ``.npz`` in Keras's layout; errors name the file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"MNIST file not found: {path!r} (expected Keras's mnist.npz)")
    if os.path.getsize(path) == 0:
        raise ValueError(f"MNIST file {path!r} is empty (expected Keras's mnist.npz)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = sorted(set(_EXPECTED) - set(archive.files))
            if missing:
                raise ValueError(
                    f"MNIST file {path!r} lacks the arrays {missing}; it needs x_train, y_train, x_test, y_test"
                )
            arrays = {key: archive[key] for key in _EXPECTED}
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"MNIST file {path!r} is not a readable .npz archive ({error})") from error
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"MNIST file {path!r}: x_{split} must have shape (N, 28, 28), got {images.shape}")
        if labels.shape != (images.shape[0],):
            raise ValueError(
                f"MNIST file {path!r}: y_{split} must have shape ({images.shape[0]},) to match x_{split}, "
                f"got {labels.shape}"
            )
        for key in (f"x_{split}", f"y_{split}"):
            if arrays[key].dtype != np.uint8:
                raise ValueError(f"MNIST file {path!r}: {key} must have dtype uint8, got {arrays[key].dtype}")
        if labels.size and labels.max() > 9:
            raise ValueError(f"MNIST file {path!r}: y_{split} must hold digits 0-9, found {labels.max()}")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_mnist(path=None):
    """Return MNIST exactly as ``keras.datasets.mnist.load_data()`` does.

    Where the data comes from, in order: the ``path`` argument; the
    environment variable ``MNIST_NPZ``; otherwise Keras's own download (which
    Keras caches in ``~/.keras/datasets``). Use a file on an offline machine.

    Parameters
    ----------
    path : str or os.PathLike, optional
        A ``.npz`` file in Keras's layout (arrays ``x_train``, ``y_train``,
        ``x_test``, ``y_test``).

    Returns
    -------
    tuple
        ``((x_train, y_train), (x_test, y_test))``: ``x_train`` uint8 of shape
        (60000, 28, 28), ``y_train`` uint8 of shape (60000,), ``x_test`` uint8
        of shape (10000, 28, 28), ``y_test`` uint8 of shape (10000,).

    Raises
    ------
    FileNotFoundError
        If the named file does not exist.
    ValueError
        If the file is empty, corrupt, or holds arrays of the wrong keys, shapes or dtypes.
    ConnectionError
        If no file is named and Keras cannot download MNIST (offline machine).
    """
    if path is None:
        path = os.environ.get(MNIST_ENV_VAR) or None
    if path is not None:
        return _read_npz(path)
    from cnn_course import quiet_tensorflow

    _, keras = quiet_tensorflow.import_tensorflow()
    try:
        return keras.datasets.mnist.load_data()
    except Exception as error:  # Keras raises several kinds for a failed download
        raise ConnectionError(
            "could not download MNIST through keras.datasets.mnist.load_data() "
            f"({type(error).__name__}: {error}). On an offline machine, pass a copy of "
            "Keras's mnist.npz: load_mnist(path='path/to/mnist.npz'), or set the environment "
            f"variable {MNIST_ENV_VAR}=path/to/mnist.npz"
        ) from error
