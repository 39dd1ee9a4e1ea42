"""global_avg_pool2d and global_max_pool2d against Keras's global pooling layers."""

import re

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnn_course import ops

from numerics import assert_float64_close, assert_within, sum_tolerance
from strategies import FLOAT_DTYPES, arrays

SHAPES = hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=7)


@given(data=st.data(), dtype=FLOAT_DTYPES, shape=SHAPES)
def test_global_avg_pool2d_matches_keras(keras, data, dtype, shape):
    x = data.draw(arrays(dtype, shape))
    x64 = x.astype(np.float64)
    expected = keras.layers.GlobalAveragePooling2D(dtype="float64")(x64).numpy()
    magnitude = np.abs(x64).mean(axis=(1, 2))  # the mean of |x| over each map
    assert_float64_close(ops.global_avg_pool2d(x64), expected, magnitude)
    result = ops.global_avg_pool2d(x)
    assert result.shape == (shape[0], shape[3])
    assert result.dtype == dtype
    if dtype == np.float32:  # a sum of H * W numbers and a division by H * W
        assert_within(result, expected, sum_tolerance(magnitude, shape[1] * shape[2]))


@given(data=st.data(), dtype=FLOAT_DTYPES, shape=SHAPES)
def test_global_max_pool2d_matches_keras(keras, data, dtype, shape):
    x = data.draw(arrays(dtype, shape))
    expected = keras.layers.GlobalMaxPooling2D(dtype="float64")(x.astype(np.float64)).numpy()
    result = ops.global_max_pool2d(x)
    assert result.shape == (shape[0], shape[3])
    assert result.dtype == dtype
    # The maximum is one of the inputs, so it is exact. (In float64 no input is subnormal,
    # so TensorFlow's flushing of subnormal numbers to zero cannot change one.)
    np.testing.assert_array_equal(result, expected)


def test_global_pools_on_a_known_map():
    # Two images, two channels: channel 0 counts 0..8, channel 1 is its negative.
    counting = np.arange(9.0).reshape(3, 3)
    x = np.stack([np.stack([counting, -counting], axis=-1)] * 2)
    x[1] *= 2.0
    np.testing.assert_array_equal(ops.global_avg_pool2d(x), [[4.0, -4.0], [8.0, -8.0]])
    np.testing.assert_array_equal(ops.global_max_pool2d(x), [[8.0, 0.0], [16.0, 0.0]])


@given(data=st.data(), shape=hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=6))
def test_global_avg_is_avg_pool_over_the_whole_map(data, shape):
    """Global pooling is ordinary pooling whose window is the whole H x W map."""
    x = data.draw(arrays(np.float64, shape))
    window = (shape[1], shape[2])
    magnitude = np.abs(x).mean(axis=(1, 2))  # two float64 sums of the same numbers, in different orders
    assert_float64_close(ops.global_avg_pool2d(x), ops.avg_pool2d(x, window)[:, 0, 0, :], magnitude)
    np.testing.assert_array_equal(ops.global_max_pool2d(x), ops.max_pool2d(x, window)[:, 0, 0, :])


def test_integer_input_becomes_float():
    x = np.arange(8, dtype=np.uint8).reshape(1, 2, 2, 2)
    assert ops.global_avg_pool2d(x).dtype == np.float64
    np.testing.assert_array_equal(ops.global_avg_pool2d(x), [[3.0, 4.0]])
    np.testing.assert_array_equal(ops.global_max_pool2d(x), [[6.0, 7.0]])


GLOBAL_POOLS = [ops.global_avg_pool2d, ops.global_max_pool2d]


@pytest.mark.parametrize("pool", GLOBAL_POOLS)
@pytest.mark.parametrize("shape", [(4, 4), (2, 4, 4), (1, 2, 4, 4, 1)])
def test_wrong_rank_is_rejected(pool, shape):
    with pytest.raises(ValueError, match=r"x must have shape \(N, H, W, C\).*got shape " + re.escape(str(shape))):
        pool(np.zeros(shape))


@pytest.mark.parametrize("pool", GLOBAL_POOLS)
@pytest.mark.parametrize("shape", [(1, 0, 3, 2), (1, 3, 0, 2), (2, 0, 0, 1)])
def test_empty_maps_are_rejected(pool, shape):
    with pytest.raises(ValueError, match=r"x must have shape \(N, H, W, C\) with H >= 1 and W >= 1"):
        pool(np.zeros(shape))


@pytest.mark.parametrize("pool", GLOBAL_POOLS)
@pytest.mark.parametrize("bad", ["image", None, np.array([[[["a"]]]]), np.zeros((1, 2, 2, 1), dtype=object)])
def test_non_numeric_input_is_rejected(pool, bad):
    with pytest.raises(TypeError, match="x must be a numeric array"):
        pool(bad)


@pytest.mark.parametrize("pool", GLOBAL_POOLS)
def test_empty_batch_and_channels_keep_their_shape(pool):
    # N = 0 or C = 0 is an empty batch, not an error: the output is just empty too.
    assert pool(np.zeros((0, 3, 3, 2))).shape == (0, 2)
    assert pool(np.zeros((2, 3, 3, 0))).shape == (2, 0)
