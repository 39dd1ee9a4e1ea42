"""relu, sigmoid, tanh and softmax against TensorFlow, and softmax's numerical safety."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnn_course import ops

from numerics import (
    F32_FUNCTION_ERROR,
    F32_UNDERFLOW,
    U32,
    assert_float64_close,
    assert_within,
    softmax_tolerance,
    unit_roundoff,
)
from strategies import FLOAT_DTYPES, arrays


@given(dtype=FLOAT_DTYPES, data=st.data())
def test_elementwise_activations_match_tensorflow(tf, dtype, data):
    x = data.draw(arrays(dtype, (3, 5), low=-30, high=30))
    # The mathematics in float64 on both sides; relu picks a number, so it is exact.
    x64 = x.astype(np.float64)
    np.testing.assert_array_equal(ops.relu(x64), tf.nn.relu(x64).numpy())
    expected = {"sigmoid": tf.math.sigmoid(x64).numpy(), "tanh": tf.math.tanh(x64).numpy()}
    for name, values in expected.items():
        assert_float64_close(getattr(ops, name)(x64), values, magnitude=1.0, err_msg=name)
    # float32 stays float32 and is the float64 value to within float32's rounding:
    # tanh is one function evaluation; sigmoid is exp, 1 + e and a division (2 evaluations' worth).
    for name in ("relu", "sigmoid", "tanh"):
        assert getattr(ops, name)(x).dtype == dtype, name
    np.testing.assert_array_equal(ops.relu(x), ops.relu(x64))
    if dtype == np.float32:
        assert_within(ops.tanh(x), expected["tanh"], F32_FUNCTION_ERROR * np.abs(expected["tanh"]) + F32_UNDERFLOW)
        sigmoid_error = (2 * F32_FUNCTION_ERROR + 2 * U32) * expected["sigmoid"]
        assert_within(ops.sigmoid(x), expected["sigmoid"], sigmoid_error + F32_UNDERFLOW)


def test_sigmoid_does_not_overflow():
    with np.errstate(over="raise", invalid="raise"):
        np.testing.assert_array_equal(ops.sigmoid(np.array([-1e4, 0.0, 1e4])), [0.0, 0.5, 1.0])


@given(dtype=FLOAT_DTYPES, axis=st.sampled_from([-1, 0, 1]), data=st.data())
def test_softmax_matches_tensorflow(tf, dtype, axis, data):
    logits = data.draw(arrays(dtype, (4, 10), low=-50, high=50))
    logits64 = logits.astype(np.float64)
    expected = tf.nn.softmax(logits64, axis=axis).numpy()
    assert_float64_close(ops.softmax(logits64, axis=axis), expected, magnitude=1.0)
    result = ops.softmax(logits, axis=axis)
    assert result.dtype == dtype
    if dtype == np.float32:
        assert_within(result, expected, softmax_tolerance(logits64, axis))
    # The K probabilities sum to 1 up to the K - 1 additions of the softmax's sum, its
    # division and the K - 1 additions of this sum: (2 K - 1) u, so 2 K u.
    classes = logits.shape[axis]
    np.testing.assert_allclose(result.sum(axis=axis), 1.0, rtol=0, atol=2 * classes * unit_roundoff(dtype))


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
