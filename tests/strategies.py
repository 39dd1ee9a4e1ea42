"""Hypothesis strategies shared by the op tests: random batches and legal layer settings."""

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import strategies as st

from cnn_course import ops

FLOAT_DTYPES = st.sampled_from([np.float32, np.float64])

POOL_CASES = [
    # (height, width, pool_size, stride, padding): max pooling's gradient checks and its fast version.
    (6, 6, 2, None, "valid"),
    (7, 7, 2, None, "same"),
    (7, 7, 3, 2, "valid"),
    (7, 6, 3, 2, "same"),
    (6, 6, 3, 1, "same"),
    (5, 6, (2, 3), (1, 2), "valid"),
]

WINDOW_CASES = [
    # (height, width, window (kh, kw), stride, padding): convolution and im2col settings that
    # cover "valid", "same" (odd split included), explicit padding, strides and non-square windows.
    (6, 6, (3, 3), 1, "valid"),
    (6, 6, (3, 3), 1, "same"),
    (7, 7, (3, 3), 2, "valid"),
    (7, 6, (3, 3), 2, "same"),
    (6, 7, (2, 3), (2, 1), "same"),
    (5, 5, (3, 3), 1, 1),
    (6, 5, (3, 2), 2, (1, 2)),
    (8, 8, (4, 4), 2, "same"),
]


@st.composite
def window_case(draw, max_size=9, max_window=4, explicit_padding=True):
    """A batch shape, a window (kernel or pool) size, stride and padding that fit together."""
    height = draw(st.integers(1, max_size))
    width = draw(st.integers(1, max_size))
    choices = ["valid", "same"]
    if explicit_padding:
        choices.append(draw(st.integers(0, 2)))
        choices.append((draw(st.integers(0, 2)), draw(st.integers(0, 2))))
    padding = draw(st.sampled_from(choices))
    stride = draw(st.one_of(st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    stride_pair = stride if isinstance(stride, tuple) else (stride, stride)
    pad_pair = padding if isinstance(padding, tuple) else (padding, padding)
    window = []
    for size, pad, step in zip((height, width), pad_pair, stride_pair):
        before, after = ops.padding_amounts(size, 1, step, pad)
        limit = size if pad == "same" else size + before + after
        window.append(draw(st.integers(1, min(max_window, limit))))
    batch = draw(st.integers(1, 3))
    return (batch, height, width), tuple(window), stride, padding


def arrays(dtype, shape, low=-2.0, high=2.0):
    """Finite arrays of ``shape`` with values in ``[low, high]``."""
    return hnp.arrays(dtype, shape, elements=st.floats(low, high, width=32, allow_nan=False))
