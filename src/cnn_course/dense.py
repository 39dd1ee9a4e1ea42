"""The fully connected layer, flattening and dropout in NumPy.

Introduced in the chapter "Fully connected layer, dropout and softmax".
"""

import numpy as np

from cnn_course import checks

__all__ = ["flatten", "dense", "dropout"]


def flatten(x):
    """Flatten every example of a batch into one vector, keeping the batch axis.

    Channels-last arrays flatten in the order ``(H, W, C)``, as
    ``keras.layers.Flatten`` does, so Keras's Dense weights apply unchanged.

    Parameters
    ----------
    x : ndarray of shape (N, d1, d2, ...)

    Returns
    -------
    ndarray of shape (N, d1 * d2 * ...)
    """
    x = checks.as_float_array(x, "x")
    if x.ndim < 1:
        raise ValueError(f"x must have shape (N, ...) with a batch axis, got shape {x.shape}")
    return x.reshape(x.shape[0], -1)


def dense(x, weights, bias=None):
    """Fully connected layer: ``x @ weights + bias``.

    Parameters
    ----------
    x : ndarray of shape (N, D_in)
    weights : ndarray of shape (D_in, D_out)
        Keras's ``Dense`` kernel layout.
    bias : ndarray of shape (D_out,), optional

    Returns
    -------
    ndarray of shape (N, D_out)
    """
    x, weights = checks.check_dense_operands(x, weights)
    out = x @ weights
    if bias is not None:
        bias = checks.as_float_array(bias, "bias")
        if bias.shape != (weights.shape[1],):
            raise ValueError(f"bias must have shape (D_out,) = ({weights.shape[1]},), got shape {bias.shape}")
        out = out + bias
    return out


def dropout(x, rate, training=True, rng=None):
    """Inverted dropout: zero each value with probability ``rate`` while training.

    The survivors are scaled by ``1 / (1 - rate)`` so that the expected value
    of every unit is the same in training and at inference, where dropout
    does nothing (``training=False`` returns ``x`` unchanged), as in Keras.

    Parameters
    ----------
    x : ndarray of any shape
    rate : float
        Probability of dropping a unit, in [0, 1).
    training : bool, default True
    rng : numpy.random.Generator, optional
        Source of randomness; pass a seeded one for reproducible masks.

    Returns
    -------
    ndarray of the same shape as ``x``
    """
    x = checks.as_float_array(x, "x")
    rate = checks.check_rate(rate)
    if not training or rate == 0.0:
        return x
    rng = np.random.default_rng() if rng is None else rng
    keep = rng.random(x.shape) >= rate
    return np.where(keep, x / (1.0 - rate), 0.0).astype(x.dtype, copy=False)
