"""Random initial weights.

``he_normal`` is introduced in the chapter "Putting it together"; every
trainable layer of ``cnn_course.layers`` draws its weights with it.
``glorot_uniform``, Keras's default, is compared with it in the chapter
"Training CNNs in practice".
"""

import math

import numpy as np

from cnn_course import checks

__all__ = ["he_normal", "glorot_uniform"]


def _check_shape_and_rng(shape, rng):
    """``shape`` as a tuple of positive ints with at least two axes; a clear error otherwise."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"shape must be (kh, kw, C_in, C_out) or (D_in, D_out), got {shape}")
    for size in shape:
        checks.check_int(size, "every size in shape", 1)
    return shape


def he_normal(shape, rng, dtype="float32"):
    """Random weights for a layer followed by ReLU (He initialisation).

    Draws from a normal distribution with mean 0 and standard deviation
    ``sqrt(2 / fan_in)``, where ``fan_in`` is the number of inputs of one
    output unit: ``kh * kw * C_in`` for a kernel, ``D_in`` for dense weights.
    This keeps the size of the activations about the same from layer to layer.
    (Keras's ``HeNormal`` draws from a *truncated* normal; the idea is the same.)

    Parameters
    ----------
    shape : tuple of int
        ``(kh, kw, C_in, C_out)`` for a kernel or ``(D_in, D_out)`` for dense weights.
    rng : numpy.random.Generator
        Pass a seeded one, ``np.random.default_rng(0)``, for reproducible weights.
    dtype : str or numpy.dtype, default "float32"

    Returns
    -------
    ndarray of shape ``shape``
    """
    shape = _check_shape_and_rng(shape, rng)
    fan_in = math.prod(shape[:-1])
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape).astype(dtype)


def glorot_uniform(shape, rng, dtype="float32"):
    """Random weights as Keras draws them by default (Glorot, or Xavier, uniform).

    Uniform between ``-limit`` and ``limit``, ``limit = sqrt(6 / (fan_in +
    fan_out))``, with ``fan_in = kh kw C_in`` and ``fan_out = kh kw C_out``
    for a kernel (``D_in`` and ``D_out`` for dense weights): variance
    ``2 / (fan_in + fan_out)``. The He counterpart is :func:`he_normal`.
    Introduced in the chapter "Training CNNs in practice".

    Parameters
    ----------
    shape : tuple of int
        ``(kh, kw, C_in, C_out)`` or ``(D_in, D_out)``.
    rng : numpy.random.Generator
    dtype : str or numpy.dtype, default "float32"

    Returns
    -------
    ndarray of shape ``shape``
    """
    shape = _check_shape_and_rng(shape, rng)
    receptive = math.prod(shape[:-2])
    limit = math.sqrt(6.0 / (receptive * shape[-2] + receptive * shape[-1]))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)
