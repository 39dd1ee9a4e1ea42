"""relu, sigmoid, tanh and softmax against TensorFlow, and softmax's numerical safety."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnn_course import ops

from strategies import FLOAT_DTYPES, arrays


@given(dtype=FLOAT_DTYPES, data=st.data())
def test_elementwise_activations_match_tensorflow(tf, dtype, data):
    x = data.draw(arrays(dtype, (3, 5), low=-30, high=30))
    np.testing.assert_array_equal(ops.relu(x), tf.nn.relu(x).numpy())
    np.testing.assert_allclose(ops.sigmoid(x), tf.math.sigmoid(x).numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ops.tanh(x), tf.math.tanh(x).numpy(), rtol=1e-6, atol=1e-7)
    assert ops.relu(x).dtype == dtype and ops.sigmoid(x).dtype == dtype


def test_sigmoid_does_not_overflow():
    with np.errstate(over="raise", invalid="raise"):
        np.testing.assert_array_equal(ops.sigmoid(np.array([-1e4, 0.0, 1e4])), [0.0, 0.5, 1.0])


@given(dtype=FLOAT_DTYPES, axis=st.sampled_from([-1, 0, 1]), data=st.data())
def test_softmax_matches_tensorflow(tf, dtype, axis, data):
    logits = data.draw(arrays(dtype, (4, 10), low=-50, high=50))
    expected = tf.nn.softmax(logits, axis=axis).numpy()
    result = ops.softmax(logits, axis=axis)
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(result.sum(axis=axis), 1.0, rtol=1e-6)


@pytest.mark.parametrize("big", [1e30, 1e300, float(np.finfo(np.float32).max)])
def test_softmax_is_stable_for_huge_logits(big):
    dtype = np.float32 if big <= float(np.finfo(np.float32).max) else np.float64
    logits = np.array([[big, 0.0, -big], [big, big, big]], dtype=dtype)
    with np.errstate(invalid="raise", divide="raise"):
        probabilities = ops.softmax(logits)
    assert np.all(np.isfinite(probabilities))
    np.testing.assert_allclose(probabilities, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)


def test_softmax_is_unchanged_by_adding_a_constant():
    logits = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(ops.softmax(logits), ops.softmax(logits + 1000.0))


@pytest.mark.parametrize(
    "logits, options, message",
    [
        (np.float64(3.0), {}, "logits must have at least one dimension"),
        (np.zeros((2, 3)), {"axis": 2}, r"axis 2 is out of range for logits of shape \(2, 3\)"),
        (np.array([1.0, np.nan]), {}, "logits must be finite"),
        (np.array([1.0, np.inf]), {}, "logits must be finite"),
    ],
)
def test_softmax_bad_input(logits, options, message):
    with pytest.raises(ValueError, match=message):
        ops.softmax(logits, **options)


def test_activations_reject_text():
    for function in (ops.relu, ops.sigmoid, ops.tanh, ops.softmax):
        with pytest.raises(TypeError, match="must be a numeric array"):
            function("ten")
