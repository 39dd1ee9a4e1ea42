"""flatten, dense and dropout against Keras's Flatten, Dense and Dropout."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnn_course import ops

from numerics import assert_float64_close, assert_within, sum_tolerance
from strategies import FLOAT_DTYPES, arrays


@given(shape=st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.integers(1, 4)), data=st.data())
def test_flatten_matches_keras(keras, shape, data):
    x = data.draw(arrays(np.float32, shape))
    np.testing.assert_array_equal(ops.flatten(x), keras.layers.Flatten()(x).numpy())


@given(
    batch=st.integers(1, 4), d_in=st.integers(1, 8), d_out=st.integers(1, 8), dtype=FLOAT_DTYPES, data=st.data()
)
def test_dense_matches_keras(keras, batch, d_in, d_out, dtype, data):
    x = data.draw(arrays(dtype, (batch, d_in)))
    weights = data.draw(arrays(dtype, (d_in, d_out)))
    bias = data.draw(arrays(dtype, (d_out,)))
    x64, weights64, bias64 = (a.astype(np.float64) for a in (x, weights, bias))
    layer = keras.layers.Dense(d_out, dtype="float64")
    layer.build((None, d_in))
    layer.set_weights([weights64, bias64])
    expected = layer(x64).numpy()
    magnitude = np.abs(x64) @ np.abs(weights64) + np.abs(bias64)  # sum |x * w| + |b| of each output
    assert_float64_close(ops.dense(x64, weights64, bias64), expected, magnitude)
    result = ops.dense(x, weights, bias)
    assert result.dtype == dtype
    if dtype == np.float32:  # each output is a sum of D_in products and the bias
        assert_within(result, expected, sum_tolerance(magnitude, d_in + 1))
    assert_float64_close(ops.dense(x64, weights64), x64 @ weights64, np.abs(x64) @ np.abs(weights64))  # no bias


@pytest.mark.parametrize(
    "x_shape, weights_shape, bias_shape, message",
    [
        ((2, 3, 1), (3, 4), (4,), r"x must have shape \(N, D_in\)"),
        ((2, 3), (3,), (4,), r"weights must have shape \(D_in, D_out\)"),
        ((2, 3), (5, 4), (4,), r"D_in = 3 to match x of shape \(2, 3\), got weights of shape \(5, 4\)"),
        ((2, 3), (3, 4), (3,), r"bias must have shape \(D_out,\) = \(4,\), got shape \(3,\)"),
    ],
)
def test_dense_bad_input(x_shape, weights_shape, bias_shape, message):
    with pytest.raises(ValueError, match=message):
        ops.dense(np.zeros(x_shape), np.zeros(weights_shape), np.zeros(bias_shape))


def test_flatten_needs_a_batch_axis():
    with pytest.raises(ValueError, match=r"x must have shape \(N, ...\)"):
        ops.flatten(np.float64(1.0))


def test_dropout_keeps_the_mean_and_does_nothing_at_inference():
    x = np.ones((1000, 100))
    dropped = ops.dropout(x, 0.3, training=True, rng=np.random.default_rng(0))
    assert abs((dropped == 0).mean() - 0.3) < 0.01
    np.testing.assert_allclose(dropped[dropped != 0], 1 / 0.7)
    assert abs(dropped.mean() - 1.0) < 0.01
    assert ops.dropout(x, 0.3, training=False) is x


def test_dropout_is_reproducible_with_a_seeded_generator():
    x = np.arange(20.0)
    first = ops.dropout(x, 0.5, rng=np.random.default_rng(1))
    second = ops.dropout(x, 0.5, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("rate, error", [(1.0, ValueError), (-0.1, ValueError), ("half", TypeError), (True, TypeError)])
def test_dropout_bad_rate(rate, error):
    with pytest.raises(error, match="rate"):
        ops.dropout(np.ones(3), rate)
