"""Checking a backward pass against finite differences.

Introduced in the chapter "Learning from scratch". A backward pass is easy to
get subtly wrong (a transposed kernel, a missing sum over the batch) and the
network still trains, only worse. The cure is to compare it with the
definition of a derivative: nudge one input a little, see how much the loss
moves.
"""

import numpy as np

from cnn_course import checks

__all__ = ["numerical_gradient", "relative_error", "gradient_check"]


def numerical_gradient(function, x, epsilon=1e-6):
    """Estimate the gradient of a scalar function by centred finite differences.

    For every element ``x[i]``:
    ``(function(x with x[i] + epsilon) - function(x with x[i] - epsilon)) / (2 * epsilon)``.
    The error of this centred formula shrinks like ``epsilon ** 2`` (a
    one-sided difference only like ``epsilon``). Use float64: in float32 the
    rounding error of ``function`` divided by ``2 * epsilon`` swamps the result.
    It calls ``function`` twice per element, so keep ``x`` small.

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    function : callable
        Takes an array shaped like ``x`` and returns a float.
    x : ndarray of any shape
        The point where the gradient is wanted. It is not modified.
    epsilon : float, default 1e-6
        The nudge.

    Returns
    -------
    ndarray of the same shape as ``x``
    """
    x = checks.as_float_array(x, "x")
    if not epsilon > 0:
        raise ValueError(f"epsilon must be positive, got {epsilon!r}")
    point = x.astype(np.float64)  # a copy, so the caller's array is never touched
    gradient = np.zeros_like(point)
    flat_point, flat_gradient = point.reshape(-1), gradient.reshape(-1)
    for index in range(flat_point.size):
        original = flat_point[index]
        flat_point[index] = original + epsilon
        above = float(function(point))
        flat_point[index] = original - epsilon
        below = float(function(point))
        flat_point[index] = original
        flat_gradient[index] = (above - below) / (2.0 * epsilon)
    return gradient


def relative_error(first, second):
    """Size of the difference of two gradients relative to their sizes.

    ``||first - second|| / (||first|| + ||second||)`` with Euclidean norms:
    0 when they are equal, 1 when they point in opposite directions, and
    independent of the scale of the loss. In float64 a correct backward pass
    gives about 1e-9 or less; 1e-3 or more means a bug.

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    first, second : ndarray of the same shape

    Returns
    -------
    float
    """
    first = checks.as_float_array(first, "first")
    second = checks.as_float_array(second, "second")
    if first.shape != second.shape:
        raise ValueError(f"second must have the shape of first, {first.shape}, got shape {second.shape}")
    scale = np.linalg.norm(first) + np.linalg.norm(second)
    if scale == 0.0:
        return 0.0  # both are exactly zero: they agree
    return float(np.linalg.norm(first - second) / scale)


def gradient_check(function, x, analytic_gradient, epsilon=1e-6):
    """Relative error between a backward pass's gradient and finite differences.

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    function : callable
        Takes an array shaped like ``x`` and returns a float (the loss).
    x : ndarray of any shape
        Where to check, in float64.
    analytic_gradient : ndarray of the same shape as ``x``
        What the backward pass says the gradient of ``function`` at ``x`` is.
    epsilon : float, default 1e-6

    Returns
    -------
    float
        :func:`relative_error` of the two gradients.
    """
    analytic_gradient = checks.as_float_array(analytic_gradient, "analytic_gradient")
    x = checks.as_float_array(x, "x")
    if analytic_gradient.shape != x.shape:
        raise ValueError(
            f"analytic_gradient must have the shape of x, {x.shape}, got shape {analytic_gradient.shape}"
        )
    return relative_error(analytic_gradient, numerical_gradient(function, x, epsilon))
