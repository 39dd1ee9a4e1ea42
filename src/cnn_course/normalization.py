"""Batch normalization, the forward operation: statistics over the batch, per channel.

Introduced in the chapter "Training CNNs in practice". A batch-normalization
layer rescales each channel (the last axis) to mean 0 and variance 1 over the
batch, and then lets the network choose its own scale ``gamma`` and shift
``beta``:

    ``output = gamma * (x - mean) / sqrt(variance + epsilon) + beta``.

While training ``mean`` and ``variance`` are those of the batch
(:func:`batch_moments`); at inference they are the running averages that
training kept, so one example's output no longer depends on the others in its
batch. :class:`cnn_course.layers.BatchNorm` keeps the bookkeeping; its backward
pass is :func:`cnn_course.gradients.batch_norm_backward`. Arrays are
channels-last like Keras: images ``(N, H, W, C)``, features ``(N, D)``.
"""

import numbers

import numpy as np

from cnn_course import checks

__all__ = ["batch_moments", "batch_norm", "check_epsilon"]


def check_epsilon(epsilon):
    """Return ``epsilon``, the number added to the variance, as a positive float.

    Parameters
    ----------
    epsilon : float
        Must be above 0, so that a channel that is constant over the batch
        (variance 0) is not divided by 0.

    Returns
    -------
    float
    """
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
        raise TypeError(f"epsilon must be a positive float, got {epsilon!r}")
    if not epsilon > 0 or not np.isfinite(epsilon):
        raise ValueError(f"epsilon must be a positive float, got {epsilon!r}")
    return float(epsilon)


def batch_moments(x):
    """Mean and variance of every channel over the batch (and every pixel), as Keras computes them.

    ``mean = sum(x) / M`` and ``variance = sum((x - mean) ** 2) / M`` over
    all axes but the last, with ``M`` the number of values per channel
    (``N * H * W`` for images, ``N`` for features). The variance is the
    *biased* one, divided by ``M`` and not ``M - 1``: it is what
    ``tf.nn.moments`` gives and what Keras 3's ``BatchNormalization`` uses,
    both to normalise and to update its moving variance.

    Introduced in the chapter "Training CNNs in practice".

    Parameters
    ----------
    x : ndarray of shape (N, ..., C)
        A batch, channels last: ``(N, H, W, C)`` or ``(N, D)``.

    Returns
    -------
    mean : ndarray of shape (C,)
    variance : ndarray of shape (C,)
    """
    x = checks.as_float_array(x, "x")
    if x.ndim < 2 or x.shape[0] < 1:
        raise ValueError(f"x must have shape (N, ..., C) with N >= 1, e.g. (N, H, W, C) or (N, D), got shape {x.shape}")
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes)
    variance = np.square(x - mean).mean(axis=axes)
    return mean, variance


def batch_norm(x, gamma, beta, mean, variance, epsilon=1e-3):
    """Normalise every channel with the given statistics, then scale and shift it.

    ``gamma * (x - mean) / sqrt(variance + epsilon) + beta``, each of the four
    vectors broadcast along the last (channel) axis. Pass the batch's
    statistics (:func:`batch_moments`) while training, the running ones at
    inference. The arguments come in Keras's ``get_weights()`` order of a
    ``BatchNormalization`` layer, so ``batch_norm(x, *layer.get_weights())``
    is that layer at inference.

    Introduced in the chapter "Training CNNs in practice".

    Parameters
    ----------
    x : ndarray of shape (N, ..., C)
        A batch, channels last: ``(N, H, W, C)`` or ``(N, D)``.
    gamma, beta : ndarray of shape (C,)
        The scale and the shift (the trainable parameters).
    mean, variance : ndarray of shape (C,)
        The statistics to normalise with; ``variance`` must not be negative.
    epsilon : float, default 1e-3
        Added to the variance (Keras's default).

    Returns
    -------
    ndarray of the shape of ``x``
    """
    x = checks.as_float_array(x, "x")
    if x.ndim < 2:
        raise ValueError(f"x must have shape (N, ..., C), e.g. (N, H, W, C) or (N, D), got shape {x.shape}")
    channels = x.shape[-1]
    vectors = []
    for name, value in (("gamma", gamma), ("beta", beta), ("mean", mean), ("variance", variance)):
        value = checks.as_float_array(value, name)
        if value.shape != (channels,):
            raise ValueError(
                f"{name} must have shape (C,) = ({channels},) to match x of shape {x.shape}, got shape {value.shape}"
            )
        vectors.append(value)
    gamma, beta, mean, variance = vectors
    if np.any(variance < 0):
        raise ValueError(f"variance must not be negative, got {variance.min()} in one channel")
    epsilon = check_epsilon(epsilon)
    return gamma * ((x - mean) / np.sqrt(variance + epsilon)) + beta
