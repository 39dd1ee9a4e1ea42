"""max_pool2d and avg_pool2d against Keras's MaxPooling2D and AveragePooling2D."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnn_course import ops

from numerics import assert_float64_close, assert_within, sum_tolerance
from strategies import FLOAT_DTYPES, arrays, window_case

POOLS = {"max": (ops.max_pool2d, "MaxPooling2D"), "average": (ops.avg_pool2d, "AveragePooling2D")}


@pytest.mark.parametrize("kind", sorted(POOLS))
@given(
    case=window_case(explicit_padding=False),
    channels=st.integers(1, 3),
    default_stride=st.booleans(),
    dtype=FLOAT_DTYPES,
    data=st.data(),
)
def test_pooling_matches_keras(keras, kind, case, channels, default_stride, dtype, data):
    (batch, height, width), pool_size, stride, padding = case
    if default_stride:
        stride = None
    if padding == "valid" and (pool_size[0] > height or pool_size[1] > width):
        return
    x = data.draw(arrays(dtype, (batch, height, width, channels)))
    ours, layer_name = POOLS[kind]
    options = {"pool_size": pool_size, "strides": stride, "padding": padding}
    x64 = x.astype(np.float64)
    expected = getattr(keras.layers, layer_name)(**options, dtype="float64")(x64).numpy()
    result = ours(x, pool_size, stride=stride, padding=padding)
    assert result.dtype == dtype
    if kind == "max":
        # The maximum is one of the inputs (the -inf border never wins): exact in any dtype.
        np.testing.assert_array_equal(result, expected)
        return
    # The mean of the window's real cells: magnitude is the mean of their |x|.
    magnitude = getattr(keras.layers, layer_name)(**options, dtype="float64")(np.abs(x64)).numpy()
    assert_float64_close(ours(x64, pool_size, stride=stride, padding=padding), expected, magnitude)
    if dtype == np.float32:  # a sum of at most ph * pw numbers and a division by their count
        assert_within(result, expected, sum_tolerance(magnitude, pool_size[0] * pool_size[1]))


def test_max_pool_by_hand():
    x = np.array([[1, 3, 2, 0], [4, 2, 1, 5], [0, 1, 7, 2], [6, 2, 3, 1]], dtype=float)[None, :, :, None]
    np.testing.assert_array_equal(ops.max_pool2d(x)[0, :, :, 0], [[4, 5], [6, 7]])
    np.testing.assert_array_equal(ops.avg_pool2d(x)[0, :, :, 0], [[2.5, 2.0], [2.25, 3.25]])


def test_same_average_pooling_ignores_padded_cells():
    x = np.ones((1, 3, 3, 1))
    # Every window averages only real cells, so a constant image stays constant.
    np.testing.assert_array_equal(ops.avg_pool2d(x, 2, padding="same"), np.ones((1, 2, 2, 1)))


def test_same_max_pooling_never_picks_the_padding():
    x = -np.ones((1, 3, 3, 1))
    np.testing.assert_array_equal(ops.max_pool2d(x, 2, padding="same"), -np.ones((1, 2, 2, 1)))


@pytest.mark.parametrize("pool", [ops.max_pool2d, ops.avg_pool2d])
@pytest.mark.parametrize(
    "x_shape, options, error, message",
    [
        ((28, 28, 1), {}, ValueError, r"x must have shape \(N, H, W, C\).*got shape \(28, 28, 1\)"),
        ((1, 2, 2, 1), {"pool_size": 3}, ValueError, r"pool_size of height x width \(3, 3\) is larger"),
        ((1, 4, 4, 1), {"pool_size": 0}, ValueError, "pool_size must be at least 1"),
        ((1, 4, 4, 1), {"stride": 0}, ValueError, "stride must be at least 1"),
        ((1, 4, 4, 1), {"stride": 2.0}, TypeError, "stride must be an int"),
        ((1, 4, 4, 1), {"padding": "full"}, ValueError, "padding must be 'valid' or 'same'"),
        ((1, 4, 4, 1), {"padding": 1}, ValueError, "padding must be 'valid' or 'same'"),
    ],
)
def test_pooling_bad_input(pool, x_shape, options, error, message):
    with pytest.raises(error, match=message):
        pool(np.zeros(x_shape), **options)
