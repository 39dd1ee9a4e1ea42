"""Backward passes: the gradient of the loss with respect to each layer's inputs and weights.

Introduced in the chapter "Learning from scratch". Every function here takes
``grad_output``, the gradient of the loss with respect to a layer's *output*
(same shape as that output), together with what the forward pass saw, and
returns the gradient with respect to the layer's *input* (and its weights).
Chaining them from the last layer to the first is backpropagation.
Arrays are channels-last like Keras: images ``(N, H, W, C)``, kernels
``(kh, kw, C_in, C_out)``, dense weights ``(D_in, D_out)``.
"""

import numpy as np

from cnn_course import convolution, validation

__all__ = [
    "col2im",
    "conv2d_backward",
    "max_pool2d_backward",
    "avg_pool2d_backward",
    "relu_backward",
    "flatten_backward",
    "dense_backward",
    "dropout_backward",
    "softmax_cross_entropy",
    "softmax_cross_entropy_backward",
]


def _check_grad_output(grad_output, expected_shape, what):
    """Return ``grad_output`` as a float array, or raise naming both shapes."""
    grad_output = validation.as_float_array(grad_output, "grad_output")
    if grad_output.shape != tuple(expected_shape):
        raise ValueError(
            f"grad_output must have the shape of the {what}, {tuple(expected_shape)}, "
            f"got shape {grad_output.shape}"
        )
    return grad_output


def _offset_slices(window, stride, out_size):
    """The slice of the padded input that each offset ``(u, v)`` of a window reads.

    Offset ``(u, v)`` of the window at output cell ``(i, j)`` reads padded
    pixel ``(i * stride_h + u, j * stride_w + v)``; for a fixed offset these
    pixels form one strided slice, so a backward pass is ``kh * kw`` slice
    additions instead of a loop over every output cell.
    """
    (kh, kw), (sh, sw), (out_h, out_w) = window, stride, out_size
    for u in range(kh):
        for v in range(kw):
            yield u, v, (slice(None), slice(u, u + sh * (out_h - 1) + 1, sh), slice(v, v + sw * (out_w - 1) + 1, sw))


def col2im(columns, input_shape, window, stride=1, padding="valid"):
    """Add every window row of ``columns`` back onto the pixels it was copied from.

    The adjoint of :func:`cnn_course.convolution.im2col`: where windows
    overlap, a pixel that was copied into several windows receives the sum of
    their values, which is exactly what the chain rule asks for. Padded cells
    are dropped at the end (they are constants, not inputs).

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    columns : ndarray of shape (N, H', W', kh, kw, C)
        One value per window position and window cell, as ``im2col`` lays them out.
    input_shape : tuple of int
        ``(N, H, W, C)``, the shape of the array ``im2col`` was applied to.
    window : int or tuple of (int, int)
        ``(kh, kw)``.
    stride : int or tuple of (int, int), default 1
    padding : {"valid", "same"}, int or tuple of (int, int), default "valid"

    Returns
    -------
    ndarray of shape (N, H, W, C)
    """
    columns = validation.as_float_array(columns, "columns")
    kh, kw = validation.check_positive_pair(window, "window")
    sh, sw = validation.check_positive_pair(stride, "stride")
    input_shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if input_shape is None or len(input_shape) != 4 or not all(isinstance(size, (int, np.integer)) for size in input_shape):
        raise ValueError(f"input_shape must be the 4 sizes (N, H, W, C) of im2col's input, got {input_shape!r}")
    n, height, width, channels = input_shape
    pads, (out_h, out_w) = convolution._window_plan((height, width), (kh, kw), (sh, sw), padding, "window")
    expected = (n, out_h, out_w, kh, kw, channels)
    if columns.shape != expected:
        raise ValueError(f"columns must have shape (N, H', W', kh, kw, C) = {expected}, got shape {columns.shape}")
    (top, bottom), (left, right) = pads
    padded = np.zeros((n, height + top + bottom, width + left + right, channels), dtype=columns.dtype)
    # One transposed copy puts each window offset's values side by side in
    # memory, which makes the kh * kw additions below about twice as fast.
    by_offset = np.ascontiguousarray(columns.transpose(3, 4, 0, 1, 2, 5))
    for u, v, where in _offset_slices((kh, kw), (sh, sw), (out_h, out_w)):
        padded[where] += by_offset[u, v]
    return padded[:, top : top + height, left : left + width, :]


def conv2d_backward(grad_output, x, kernel, stride=1, padding="valid", columns=None, need_grad_x=True):
    """Gradients of :func:`cnn_course.ops.conv2d` with respect to its input, kernel and bias.

    The forward pass is one matrix product ``out = columns @ K + b``, with
    ``columns`` the im2col matrix of ``x`` (one window per row) and ``K``
    the kernel reshaped to ``(kh * kw * C_in, C_out)``. The chain rule for a
    matrix product gives the three gradients:

    - ``grad_kernel = columns.T @ grad_output`` (each weight collects
      ``input value * output gradient`` over every place it was used);
    - ``grad_bias`` = ``grad_output`` summed over the batch and every pixel;
    - ``grad_columns = grad_output @ K.T``, which :func:`col2im` adds back
      onto the input pixels (a pixel used by several windows gets the sum).
      It is computed one window cell ``(u, v)`` at a time, each product added
      straight onto the slice of pixels that cell read, which gives the same
      sums without building the whole ``grad_columns`` matrix.

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    grad_output : ndarray of shape (N, H', W', C_out)
        Gradient of the loss with respect to the convolution's output.
    x : ndarray of shape (N, H, W, C_in)
        The input of the forward pass.
    kernel : ndarray of shape (kh, kw, C_in, C_out)
    stride : int or tuple of (int, int), default 1
    padding : {"valid", "same"}, int or tuple of (int, int), default "valid"
        The same ``stride`` and ``padding`` as the forward pass.
    columns : ndarray of shape (N, H', W', kh, kw, C_in), optional
        ``im2col(x, (kh, kw), stride, padding)`` if the forward pass kept it;
        saves building it again.
    need_grad_x : bool, default True
        ``False`` skips ``grad_x`` (returned as None): the first layer of a
        network does not need the gradient with respect to the images.

    Returns
    -------
    grad_x : ndarray of shape (N, H, W, C_in) or None
    grad_kernel : ndarray of shape (kh, kw, C_in, C_out)
    grad_bias : ndarray of shape (C_out,)
    """
    x = validation.as_float_array(x, "x")
    kernel = validation.as_float_array(kernel, "kernel")
    validation.check_rank(x, 4, "x", "(N, H, W, C_in)")
    validation.check_rank(kernel, 4, "kernel", "(kh, kw, C_in, C_out)")
    kh, kw, c_in, c_out = kernel.shape
    if c_in != x.shape[3]:
        raise ValueError(
            f"kernel must have shape (kh, kw, C_in, C_out) with C_in = {x.shape[3]} to match "
            f"x of shape {x.shape}, got kernel of shape {kernel.shape}"
        )
    strides = validation.check_positive_pair(stride, "stride")
    pads, (out_h, out_w) = convolution._window_plan(x.shape[1:3], (kh, kw), strides, padding, "kernel")
    n, height, width, _ = x.shape
    grad_output = _check_grad_output(grad_output, (n, out_h, out_w, c_out), "convolution's output (N, H', W', C_out)")
    if columns is None:
        columns = convolution.im2col(x, (kh, kw), stride=strides, padding=padding)
    elif columns.shape != (n, out_h, out_w, kh, kw, c_in):
        raise ValueError(
            f"columns must have shape (N, H', W', kh, kw, C_in) = {(n, out_h, out_w, kh, kw, c_in)}, "
            f"got shape {columns.shape}"
        )
    rows = n * out_h * out_w
    grad_rows = grad_output.reshape(rows, c_out)
    grad_kernel = (columns.reshape(rows, kh * kw * c_in).T @ grad_rows).reshape(kernel.shape)
    grad_bias = grad_rows.sum(axis=0)
    if not need_grad_x:
        return None, grad_kernel, grad_bias
    # col2im(grad_rows @ K.T), one window cell at a time: cell (u, v) of every
    # window read one strided slice of the padded input, and its share of the
    # gradient is one small product, added onto that slice.
    (top, bottom), (left, right) = pads
    grad_padded = np.zeros((n, height + top + bottom, width + left + right, c_in), dtype=grad_kernel.dtype)
    for u, v, where in _offset_slices((kh, kw), strides, (out_h, out_w)):
        grad_padded[where] += (grad_rows @ kernel[u, v].T).reshape(n, out_h, out_w, c_in)
    return grad_padded[:, top : top + height, left : left + width, :], grad_kernel, grad_bias


def _pool_plan(x, pool_size, stride, padding):
    """Check pooling arguments; return ``x``, window, stride, pads and output size."""
    x = validation.as_float_array(x, "x")
    validation.check_rank(x, 4, "x", "(N, H, W, C)")
    window = validation.check_positive_pair(pool_size, "pool_size")
    strides = window if stride is None else validation.check_positive_pair(stride, "stride")
    if padding not in validation.PADDING_WORDS:
        raise ValueError(f"padding must be 'valid' or 'same' for pooling, got {padding!r}")
    pads, out_size = convolution._window_plan(x.shape[1:3], window, strides, padding, "pool_size")
    return x, window, strides, pads, out_size


def max_pool2d_backward(grad_output, x, pool_size=2, stride=None, padding="valid", output=None):
    """Gradient of :func:`cnn_course.ops.max_pool2d` with respect to its input.

    Each window passes its output gradient to the one input that won the
    maximum; every other input of the window gets nothing from it (a small
    change to a loser does not change the maximum). With overlapping windows
    a pixel that wins several of them receives the sum. If several cells of
    one window tie for the maximum, the first in row-major order takes it all,
    as TensorFlow does.

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    grad_output : ndarray of shape (N, H', W', C)
    x : ndarray of shape (N, H, W, C)
        The input of the forward pass.
    pool_size : int or tuple of (int, int), default 2
    stride : int or tuple of (int, int), optional
        Defaults to ``pool_size``.
    padding : {"valid", "same"}, default "valid"
    output : ndarray of shape (N, H', W', C), optional
        ``max_pool2d(x, ...)`` if the forward pass kept it; saves computing it again.

    Returns
    -------
    ndarray of shape (N, H, W, C)
    """
    x, window, strides, pads, (out_h, out_w) = _pool_plan(x, pool_size, stride, padding)
    n, height, width, channels = x.shape
    grad_output = _check_grad_output(grad_output, (n, out_h, out_w, channels), "pooled output (N, H', W', C)")
    if output is not None and np.shape(output) != grad_output.shape:
        raise ValueError(f"output must have shape (N, H', W', C) = {grad_output.shape}, got shape {np.shape(output)}")
    (top, bottom), (left, right) = pads
    # -inf in the border: a padded cell never wins a maximum, as in the forward pass.
    padded = convolution.pad2d(x, pads, value=-np.inf) if top + bottom + left + right else x
    offsets = list(_offset_slices(window, strides, (out_h, out_w)))
    if output is None:
        maximum = padded[offsets[0][2]].copy()
        for _, _, where in offsets[1:]:
            np.maximum(maximum, padded[where], out=maximum)
    else:
        maximum = np.asarray(output)
    grad_padded = np.zeros(padded.shape, dtype=np.result_type(x, grad_output))
    # Windows that do not overlap write to different cells, so their gradients
    # can be stored directly; overlapping ones must add up.
    overlapping = strides[0] < window[0] or strides[1] < window[1]
    # Which windows have already given their gradient away (to their first maximum).
    taken = np.zeros(maximum.shape, dtype=bool)
    for _, _, where in offsets:
        winner = padded[where] == maximum
        winner &= ~taken
        taken |= winner
        if overlapping:
            grad_padded[where] += winner * grad_output
        else:
            np.multiply(winner, grad_output, out=grad_padded[where])
    return grad_padded[:, top : top + height, left : left + width, :]


def avg_pool2d_backward(grad_output, x, pool_size=2, stride=None, padding="valid"):
    """Gradient of :func:`cnn_course.ops.avg_pool2d` with respect to its input.

    A window's output is the mean of its ``count`` real cells, so each of them
    receives ``grad_output / count`` (with ``"same"`` padding, ``count``
    leaves out the padded cells, as the forward pass does). Overlapping
    windows add up.

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    grad_output : ndarray of shape (N, H', W', C)
    x : ndarray of shape (N, H, W, C)
        The input of the forward pass (only its shape is used).
    pool_size : int or tuple of (int, int), default 2
    stride : int or tuple of (int, int), optional
        Defaults to ``pool_size``.
    padding : {"valid", "same"}, default "valid"

    Returns
    -------
    ndarray of shape (N, H, W, C)
    """
    x, window, strides, pads, (out_h, out_w) = _pool_plan(x, pool_size, stride, padding)
    n, height, width, channels = x.shape
    grad_output = _check_grad_output(grad_output, (n, out_h, out_w, channels), "pooled output (N, H', W', C)")
    (top, bottom), (left, right) = pads
    padded_shape = (height + top + bottom, width + left + right)
    offsets = list(_offset_slices(window, strides, (out_h, out_w)))
    # Count the real cells of each window: 1 inside the image, 0 in the border.
    inside = np.zeros((1,) + padded_shape + (1,), dtype=grad_output.dtype)
    inside[:, top : top + height, left : left + width, :] = 1.0
    count = sum(inside[where] for _, _, where in offsets)
    share = grad_output / count
    grad_padded = np.zeros((n,) + padded_shape + (channels,), dtype=share.dtype)
    for _, _, where in offsets:
        grad_padded[where] += share
    return grad_padded[:, top : top + height, left : left + width, :]


def relu_backward(grad_output, x):
    """Gradient of :func:`cnn_course.ops.relu`: pass the gradient where ``x > 0``, block it elsewhere.

    ReLU's slope is 1 for a positive input and 0 for a negative one; at
    exactly 0 we use 0, as TensorFlow does.

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    grad_output : ndarray of the same shape as ``x``
    x : ndarray of any shape
        The input of the forward pass.

    Returns
    -------
    ndarray of the same shape as ``x``
    """
    x = validation.as_float_array(x, "x")
    grad_output = _check_grad_output(grad_output, x.shape, "input x")
    return np.where(x > 0, grad_output, 0.0).astype(grad_output.dtype, copy=False)


def flatten_backward(grad_output, input_shape):
    """Gradient of :func:`cnn_course.ops.flatten`: reshape back to the input's shape.

    Flattening moves no value and changes none, so the gradient is the same
    numbers in the input's layout.

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    grad_output : ndarray of shape (N, D)
        ``D`` is the product of the input's non-batch sizes.
    input_shape : tuple of int
        ``(N, d1, d2, ...)``, the shape of the forward pass's input.

    Returns
    -------
    ndarray of shape ``input_shape``
    """
    input_shape = tuple(input_shape)
    if len(input_shape) < 1:
        raise ValueError(f"input_shape must be (N, ...) with a batch axis, got {input_shape}")
    expected = (input_shape[0], int(np.prod(input_shape[1:], dtype=np.int64)))
    grad_output = _check_grad_output(grad_output, expected, "flattened output (N, D)")
    return grad_output.reshape(input_shape)


def dense_backward(grad_output, x, weights):
    """Gradients of :func:`cnn_course.ops.dense` (``x @ weights + bias``).

    ``grad_x = grad_output @ weights.T``, ``grad_weights = x.T @ grad_output``
    (summed over the batch) and ``grad_bias`` is ``grad_output`` summed over
    the batch.

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    grad_output : ndarray of shape (N, D_out)
    x : ndarray of shape (N, D_in)
        The input of the forward pass.
    weights : ndarray of shape (D_in, D_out)

    Returns
    -------
    grad_x : ndarray of shape (N, D_in)
    grad_weights : ndarray of shape (D_in, D_out)
    grad_bias : ndarray of shape (D_out,)
    """
    x = validation.as_float_array(x, "x")
    weights = validation.as_float_array(weights, "weights")
    validation.check_rank(x, 2, "x", "(N, D_in)")
    validation.check_rank(weights, 2, "weights", "(D_in, D_out)")
    if weights.shape[0] != x.shape[1]:
        raise ValueError(
            f"weights must have shape (D_in, D_out) with D_in = {x.shape[1]} to match x of shape "
            f"{x.shape}, got weights of shape {weights.shape}"
        )
    grad_output = _check_grad_output(grad_output, (x.shape[0], weights.shape[1]), "dense output (N, D_out)")
    return grad_output @ weights.T, x.T @ grad_output, grad_output.sum(axis=0)


def dropout_backward(grad_output, keep, rate):
    """Gradient of inverted dropout: the kept units pass ``grad_output / (1 - rate)``, the dropped ones 0.

    The forward pass multiplied each unit by ``keep / (1 - rate)``, a
    constant once the mask is drawn, so the backward pass multiplies by the
    same factor.

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    grad_output : ndarray of any shape
    keep : ndarray of bool, same shape as ``grad_output``
        The mask the forward pass drew (True where the unit was kept).
    rate : float
        The probability of dropping a unit, in [0, 1).

    Returns
    -------
    ndarray of the same shape as ``grad_output``
    """
    keep = np.asarray(keep)
    if keep.dtype != bool:
        raise TypeError(f"keep must be a boolean mask, got an array of dtype {keep.dtype}")
    grad_output = _check_grad_output(grad_output, keep.shape, "mask keep")
    if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) or not 0.0 <= rate < 1.0:
        raise ValueError(f"rate must be a float in [0, 1), got {rate!r}")
    return np.where(keep, grad_output / (1.0 - rate), 0.0).astype(grad_output.dtype, copy=False)


def _check_logits_and_labels(logits, labels, name="logits"):
    """Return the ``(N, K)`` scores and ``(N,)`` integer labels, checked; errors say ``name``."""
    logits = validation.as_float_array(logits, name)
    validation.check_rank(logits, 2, name, "(N, K)")
    count, classes = logits.shape
    if count == 0 or classes == 0:
        raise ValueError(f"{name} must have shape (N, K) with N >= 1 and K >= 1, got shape {logits.shape}")
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be an integer array of class indices, got an array of dtype {labels.dtype}")
    if labels.shape != (count,):
        raise ValueError(
            f"labels must have shape (N,) = ({count},) to match {name} of shape {logits.shape}, got shape {labels.shape}"
        )
    if labels.min() < 0 or labels.max() >= classes:
        raise ValueError(f"labels must be class indices in 0 .. {classes - 1} (K = {classes}), got {labels.min()} .. {labels.max()}")
    return logits, labels


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of ``softmax(logits)``, computed from the logits, and the probabilities.

    ``loss = mean over examples of (logsumexp(z) - z[label])``, which is
    ``-log softmax(z)[label]`` without ever taking the log of a rounded-down
    probability, so it stays finite and exact for very wrong predictions
    (like Keras's ``SparseCategoricalCrossentropy(from_logits=True)``).

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    logits : ndarray of shape (N, K)
        Scores from the last dense layer (no softmax applied).
    labels : ndarray of int, shape (N,)
        True classes, in ``0 .. K - 1``.

    Returns
    -------
    loss : float
        The mean loss over the batch.
    probabilities : ndarray of shape (N, K)
        ``softmax(logits)``, which the backward pass reuses.
    """
    logits, labels = _check_logits_and_labels(logits, labels)
    shifted = logits - logits.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    sums = exps.sum(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(sums)
    loss = -log_probabilities[np.arange(len(labels)), labels].mean()
    return float(loss), exps / sums


def softmax_cross_entropy_backward(probabilities, labels):
    """Gradient of the mean softmax cross-entropy with respect to the logits.

    ``(probabilities - one_hot(labels)) / N``: the predicted distribution
    minus the true one, divided by the batch size because the loss is a
    mean. Softmax's own derivative and the logarithm's cancel, which is why
    the two are computed together.

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    probabilities : ndarray of shape (N, K)
        ``softmax(logits)``, as returned by :func:`softmax_cross_entropy`.
    labels : ndarray of int, shape (N,)

    Returns
    -------
    ndarray of shape (N, K)
    """
    probabilities, labels = _check_logits_and_labels(probabilities, labels, "probabilities")
    grad_logits = probabilities.copy()
    grad_logits[np.arange(len(labels)), labels] -= 1.0
    grad_logits /= len(labels)
    return grad_logits
