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

from cnn_course import checks, convolution, losses, normalization, pooling

__all__ = [
    "conv2d_backward",
    "check_conv2d_backward",
    "max_pool2d_backward",
    "check_max_pool2d_backward",
    "avg_pool2d_backward",
    "relu_backward",
    "flatten_backward",
    "dense_backward",
    "dropout_backward",
    "global_avg_pool2d_backward",
    "batch_norm_backward",
    "softmax_backward",
    "softmax_cross_entropy_backward",
]


def _check_grad_output(grad_output, expected_shape, what):
    """Return ``grad_output`` as a float array, or raise naming both shapes."""
    grad_output = checks.as_float_array(grad_output, "grad_output")
    if grad_output.shape != tuple(expected_shape):
        raise ValueError(
            f"grad_output must have the shape of the {what}, {tuple(expected_shape)}, "
            f"got shape {grad_output.shape}"
        )
    return grad_output


def conv2d_backward(grad_output, x, kernel, stride=1, padding="valid", columns=None, need_grad_x=True, dilation=1):
    """Gradients of :func:`cnn_course.ops.conv2d` with respect to its input, kernel and bias.

    The forward pass is one matrix product ``out = columns @ K + b``, with
    ``columns`` the im2col matrix of ``x`` (one window per row) and ``K``
    the kernel reshaped to ``(kh * kw * C_in, C_out)``. The chain rule for a
    matrix product gives the three gradients:

    - ``grad_kernel = columns.T @ grad_output`` (each weight collects
      ``input value * output gradient`` over every place it was used);
    - ``grad_bias`` = ``grad_output`` summed over the batch and every pixel;
    - ``grad_columns = grad_output @ K.T``, which :func:`cnn_course.convolution.col2im` adds back
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
    dilation : int or tuple of (int, int), default 1
        The same ``dilation`` as the forward pass.

    Returns
    -------
    grad_x : ndarray of shape (N, H, W, C_in) or None
    grad_kernel : ndarray of shape (kh, kw, C_in, C_out)
    grad_bias : ndarray of shape (C_out,)
    """
    grad_output, x, kernel, columns, (strides, dilation, pads) = check_conv2d_backward(
        grad_output, x, kernel, stride, padding, columns, dilation
    )
    kh, kw, c_in, c_out = kernel.shape
    n, height, width, _ = x.shape
    out_h, out_w = grad_output.shape[1:3]
    if columns is None:
        columns = convolution.im2col(x, (kh, kw), stride=strides, padding=padding, dilation=dilation)
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
    for u, v, where in convolution.window_offsets((kh, kw), strides, (out_h, out_w), dilation):
        grad_padded[where] += (grad_rows @ kernel[u, v].T).reshape(n, out_h, out_w, c_in)
    return grad_padded[:, top : top + height, left : left + width, :], grad_kernel, grad_bias


def check_conv2d_backward(grad_output, x, kernel, stride=1, padding="valid", columns=None, dilation=1):
    """Check the arguments of :func:`conv2d_backward`; return them ready to use.

    Shared with :func:`cnn_course.fast.conv2d_backward`, so that both refuse
    the same mistakes with the same message.

    Returns
    -------
    grad_output, x, kernel : ndarray
        As float arrays.
    columns : ndarray of shape (N, H', W', kh, kw, C_in) or None
        As given.
    plan : tuple
        ``(strides, dilation, pads)``: two ``(int, int)`` pairs and the zeros
        ``((top, bottom), (left, right))``.
    """
    x, kernel = checks.check_conv_operands(x, kernel)
    kh, kw, c_in, c_out = kernel.shape
    strides = checks.check_positive_pair(stride, "stride")
    dilation = checks.check_positive_pair(dilation, "dilation")
    pads, (out_h, out_w) = convolution.window_plan(x.shape[1:3], (kh, kw), strides, padding, "kernel", dilation)
    n = x.shape[0]
    grad_output = _check_grad_output(grad_output, (n, out_h, out_w, c_out), "convolution's output (N, H', W', C_out)")
    if columns is not None and np.shape(columns) != (n, out_h, out_w, kh, kw, c_in):
        raise ValueError(
            f"columns must have shape (N, H', W', kh, kw, C_in) = {(n, out_h, out_w, kh, kw, c_in)}, "
            f"got shape {np.shape(columns)}"
        )
    return grad_output, x, kernel, columns, (strides, dilation, pads)


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
    grad_output, x, window, strides, pads = check_max_pool2d_backward(grad_output, x, pool_size, stride, padding, output)
    n, height, width, channels = x.shape
    out_h, out_w = grad_output.shape[1:3]
    (top, bottom), (left, right) = pads
    # -inf in the border: a padded cell never wins a maximum, as in the forward pass.
    padded = convolution.pad2d(x, pads, value=-np.inf) if top + bottom + left + right else x
    offsets = list(convolution.window_offsets(window, strides, (out_h, out_w)))
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


def check_max_pool2d_backward(grad_output, x, pool_size=2, stride=None, padding="valid", output=None):
    """Check the arguments of :func:`max_pool2d_backward`; return them ready to use.

    Shared with :func:`cnn_course.fast.max_pool2d_backward`, so that both
    refuse the same mistakes with the same message.

    Returns
    -------
    grad_output, x : ndarray
        As float arrays.
    window, strides : tuple of (int, int)
    pads : tuple of ((int, int), (int, int))
        The border ``((top, bottom), (left, right))``.
    """
    x, window, strides, pads, (out_h, out_w) = pooling.pool_plan(x, pool_size, stride, padding)
    n, _, _, channels = x.shape
    grad_output = _check_grad_output(grad_output, (n, out_h, out_w, channels), "pooled output (N, H', W', C)")
    if output is not None and np.shape(output) != grad_output.shape:
        raise ValueError(f"output must have shape (N, H', W', C) = {grad_output.shape}, got shape {np.shape(output)}")
    return grad_output, x, window, strides, pads


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
    x, window, strides, pads, (out_h, out_w) = pooling.pool_plan(x, pool_size, stride, padding)
    n, height, width, channels = x.shape
    grad_output = _check_grad_output(grad_output, (n, out_h, out_w, channels), "pooled output (N, H', W', C)")
    (top, bottom), (left, right) = pads
    padded_shape = (height + top + bottom, width + left + right)
    offsets = list(convolution.window_offsets(window, strides, (out_h, out_w)))
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
    x = checks.as_float_array(x, "x")
    grad_output = _check_grad_output(grad_output, x.shape, "input x")
    return grad_output * (x > 0)


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
    x, weights = checks.check_dense_operands(x, weights)
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
    rate = checks.check_rate(rate)
    return np.where(keep, grad_output / (1.0 - rate), 0.0).astype(grad_output.dtype, copy=False)


def global_avg_pool2d_backward(grad_output, input_shape):
    """Gradient of :func:`cnn_course.ops.global_avg_pool2d`: each pixel gets ``grad_output / (H * W)``.

    Every pixel of a map counts once in its mean, so the gradient of the
    mean is spread evenly over the ``H x W`` pixels.

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    grad_output : ndarray of shape (N, C)
    input_shape : tuple of int
        ``(N, H, W, C)``, the shape of the forward pass's input.

    Returns
    -------
    ndarray of shape ``input_shape``
    """
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 4 or not all(
        isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size >= 1 for size in input_shape[1:]
    ):
        raise ValueError(f"input_shape must be the 4 sizes (N, H, W, C) of the forward pass's input, H, W, C >= 1, got {input_shape!r}")
    n, height, width, channels = input_shape
    grad_output = _check_grad_output(grad_output, (n, channels), "pooled output (N, C)")
    share = grad_output / (height * width)
    return np.broadcast_to(share[:, np.newaxis, np.newaxis, :], input_shape).copy()


def batch_norm_backward(grad_output, x, gamma, epsilon=1e-3, need_grad_x=True):
    """Gradients of batch normalization *with the batch's statistics* (training mode).

    The forward pass is ``y = gamma * x_hat + beta`` with
    ``x_hat = (x - mean) / sqrt(variance + epsilon)``, ``mean`` and
    ``variance`` those of the batch (:func:`cnn_course.normalization.batch_moments`,
    over the ``M`` values of each channel). Every ``x`` moves the output
    three ways: directly, through the mean and through the variance. Summing
    the three gives the compact formula, per channel:

    - ``grad_beta = sum(grad_output)``;
    - ``grad_gamma = sum(grad_output * x_hat)``;
    - ``grad_x = gamma / sqrt(variance + epsilon) * (grad_output
      - grad_beta / M - x_hat * grad_gamma / M)``,

    the sums over the batch and every pixel. The two terms subtracted are what
    the mean and the variance take back: adding a constant to a channel's
    inputs, or scaling them, does not change ``x_hat``. (At inference the
    statistics are constants and the gradient would be
    ``gamma / sqrt(variance + epsilon) * grad_output``; training never needs it.)

    Introduced in the chapter "Training CNNs in practice".

    Parameters
    ----------
    grad_output : ndarray of the shape of ``x``
        Gradient of the loss with respect to the layer's output.
    x : ndarray of shape (N, ..., C)
        The input of the forward pass: ``(N, H, W, C)`` or ``(N, D)``.
    gamma : ndarray of shape (C,)
        The scale.
    epsilon : float, default 1e-3
        The same ``epsilon`` as the forward pass.
    need_grad_x : bool, default True
        ``False`` skips ``grad_x`` (returned as None).

    Returns
    -------
    grad_x : ndarray of the shape of ``x``, or None
    grad_gamma : ndarray of shape (C,)
    grad_beta : ndarray of shape (C,)
    """
    mean, variance = normalization.batch_moments(x)
    x = checks.as_float_array(x, "x")
    gamma = checks.as_float_array(gamma, "gamma")
    if gamma.shape != (x.shape[-1],):
        raise ValueError(f"gamma must have shape (C,) = ({x.shape[-1]},) to match x of shape {x.shape}, got shape {gamma.shape}")
    grad_output = _check_grad_output(grad_output, x.shape, "input x")
    inverse_std = 1.0 / np.sqrt(variance + normalization.check_epsilon(epsilon))
    x_hat = (x - mean) * inverse_std
    axes = tuple(range(x.ndim - 1))
    grad_beta = grad_output.sum(axis=axes)
    grad_gamma = (grad_output * x_hat).sum(axis=axes)
    if not need_grad_x:
        return None, grad_gamma, grad_beta
    count = x.size // x.shape[-1]
    grad_x = (gamma * inverse_std) * (grad_output - grad_beta / count - x_hat * (grad_gamma / count))
    return grad_x, grad_gamma, grad_beta


def softmax_backward(grad_output, probabilities):
    """Gradient of :func:`cnn_course.ops.softmax` over the last axis, given its output.

    With ``p = softmax(z)``, ``dp_i / dz_j = p_i (delta_ij - p_j)``, so
    ``grad_z = p * (grad_output - sum(grad_output * p))``, the sum over the
    last axis. (Followed by cross-entropy, the two simplify to
    :func:`softmax_cross_entropy_backward`, which training uses.)

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    grad_output : ndarray of shape (N, K)
    probabilities : ndarray of shape (N, K)
        The forward pass's output.

    Returns
    -------
    ndarray of shape (N, K)
    """
    probabilities = checks.as_float_array(probabilities, "probabilities")
    grad_output = _check_grad_output(grad_output, probabilities.shape, "softmax's output")
    weighted = np.sum(grad_output * probabilities, axis=-1, keepdims=True)
    return probabilities * (grad_output - weighted)


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
        ``softmax(logits)``, as returned by :func:`cnn_course.losses.softmax_cross_entropy`.
    labels : ndarray of int, shape (N,)

    Returns
    -------
    ndarray of shape (N, K)
    """
    probabilities, labels = losses.check_scores_and_labels(probabilities, labels, "probabilities")
    grad_logits = probabilities.copy()
    grad_logits[np.arange(len(labels)), labels] -= 1.0
    grad_logits /= len(labels)
    return grad_logits
