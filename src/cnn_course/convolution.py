"""Convolution in NumPy, channels-last like Keras.

Introduced in the chapters "Convolution" and "Padding and stride". Everything
here is a *cross-correlation*, as in every deep-learning framework: the kernel
is slid over the input without being flipped.
"""

import math

import numpy as np

from cnn_course import checks

__all__ = [
    "conv_output_size",
    "padding_amounts",
    "pad2d",
    "correlate2d",
    "window_plan",
    "window_offsets",
    "window_view",
    "im2col",
    "col2im",
    "conv2d_loops",
    "conv2d",
]

# conv2d builds its im2col matrix a few images at a time, about this many bytes,
# so that the matrix stays in the CPU's cache (a few MB on a laptop).
_CHUNK_BYTES = 4 * 2**20


def padding_amounts(size, kernel_size, stride=1, padding=0, dilation=1):
    """Return the zeros added ``(before, after)`` along one axis.

    ``"valid"`` adds nothing, an int ``p`` adds ``p`` on both sides, and
    ``"same"`` follows TensorFlow: the output has ``ceil(size / stride)``
    cells and the total padding ``max((out - 1) * stride + k - size, 0)``,
    with ``k = dilation * (kernel_size - 1) + 1`` the kernel's extent, is
    split with the odd cell at the end (bottom or right).

    Introduced in the chapter "Padding and stride".

    Parameters
    ----------
    size : int
        Input length along the axis (height or width).
    kernel_size : int
        Kernel (or pool) length along the axis.
    stride : int
        Step between two windows.
    padding : {"valid", "same"} or int
        The padding rule.
    dilation : int, default 1
        The step between the kernel's taps (1: an ordinary kernel).

    Returns
    -------
    tuple of (int, int)
        Zeros added before and after the input.
    """
    size = checks.check_int(size, "size", 0)
    kernel_size = checks.check_int(kernel_size, "kernel_size", 1)
    stride = checks.check_int(stride, "stride", 1)
    extent = checks.check_int(dilation, "dilation", 1) * (kernel_size - 1) + 1
    if isinstance(padding, (tuple, list)):
        raise TypeError(f"padding for one axis must be 'valid', 'same' or an int, got {padding!r}")
    padding = checks.check_padding(padding)
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + extent - size, 0)
        return total // 2, total - total // 2
    return padding  # (p, p): p zeros before and after


def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """Return the output length of a convolution or pooling along one axis.

    ``floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1``
    for an int padding (``"valid"`` means 0), and ``ceil(size / stride)`` for
    ``"same"``. With ``dilation = 1`` the numerator is ``size + 2 * padding - kernel_size``.

    Introduced in the chapter "Padding and stride".

    Parameters
    ----------
    size : int
        Input length (height or width), at least 1.
    kernel_size : int
        Kernel length, at least 1.
    stride : int, default 1
        Step between windows, at least 1. A *larger* stride gives a *smaller* output.
    padding : {"valid", "same"} or int, default 0
        Zeros added on each side.
    dilation : int, default 1
        The step between the kernel's taps; the kernel then spans
        ``dilation * (kernel_size - 1) + 1`` input cells.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the kernel is larger than the padded input, or an argument is out of range.
    """
    size = checks.check_int(size, "size", 1)
    before, after = padding_amounts(size, kernel_size, stride, padding, dilation)
    padded = size + before + after
    extent = dilation * (kernel_size - 1) + 1
    if extent > padded:
        spans = f"kernel_size {kernel_size}" + (f" with dilation {dilation} spans {extent} cells and" if dilation > 1 else "")
        raise ValueError(f"{spans} is larger than the padded input (size {size} + padding {before + after} = {padded})")
    return (padded - extent) // stride + 1


def window_plan(shape, window, stride, padding, window_name="window", dilation=(1, 1)):
    """Padding and output size along height and width for a sliding window.

    The one shape rule that convolution, pooling, their backward passes and
    the layers share. Introduced in the chapter "Padding and stride".

    Parameters
    ----------
    shape : tuple of (int, int)
        ``(H, W)`` of the input.
    window, stride : tuple of (int, int)
        The window's ``(kh, kw)`` and the step between windows.
    padding : {"valid", "same"}, int or tuple of (int, int)
    window_name : str, default "window"
        How an error message calls the window (``"kernel"``, ``"pool_size"``).
    dilation : tuple of (int, int), default (1, 1)
        The step between the window's taps; it spans ``d * (k - 1) + 1`` cells.

    Returns
    -------
    pads : tuple of ((int, int), (int, int))
        ``((top, bottom), (left, right))`` zeros.
    out_size : tuple of (int, int)
        ``(H', W')``.
    """
    padding = checks.check_padding(padding)
    per_axis = padding if isinstance(padding, tuple) else (padding, padding)
    pads = tuple(padding_amounts(n, k, s, p, d) for n, k, s, p, d in zip(shape, window, stride, per_axis, dilation))
    padded = tuple(n + before + after for n, (before, after) in zip(shape, pads))
    extent = tuple(d * (k - 1) + 1 for k, d in zip(window, dilation))
    if extent[0] > padded[0] or extent[1] > padded[1]:
        spans = f" spans {extent} with dilation {tuple(dilation)} and" if tuple(dilation) != (1, 1) else ""
        raise ValueError(
            f"{window_name} of height x width {tuple(window)}{spans} is larger than the input: x has "
            f"height x width {tuple(shape)}, {padded} after padding={padding!r}; "
            f"{window_name} needs at most {padded}"
        )
    outs = tuple((p - e) // s + 1 for p, e, s in zip(padded, extent, stride))
    return pads, outs


def pad2d(x, padding, value=0.0):
    """Pad the two spatial axes of an image or a batch of images.

    Introduced in the chapter "Padding and stride".

    Parameters
    ----------
    x : ndarray of shape (H, W) or (N, H, W, C)
        One grey image, or a batch of channels-last images.
    padding : int, tuple of (int, int) or tuple of ((int, int), (int, int))
        ``p`` cells on every side, ``(ph, pw)`` cells above/below and
        left/right, or ``((top, bottom), (left, right))``.
    value : float, default 0.0
        The value written in the border ("zero padding" by default).

    Returns
    -------
    ndarray of shape (H + top + bottom, W + left + right) or (N, H', W', C)
    """
    x = checks.as_float_array(x, "x")
    checks.check_rank(x, (2, 4), "x", "(H, W) or (N, H, W, C)")
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(
        isinstance(p, (tuple, list)) for p in padding
    ):
        (top, bottom), (left, right) = (checks.check_padding_amount(p) for p in padding)
    else:
        ph, pw = checks.check_padding_amount(padding)
        top, bottom, left, right = ph, ph, pw, pw
    spatial = ((top, bottom), (left, right))
    widths = spatial if x.ndim == 2 else ((0, 0),) + spatial + ((0, 0),)
    return np.pad(x, widths, mode="constant", constant_values=value)


def correlate2d(image, kernel):
    """Slide ``kernel`` over ``image`` and take the weighted sum at each place.

    The plain, loop-by-loop version derived in the chapter "Convolution":
    "valid" only (no padding), stride 1, one channel. It is kept readable
    rather than fast; :func:`conv2d` is the vectorised version.

    ``out[i, j] = sum over (u, v) of image[i + u, j + v] * kernel[u, v]``

    Parameters
    ----------
    image : ndarray of shape (H, W)
    kernel : ndarray of shape (kh, kw)
        At most as large as ``image``.

    Returns
    -------
    ndarray of shape (H - kh + 1, W - kw + 1)
    """
    image = checks.as_float_array(image, "image")
    kernel = checks.as_float_array(kernel, "kernel")
    checks.check_rank(image, 2, "image", "(H, W)")
    checks.check_rank(kernel, 2, "kernel", "(kh, kw)")
    kh, kw = kernel.shape
    if kh < 1 or kw < 1 or kh > image.shape[0] or kw > image.shape[1]:
        raise ValueError(
            f"kernel must have shape (kh, kw) with 1 <= kh <= {image.shape[0]} and "
            f"1 <= kw <= {image.shape[1]} to fit image of shape {image.shape}, "
            f"got kernel of shape {kernel.shape}"
        )
    out_h, out_w = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    out = np.zeros((out_h, out_w), dtype=np.result_type(image, kernel))
    for i in range(out_h):
        for j in range(out_w):
            window = image[i : i + kh, j : j + kw]
            out[i, j] = np.sum(window * kernel)
    return out


def im2col(x, window, stride=1, padding="valid", dilation=1):
    """Copy every window of ``x`` into one row, so a convolution is one matrix product.

    Introduced in the chapter "Several filters and channels".

    Parameters
    ----------
    x : ndarray of shape (N, H, W, C)
    window : int or tuple of (int, int)
        Window size ``(kh, kw)``.
    stride : int or tuple of (int, int), default 1
    padding : {"valid", "same"}, int or tuple of (int, int), default "valid"
    dilation : int or tuple of (int, int), default 1
        The step between the window's taps (chapter "Padding and stride").

    Returns
    -------
    ndarray of shape (N, H', W', kh, kw, C)
        ``columns[n, i, j, u, v]`` is the padded input's pixel
        ``(i * stride_h + u * dilation_h, j * stride_w + v * dilation_w)``;
        reshaped to ``(N * H' * W', kh * kw * C)`` it multiplies a kernel
        reshaped to ``(kh * kw * C, C_out)``.
    """
    x = checks.as_float_array(x, "x")
    checks.check_rank(x, 4, "x", "(N, H, W, C)")
    # One copy of the strided view builds the whole matrix.
    return np.ascontiguousarray(window_view(x, window, stride, padding, dilation))


def window_offsets(window, stride, out_size, dilation=(1, 1)):
    """The slice of the padded input that each offset ``(u, v)`` of a window reads.

    Yields ``(u, v, where)`` for every cell of a ``(kh, kw)`` window, where
    ``padded[where]`` has shape ``(N, H', W', C)``.

    Offset ``(u, v)`` of the window at output cell ``(i, j)`` reads padded
    pixel ``(i * stride_h + u * dilation_h, j * stride_w + v * dilation_w)``;
    for a fixed offset these pixels form one strided slice, so a backward pass
    is ``kh * kw`` slice additions instead of a loop over every output cell.
    """
    (kh, kw), (sh, sw), (out_h, out_w), (dh, dw) = window, stride, out_size, dilation
    for u in range(kh):
        for v in range(kw):
            top, left = u * dh, v * dw
            yield u, v, (slice(None), slice(top, top + sh * (out_h - 1) + 1, sh), slice(left, left + sw * (out_w - 1) + 1, sw))


def col2im(columns, input_shape, window, stride=1, padding="valid", dilation=1):
    """Add every window row of ``columns`` back onto the pixels it was copied from.

    The adjoint of :func:`im2col`: where windows
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
    dilation : int or tuple of (int, int), default 1

    Returns
    -------
    ndarray of shape (N, H, W, C)
    """
    columns = checks.as_float_array(columns, "columns")
    kh, kw = checks.check_positive_pair(window, "window")
    sh, sw = checks.check_positive_pair(stride, "stride")
    dilation = checks.check_positive_pair(dilation, "dilation")
    input_shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    if input_shape is None or len(input_shape) != 4 or not all(isinstance(size, (int, np.integer)) for size in input_shape):
        raise ValueError(f"input_shape must be the 4 sizes (N, H, W, C) of im2col's input, got {input_shape!r}")
    n, height, width, channels = input_shape
    pads, (out_h, out_w) = window_plan((height, width), (kh, kw), (sh, sw), padding, "window", dilation)
    expected = (n, out_h, out_w, kh, kw, channels)
    if columns.shape != expected:
        raise ValueError(f"columns must have shape (N, H', W', kh, kw, C) = {expected}, got shape {columns.shape}")
    (top, bottom), (left, right) = pads
    padded = np.zeros((n, height + top + bottom, width + left + right, channels), dtype=columns.dtype)
    # One transposed copy puts each window offset's values side by side in
    # memory, which makes the kh * kw additions below about twice as fast.
    by_offset = np.ascontiguousarray(columns.transpose(3, 4, 0, 1, 2, 5))
    for u, v, where in window_offsets((kh, kw), (sh, sw), (out_h, out_w), dilation):
        padded[where] += by_offset[u, v]
    return padded[:, top : top + height, left : left + width, :]


def window_view(x, window, stride=1, padding="valid", dilation=1):
    """Every window of ``x`` as a read-only strided view: no window is copied.

    Introduced in the chapter "Several filters and channels": :func:`im2col` is
    one copy of this view, and :func:`conv2d` copies it a few images at a time.
    Pads ``x`` first when ``padding`` asks for it (that is a copy).

    Parameters
    ----------
    x : ndarray of shape (N, H, W, C)
    window : int or tuple of (int, int)
        Window size ``(kh, kw)``.
    stride : int or tuple of (int, int), default 1
    padding : {"valid", "same"}, int or tuple of (int, int), default "valid"
    dilation : int or tuple of (int, int), default 1

    Returns
    -------
    ndarray of shape (N, H', W', kh, kw, C)
        ``view[n, i, j]`` is the window under output cell ``(i, j)``; the
        view shares memory with (the padded) ``x`` and is read-only.
    """
    x = checks.as_float_array(x, "x")
    checks.check_rank(x, 4, "x", "(N, H, W, C)")
    kh, kw = checks.check_positive_pair(window, "window")
    sh, sw = checks.check_positive_pair(stride, "stride")
    dh, dw = checks.check_positive_pair(dilation, "dilation")
    pads, (out_h, out_w) = window_plan(x.shape[1:3], (kh, kw), (sh, sw), padding, "window", (dh, dw))
    if any(sum(p) for p in pads):
        x = pad2d(x, pads)
    x = np.ascontiguousarray(x)
    n, _, _, channels = x.shape
    step_n, step_h, step_w, _ = x.strides
    # NumPy may give a length-1 axis any stride (images[..., np.newaxis] has a
    # channel stride of 0 and still counts as contiguous), so the step between
    # neighbouring numbers is the item size, not x.strides[3].
    step_c = x.itemsize
    # Every window is a strided *view* of x with no copy: axes 1 and 2 move the
    # window by the stride, axes 3 and 4 walk its kh x kw taps (dilation apart),
    # axis 5 the channels. (Without dilation a window row's kw * C numbers are
    # contiguous, and NumPy copies them as one run.)
    return np.lib.stride_tricks.as_strided(
        x,
        shape=(n, out_h, out_w, kh, kw, channels),
        strides=(step_n, step_h * sh, step_w * sw, step_h * dh, step_w * dw, step_c),
        writeable=False,
    )


def conv2d_loops(x, kernel, bias=None, stride=1, padding="valid", dilation=1):
    """The readable :func:`conv2d`: one weighted sum per output cell, with loops.

    Introduced in the chapter "Convolution". Same signature and same result as
    :func:`conv2d` (the tests check it), only slower: it visits every output
    cell of every image and sums ``window * filter`` for each output channel.

    ``out[n, i, j, c] = bias[c] + sum over (u, v, k) of
    padded[n, i s + u d, j s + v d, k] * kernel[u, v, k, c]``

    Parameters
    ----------
    x : ndarray of shape (N, H, W, C_in)
    kernel : ndarray of shape (kh, kw, C_in, C_out)
    bias : ndarray of shape (C_out,), optional
    stride : int or tuple of (int, int), default 1
    padding : {"valid", "same"}, int or tuple of (int, int), default "valid"
    dilation : int or tuple of (int, int), default 1

    Returns
    -------
    ndarray of shape (N, H', W', C_out)
    """
    x, kernel = checks.check_conv_operands(x, kernel)
    kh, kw, c_in, c_out = kernel.shape
    bias = checks.check_bias(bias, c_out)
    (sh, sw), (dh, dw) = checks.check_positive_pair(stride, "stride"), checks.check_positive_pair(dilation, "dilation")
    pads, (out_h, out_w) = window_plan(x.shape[1:3], (kh, kw), (sh, sw), padding, "window", (dh, dw))
    padded = pad2d(x, pads)
    out = np.zeros((x.shape[0], out_h, out_w, c_out), dtype=np.result_type(x, kernel))
    for n in range(x.shape[0]):
        for i in range(out_h):
            for j in range(out_w):
                # The window under output cell (i, j): kh x kw pixels, dilation apart.
                window = padded[n, i * sh : i * sh + dh * (kh - 1) + 1 : dh, j * sw : j * sw + dw * (kw - 1) + 1 : dw, :]
                for c in range(c_out):
                    out[n, i, j, c] = np.sum(window * kernel[:, :, :, c])
    if bias is not None:
        out += bias
    return out


def conv2d(x, kernel, bias=None, stride=1, padding="valid", dilation=1):
    """2-D convolution (cross-correlation) of a batch of images, like ``tf.nn.conv2d``.

    Vectorised with :func:`im2col` and one matrix product. Introduced in the
    chapters "Convolution" and "Several filters and channels".

    Output size per axis: ``floor((n + 2p - d(k - 1) - 1) / s) + 1`` for an
    int padding ``p`` (``"valid"`` is ``p = 0``; without dilation, ``d = 1``,
    the numerator is ``n + 2p - k``) and ``ceil(n / s)`` for ``"same"``,
    whose odd extra zero goes to the bottom/right as in TensorFlow.

    Parameters
    ----------
    x : ndarray of shape (N, H, W, C_in)
        Channels-last images.
    kernel : ndarray of shape (kh, kw, C_in, C_out)
        One ``(kh, kw, C_in)`` filter per output channel (Keras's layout).
    bias : ndarray of shape (C_out,), optional
        Added to every pixel of each output channel.
    stride : int or tuple of (int, int), default 1
    padding : {"valid", "same"}, int or tuple of (int, int), default "valid"
    dilation : int or tuple of (int, int), default 1
        The step between the kernel's taps, like ``tf.nn.conv2d(dilations=)``:
        a 3 x 3 kernel with dilation 2 reads a 5 x 5 patch, every other pixel.

    Returns
    -------
    ndarray of shape (N, H', W', C_out)
    """
    x, kernel = checks.check_conv_operands(x, kernel)
    kh, kw, c_in, c_out = kernel.shape
    bias = checks.check_bias(bias, c_out)
    dtype = np.result_type(x, kernel)
    windows = window_view(x.astype(dtype, copy=False), (kh, kw), stride, padding, dilation)
    n, out_h, out_w = windows.shape[:3]
    weights = kernel.astype(dtype, copy=False).reshape(kh * kw * c_in, c_out)
    out = np.empty((n, out_h, out_w, c_out), dtype)
    # The im2col matrix of a whole batch is large (58 MB for 64 MNIST-sized images
    # with 32 channels) and would be written to memory and read back. A few images
    # at a time fit in the CPU's cache, which makes conv2d about 1.5 times faster
    # (benchmarks/conv2d_vs_tensorflow.py). Each chunk is the same matrix product.
    images_per_chunk = max(1, _CHUNK_BYTES // (out_h * out_w * kh * kw * c_in * np.dtype(dtype).itemsize))
    columns = np.empty((min(images_per_chunk, n), out_h, out_w, kh, kw, c_in), dtype)
    for start in range(0, n, images_per_chunk):
        stop = min(start + images_per_chunk, n)
        chunk_columns = columns[: stop - start]
        np.copyto(chunk_columns, windows[start:stop])  # im2col of these images
        np.matmul(
            chunk_columns.reshape(-1, kh * kw * c_in), weights, out=out[start:stop].reshape(-1, c_out)
        )
    if bias is not None:
        out += bias.astype(dtype, copy=False)
    return out
