"""numerical_gradient, relative_error and gradient_check of cnn_course.gradient_check."""

import numpy as np
import pytest

from cnn_course import gradient_check

from numerics import U64


def test_numerical_gradient_of_known_functions():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    before = x.copy()
    epsilon = 1e-6  # numerical_gradient's default
    # A centred difference is exact for a quadratic, and within epsilon**2 / 6 for sin (whose
    # third derivative is at most 1). Float64 rounding adds one evaluation's error over epsilon:
    # a sum of 12 squares or sines (each within 1 ulp) is within 2 * (12 + 2) * u * sum |terms|.
    rounding = 2 * (x.size + 2) * U64 / epsilon
    squares = np.sum((np.abs(x) + epsilon) ** 2)
    np.testing.assert_allclose(
        gradient_check.numerical_gradient(lambda v: np.sum(v**2), x), 2 * x, rtol=1e-8, atol=rounding * squares
    )
    np.testing.assert_allclose(
        gradient_check.numerical_gradient(lambda v: np.sum(np.sin(v)), x), np.cos(x),
        rtol=1e-8, atol=rounding * x.size + epsilon**2 / 6,
    )
    np.testing.assert_array_equal(x, before)  # the caller's array is untouched


def test_numerical_gradient_accepts_integers_and_float32_but_works_in_float64():
    gradient = gradient_check.numerical_gradient(lambda v: float(v @ v), np.array([1, 2, 3]))
    assert gradient.dtype == np.float64
    np.testing.assert_allclose(gradient, [2.0, 4.0, 6.0], rtol=1e-8)


def test_relative_error_properties():
    a = np.array([1.0, -2.0, 3.0])
    assert gradient_check.relative_error(a, a) == 0.0
    assert gradient_check.relative_error(a, -a) == pytest.approx(1.0)
    assert gradient_check.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    # Independent of the scale of the loss.
    b = a + np.array([1e-4, 0.0, 0.0])
    assert gradient_check.relative_error(a, b) == pytest.approx(gradient_check.relative_error(1e6 * a, 1e6 * b))


def test_gradient_check_catches_a_wrong_backward_pass():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 3))
    weights = rng.normal(size=(3, 2))

    def loss(v):
        return float(np.sum((v @ weights) ** 2))

    right = 2 * (x @ weights) @ weights.T
    wrong = 2 * (x @ weights) @ weights.T[::-1]  # a plausible-looking mistake
    # Rounding alone could reach 2.5e-8 here (float64, step 1e-6), so the bar for right is 1e-6.
    assert gradient_check.gradient_check(loss, x, right) < 1e-6
    assert gradient_check.gradient_check(loss, x, wrong) > 1e-2


def test_bad_input():
    with pytest.raises(ValueError, match="epsilon must be positive"):
        gradient_check.numerical_gradient(np.sum, np.ones(3), epsilon=0.0)
    with pytest.raises(ValueError, match=r"second must have the shape of first, \(3,\), got shape \(4,\)"):
        gradient_check.relative_error(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match=r"analytic_gradient must have the shape of x, \(3,\), got shape \(2,\)"):
        gradient_check.gradient_check(np.sum, np.ones(3), np.ones(2))
    with pytest.raises(TypeError, match="x must be a numeric array"):
        gradient_check.numerical_gradient(np.sum, "abc")
