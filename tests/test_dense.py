"""flatten, dense and dropout against Keras's Flatten, Dense and Dropout."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnn_course import ops

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
    layer = keras.layers.Dense(d_out, dtype=dtype)
    layer.build((None, d_in))
    layer.set_weights([weights, bias])
    np.testing.assert_allclose(ops.dense(x, weights, bias), layer(x).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ops.dense(x, weights), x @ weights)


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
