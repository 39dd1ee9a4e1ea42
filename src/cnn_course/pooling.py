"""Max and average pooling in NumPy, with the same results as Keras's layers.

Introduced in the chapter "Pooling". Pooling has no parameters: it only
summarises each window of each channel by its largest value or its mean.
"""

import numpy as np

from cnn_course import checks, convolution

__all__ = ["max_pool2d", "avg_pool2d", "global_avg_pool2d", "global_max_pool2d", "pool_plan"]


def pool_plan(x, pool_size, stride, padding):
    """Check the arguments of a pooling function; return what it needs to slide its window.

    Shared by the pooling functions, their gradients and :mod:`cnn_course.fast`,
    so that all of them refuse the same mistakes with the same message.

    Returns
    -------
    x : ndarray of shape (N, H, W, C)
        As a float array.
    window, strides : tuple of (int, int)
        ``stride`` defaults to ``pool_size`` (windows that do not overlap).
    pads : tuple of ((int, int), (int, int))
        The border ``((top, bottom), (left, right))`` that ``padding`` asks for.
    out_size : tuple of (int, int)
        ``(H', W')``.
    """
    x = checks.as_float_array(x, "x")
    checks.check_rank(x, 4, "x", "(N, H, W, C)")
    window = checks.check_positive_pair(pool_size, "pool_size")
    strides = window if stride is None else checks.check_positive_pair(stride, "stride")
    checks.check_padding(padding, allow_amount=False)
    pads, out_size = convolution.window_plan(x.shape[1:3], window, strides, padding, "pool_size")
    return x, window, strides, pads, out_size


def _pool_windows(x, pool_size, stride, padding, fill):
    """Yield every ``(N, H', W', C)`` slice that one offset of the window selects.

    Both pools reduce over the same ``ph * pw`` slices; the padded border is
    filled with ``fill`` (-inf for max pooling, 0 for average pooling).
    """
    x, (ph, pw), (sh, sw), pads, (out_h, out_w) = pool_plan(x, pool_size, stride, padding)
    if any(sum(p) for p in pads):
        x = convolution.pad2d(x, pads, value=fill)
    for i in range(ph):
        for j in range(pw):
            yield x[:, i : i + sh * (out_h - 1) + 1 : sh, j : j + sw * (out_w - 1) + 1 : sw, :]


def max_pool2d(x, pool_size=2, stride=None, padding="valid"):
    """Largest value of each window, per channel, like ``keras.layers.MaxPooling2D``.

    Output size per axis: ``floor((n - k) / s) + 1`` for ``"valid"`` and
    ``ceil(n / s)`` for ``"same"`` (the border is padded with -inf, so it
    never wins).

    Parameters
    ----------
    x : ndarray of shape (N, H, W, C)
    pool_size : int or tuple of (int, int), default 2
    stride : int or tuple of (int, int), optional
        Defaults to ``pool_size`` (windows that do not overlap), as in Keras.
    padding : {"valid", "same"}, default "valid"

    Returns
    -------
    ndarray of shape (N, H', W', C)
    """
    windows = _pool_windows(x, pool_size, stride, padding, fill=-np.inf)
    out = next(windows).copy()
    for window in windows:
        np.maximum(out, window, out=out)
    return out


def avg_pool2d(x, pool_size=2, stride=None, padding="valid"):
    """Mean of each window, per channel, like ``keras.layers.AveragePooling2D``.

    With ``"same"`` padding the padded cells are left out of the mean (a
    corner window of a 2x2 pool over an odd image averages the cells it
    really covers), as Keras does.

    Parameters
    ----------
    x : ndarray of shape (N, H, W, C)
    pool_size : int or tuple of (int, int), default 2
    stride : int or tuple of (int, int), optional
        Defaults to ``pool_size``.
    padding : {"valid", "same"}, default "valid"

    Returns
    -------
    ndarray of shape (N, H', W', C)
    """
    windows = _pool_windows(x, pool_size, stride, padding, fill=0.0)
    total = next(windows).copy()
    for window in windows:
        total += window
    x = np.asarray(x)
    # Count the real (unpadded) cells under each window by pooling a map of ones.
    ones = np.ones((1,) + x.shape[1:3] + (1,), dtype=total.dtype)
    count = sum(_pool_windows(ones, pool_size, stride, padding, fill=0.0))
    return total / count


def _check_feature_maps(x):
    """Return ``x`` as a float ``(N, H, W, C)`` array with at least one pixel per map."""
    x = checks.as_float_array(x, "x")
    checks.check_rank(x, 4, "x", "(N, H, W, C)")
    if x.shape[1] < 1 or x.shape[2] < 1:
        # The mean or maximum of an empty map is undefined (NumPy would warn and return nan).
        raise ValueError(f"x must have shape (N, H, W, C) with H >= 1 and W >= 1, got shape {x.shape}")
    return x


def global_avg_pool2d(x):
    """Mean of each whole feature map, like ``keras.layers.GlobalAveragePooling2D``.

    One number per channel and image: the window is the whole ``H x W`` map,
    so the output has no spatial axes left (``H' = W' = 1``, dropped). It is
    often used instead of flattening before the last dense layer, and works
    for any input height and width.

    Introduced in the chapter "Pooling".

    Parameters
    ----------
    x : ndarray of shape (N, H, W, C)
        Channels-last feature maps, with ``H, W >= 1``.

    Returns
    -------
    ndarray of shape (N, C)
    """
    x = _check_feature_maps(x)
    return x.mean(axis=(1, 2))


def global_max_pool2d(x):
    """Largest value of each whole feature map, like ``keras.layers.GlobalMaxPooling2D``.

    Introduced in the chapter "Pooling".

    Parameters
    ----------
    x : ndarray of shape (N, H, W, C)
        Channels-last feature maps, with ``H, W >= 1``.

    Returns
    -------
    ndarray of shape (N, C)
    """
    x = _check_feature_maps(x)
    return x.max(axis=(1, 2))
