"""Activation functions and softmax in NumPy.

``relu`` is introduced in the chapter "ReLU and other activations" (with
``sigmoid`` and ``tanh`` for comparison); ``softmax`` in the chapter
"Fully connected layer, dropout and softmax".
"""

import numpy as np

from cnn_course import checks

__all__ = ["relu", "sigmoid", "tanh", "softmax"]


def relu(x):
    """Rectified linear unit, ``max(0, x)`` element by element.

    Parameters
    ----------
    x : ndarray of any shape

    Returns
    -------
    ndarray of the same shape as ``x``
    """
    x = checks.as_float_array(x, "x")
    return np.maximum(x, 0.0).astype(x.dtype, copy=False)


def sigmoid(x):
    """Logistic function ``1 / (1 + exp(-x))``, computed without overflow.

    Parameters
    ----------
    x : ndarray of any shape

    Returns
    -------
    ndarray of the same shape as ``x``, values in [0, 1]
    """
    x = checks.as_float_array(x, "x")
    # exp of a large positive number overflows, so use exp(-|x|) on both sides.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def tanh(x):
    """Hyperbolic tangent, element by element.

    Parameters
    ----------
    x : ndarray of any shape

    Returns
    -------
    ndarray of the same shape as ``x``, values in [-1, 1]
    """
    return np.tanh(checks.as_float_array(x, "x"))


def softmax(logits, axis=-1):
    """Turn scores into a probability distribution along ``axis``.

    ``softmax(z)_i = exp(z_i - max(z)) / sum_j exp(z_j - max(z))``. Subtracting
    the maximum changes nothing mathematically but keeps every ``exp`` at most
    1, so logits of 1e30 or the float32 maximum give no overflow and no NaN.

    Parameters
    ----------
    logits : ndarray of shape (..., K)
        Finite scores (``K`` classes along ``axis``).
    axis : int, default -1
        The axis that holds the classes.

    Returns
    -------
    ndarray of the same shape as ``logits``
        Non-negative, summing to 1 along ``axis``.
    """
    logits = checks.as_float_array(logits, "logits")
    if logits.ndim == 0:
        raise ValueError("logits must have at least one dimension (the classes), got a scalar")
    if not -logits.ndim <= axis < logits.ndim:
        raise ValueError(f"axis {axis} is out of range for logits of shape {logits.shape}")
    if not np.all(np.isfinite(logits)):
        raise ValueError(f"logits must be finite, got NaN or infinity in an array of shape {logits.shape}")
    # Differences of two huge numbers of opposite signs can overflow to -inf,
    # whose exp is exactly the 0 it should be: the warning is not a problem.
    with np.errstate(over="ignore"):
        shifted = logits - np.max(logits, axis=axis, keepdims=True)
    exps = np.exp(shifted)
    return exps / np.sum(exps, axis=axis, keepdims=True)
