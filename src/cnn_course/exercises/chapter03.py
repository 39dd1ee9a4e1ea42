"""The exercise checks of the chapter "Padding and stride": the output size and zero padding."""

import numpy as np

from cnn_course import convolution
from cnn_course.exercises import verdict

__all__ = [
    "check_conv_output_size",
    "check_pad2d",
]


# --- chapter 3: output size and padding ---------------------------------------------------------

_SIZE_CASES = [
    {"size": 5, "kernel_size": 3, "stride": 1, "padding": 0},
    {"size": 5, "kernel_size": 3, "stride": 1, "padding": 1},
    {"size": 7, "kernel_size": 3, "stride": 2, "padding": 0},
    {"size": 6, "kernel_size": 3, "stride": 2, "padding": 0},
    {"size": 7, "kernel_size": 3, "stride": 2, "padding": 1},
    {"size": 28, "kernel_size": 5, "stride": 2, "padding": 2},
    {"size": 32, "kernel_size": 4, "stride": 3, "padding": 1},
    {"size": 10, "kernel_size": 10, "stride": 4, "padding": 0},
]


def _output_size(size, kernel_size, stride, padding):
    return convolution.conv_output_size(size, kernel_size, stride, padding)


def check_conv_output_size(function):
    """Check ``function(size, kernel_size, stride, padding) -> int``: ``floor((n + 2p - k) / s) + 1``.

    Introduced in the chapter "Padding and stride". Recognises a missing
    ``+ 1``, padding ignored or counted on one side only, true division and
    rounding up.

    Returns
    -------
    bool
        True if every case passes.
    """

    def not_an_int(case, received):
        if isinstance(received, (bool, np.bool_)) or not isinstance(received, (int, np.integer)):
            if isinstance(received, (float, np.floating)) and float(received) == _output_size(**case):
                return ("the value is right but it is a float: an output size is a whole number; use floor "
                        "division, //, so that the result is an int.")
            return None
        return None

    mistakes = [
        ("the `+ 1` is missing: the first window counts too, so a kernel as wide as the input still gives one "
         "output, (n + 2p - k) // s + 1.", lambda size, kernel_size, stride, padding: (size + 2 * padding - kernel_size) // stride),
        ("the padding is ignored: padding p adds p cells on *both* sides, so the input is n + 2p wide.",
         lambda size, kernel_size, stride, padding: (size - kernel_size) // stride + 1),
        ("the padding is counted once: it goes on both sides, n + 2p.",
         lambda size, kernel_size, stride, padding: (size + padding - kernel_size) // stride + 1),
        ("the division is rounded up: a window that would stick out past the border is not taken, so it is floor "
         "division, //.", lambda size, kernel_size, stride, padding: -(-(size + 2 * padding - kernel_size) // stride) + 1),
        ("the `+ 1` is inside the division: it counts the first window, after dividing the remaining distance by the "
         "stride: (n + 2p - k) // s + 1.", lambda size, kernel_size, stride, padding: (size + 2 * padding - kernel_size + 1) // stride),
        ("true division, /, gives a fraction where a window does not fit: use //.",
         lambda size, kernel_size, stride, padding: (size + 2 * padding - kernel_size) / stride + 1),
    ]
    return verdict.check_function("check_conv_output_size", function, _SIZE_CASES, _output_size, mistakes, extra_check=not_an_int)


def _pad_cases():
    rng = np.random.default_rng(3)
    return [
        {"x": rng.integers(1, 10, size=(1, 2, 2, 1)).astype(float), "padding": 1},
        {"x": rng.integers(1, 10, size=(1, 3, 2, 2)).astype(float), "padding": 1},
        {"x": rng.integers(1, 10, size=(2, 3, 4, 3)).astype(float), "padding": 2},
        {"x": rng.integers(1, 10, size=(2, 2, 2, 1)).astype(float), "padding": 0},
    ]


def check_pad2d(function):
    """Check ``function(x, padding) -> ndarray``: ``padding`` zeros around the height and width of ``x``.

    ``x`` has shape (N, H, W, C) and ``padding`` is an int; the result has
    shape (N, H + 2p, W + 2p, C). Introduced in the chapter "Padding and
    stride". Recognises padding on the batch or channel axes, on one side
    only, and padding with something other than zeros.

    Returns
    -------
    bool
    """
    mistakes = [
        ("every axis is padded, the batch and the channels too: only height and width get zeros, "
         "np.pad(x, ((0, 0), (p, p), (p, p), (0, 0))).", lambda x, padding: np.pad(x, padding)),
        ("the width and the channels are padded instead of the height and the width: that is the layout of a "
         "channels-first (N, C, H, W) array; the course's arrays are (N, H, W, C).",
         lambda x, padding: np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))),
        ("the batch and the height are padded: the spatial axes of (N, H, W, C) are 1 and 2.",
         lambda x, padding: np.pad(x, ((padding, padding), (padding, padding), (0, 0), (0, 0)))),
        ("the zeros go on one side only: padding p puts p zeros before *and* p after each spatial axis.",
         lambda x, padding: np.pad(x, ((0, 0), (0, 2 * padding), (0, 2 * padding), (0, 0)))),
    ]

    def border(case, received):
        expected = convolution.pad2d(case["x"], case["padding"])
        received = np.asarray(received, dtype=float)
        p = case["padding"]
        inside = (slice(None), slice(p, received.shape[1] - p), slice(p, received.shape[2] - p), slice(None))
        if received.shape == expected.shape and np.array_equal(received[inside], case["x"]) and not np.array_equal(received, expected):
            return "the image is in the right place but the border is not zero: zero padding writes 0 in the border."
        return None

    return verdict.check_function("check_pad2d", function, _pad_cases(), lambda x, padding: convolution.pad2d(x, padding), mistakes,
                    extra_check=border)
