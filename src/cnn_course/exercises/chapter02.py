"""The exercise checks of the chapter "Convolution": correlate2d."""

import numpy as np

from cnn_course import convolution
from cnn_course.exercises import verdict

__all__ = [
    "check_correlate2d",
]


def _correlate_cases():
    rng = np.random.default_rng(2)
    return [
        {"image": np.arange(9.0).reshape(3, 3), "kernel": np.array([[1.0, 2.0], [0.0, -1.0]])},
        {"image": rng.integers(0, 5, size=(5, 5)).astype(float), "kernel": np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 1.0]])},
        {"image": rng.integers(0, 5, size=(4, 6)).astype(float), "kernel": rng.integers(-2, 3, size=(2, 3)).astype(float)},
        {"image": rng.integers(0, 5, size=(6, 5)).astype(float), "kernel": rng.integers(-2, 3, size=(3, 1)).astype(float)},
    ]


def check_correlate2d(function):
    """Check ``function(image, kernel) -> ndarray``: the "valid" cross-correlation of chapter 2.

    ``out[i, j] = sum over (u, v) of image[i + u, j + v] * kernel[u, v]``, of
    shape (H - kh + 1, W - kw + 1). Introduced in the chapter "Convolution".
    Recognises a flipped kernel (true convolution), a transposed kernel, zero
    padding ("same" size) and an output one row and column too small.

    Returns
    -------
    bool
    """

    def same_size(image, kernel):
        kh, kw = kernel.shape
        top, left = (kh - 1) // 2, (kw - 1) // 2
        padded = np.pad(image, ((top, kh - 1 - top), (left, kw - 1 - left)))
        return convolution.correlate2d(padded, kernel)

    mistakes = [
        ("the kernel is flipped: that is the mathematical convolution. Deep-learning 'convolution' is "
         "cross-correlation: image[i + u, j + v] * kernel[u, v], no flip.",
         lambda image, kernel: convolution.correlate2d(image, kernel[::-1, ::-1])),
        ("the kernel is transposed: kernel[u, v] goes with image[i + u, j + v] (row offset u, column offset v).",
         lambda image, kernel: convolution.correlate2d(image, kernel.T)),
        ("the output has the size of the image: that is 'same' padding. 'valid' takes only the windows that fit "
         "inside the image: (H - kh + 1) x (W - kw + 1).", same_size),
        ("one row and one column are missing: there are H - kh + 1 window positions, range(H - kh + 1).",
         lambda image, kernel: convolution.correlate2d(image, kernel)[:-1, :-1]),
    ]
    return verdict.check_function("check_correlate2d", function, _correlate_cases(), convolution.correlate2d, mistakes)
