"""Convolution in NumPy, channels-last like Keras.

Introduced in the chapters "Convolution" and "Padding and stride". Everything
here is a *cross-correlation*, as in every deep-learning framework: the kernel
is slid over the input without being flipped.
"""

import math

import numpy as np

from cnn_course import validation

__all__ = [
    "conv_output_size",
    "padding_amounts",
    "pad2d",
    "correlate2d",
    "im2col",
    "conv2d",
]

# conv2d builds its im2col matrix a few images at a time, about this many bytes,
# so that the matrix stays in the CPU's cache (a few MB on a laptop).
_CHUNK_BYTES = 4 * 2**20


def padding_amounts(size, kernel_size, stride=1, padding=0):
    """Return the zeros added ``(before, after)`` along one axis.

    ``"valid"`` adds nothing, an int ``p`` adds ``p`` on both sides, and
    ``"same"`` follows TensorFlow: the output has ``ceil(size / stride)``
    cells and the total padding ``max((out - 1) * stride + kernel_size - size, 0)``
    is split with the odd cell at the end (bottom or right).

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

    Returns
    -------
    tuple of (int, int)
        Zeros added before and after the input.
    """
    size = validation.check_int(size, "size", 0)
    kernel_size = validation.check_int(kernel_size, "kernel_size", 1)
    stride = validation.check_int(stride, "stride", 1)
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        if padding == "same":
            out = math.ceil(size / stride)
            total = max((out - 1) * stride + kernel_size - size, 0)
            return total // 2, total - total // 2
        raise ValueError(f"padding must be 'valid', 'same' or an int, got {padding!r}")
    amount, _ = validation.check_padding_amount(padding)
    return amount, amount


def conv_output_size(size, kernel_size, stride=1, padding=0):
    """Return the output length of a convolution or pooling along one axis.

    ``floor((size + 2 * padding - kernel_size) / stride) + 1`` for an int
    padding (``"valid"`` means 0), and ``ceil(size / stride)`` for ``"same"``.

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

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If the kernel is larger than the padded input, or an argument is out of range.
    """
    size = validation.check_int(size, "size", 1)
    before, after = padding_amounts(size, kernel_size, stride, padding)
    padded = size + before + after
    if kernel_size > padded:
        raise ValueError(
            f"kernel_size {kernel_size} is larger than the padded input "
            f"(size {size} + padding {before + after} = {padded})"
        )
    return (padded - kernel_size) // stride + 1


def _window_plan(shape, window, stride, padding, window_name):
    """Padding and output size along height and width for a sliding window.

    ``shape`` is the ``(H, W)`` of the input, ``window`` and ``stride`` are
    pairs; ``padding`` is a word, an int or a pair. Returns
    ``((top, bottom), (left, right)), (out_h, out_w)``.
    """
    if isinstance(padding, (tuple, list)):
        per_axis = validation.check_padding_amount(padding)
    else:
        per_axis = (padding, padding)
    pads = tuple(padding_amounts(n, k, s, p) for n, k, s, p in zip(shape, window, stride, per_axis))
    padded = tuple(n + before + after for n, (before, after) in zip(shape, pads))
    if window[0] > padded[0] or window[1] > padded[1]:
        raise ValueError(
            f"{window_name} of height x width {tuple(window)} is larger than the input: x has "
            f"height x width {tuple(shape)}, {padded} after padding={padding!r}; "
            f"{window_name} needs at most {padded}"
        )
    outs = tuple((p - k) // s + 1 for p, k, s in zip(padded, window, stride))
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
    x = validation.as_float_array(x, "x")
    validation.check_rank(x, (2, 4), "x", "(H, W) or (N, H, W, C)")
    if isinstance(padding, (tuple, list)) and len(padding) == 2 and all(
        isinstance(p, (tuple, list)) for p in padding
    ):
        (top, bottom), (left, right) = (validation.check_padding_amount(p) for p in padding)
    else:
        ph, pw = validation.check_padding_amount(padding)
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
    image = validation.as_float_array(image, "image")
    kernel = validation.as_float_array(kernel, "kernel")
    validation.check_rank(image, 2, "image", "(H, W)")
    validation.check_rank(kernel, 2, "kernel", "(kh, kw)")
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


def im2col(x, window, stride=1, padding="valid"):
    """Copy every window of ``x`` into one row, so a convolution is one matrix product.

    Introduced in the chapter "Several filters and channels".

    Parameters
    ----------
    x : ndarray of shape (N, H, W, C)
    window : int or tuple of (int, int)
        Window size ``(kh, kw)``.
    stride : int or tuple of (int, int), default 1
    padding : {"valid", "same"}, int or tuple of (int, int), default "valid"

    Returns
    -------
    ndarray of shape (N, H', W', kh, kw, C)
        ``columns[n, i, j]`` is the window whose top-left corner sits at
        ``(i * stride_h, j * stride_w)`` of the padded input; reshaped to
        ``(N * H' * W', kh * kw * C)`` it multiplies a kernel reshaped to
        ``(kh * kw * C, C_out)``.
    """
    x = validation.as_float_array(x, "x")
    validation.check_rank(x, 4, "x", "(N, H, W, C)")
    windows = _window_view(x, window, stride, padding)
    n, out_h, out_w, kh, _ = windows.shape
    # One copy of the strided view builds the whole matrix.
    return np.ascontiguousarray(windows).reshape(n, out_h, out_w, kh, -1, x.shape[3])


def _window_view(x, window, stride, padding):
    """Every window of ``x`` as a read-only strided view, shape (N, H', W', kh, kw * C).

    Pads ``x`` first when ``padding`` asks for it (a copy); the windows themselves
    are not copied.
    """
    kh, kw = validation.check_positive_pair(window, "window")
    sh, sw = validation.check_positive_pair(stride, "stride")
    pads, (out_h, out_w) = _window_plan(x.shape[1:3], (kh, kw), (sh, sw), padding, "window")
    if any(sum(p) for p in pads):
        x = pad2d(x, pads)
    x = np.ascontiguousarray(x)
    n, _, _, channels = x.shape
    step_n, step_h, step_w, _ = x.strides
    # NumPy may give a length-1 axis any stride (images[..., np.newaxis] has a
    # channel stride of 0 and still counts as contiguous), so the step between
    # neighbouring numbers is the item size, not x.strides[3].
    step_c = x.itemsize
    # In a C-ordered (N, H, W, C) array the kw * C numbers of one window row are
    # contiguous, so every window is a strided *view* of x with no copy: axis 3
    # walks the kh rows of the window, axis 4 one row's kw * C numbers.
    return np.lib.stride_tricks.as_strided(
        x,
        shape=(n, out_h, out_w, kh, kw * channels),
        strides=(step_n, step_h * sh, step_w * sw, step_h, step_c),
        writeable=False,
    )


def conv2d(x, kernel, bias=None, stride=1, padding="valid"):
    """2-D convolution (cross-correlation) of a batch of images, like ``tf.nn.conv2d``.

    Vectorised with :func:`im2col` and one matrix product. Introduced in the
    chapters "Convolution" and "Several filters and channels".

    Output size per axis: ``floor((n + 2p - k) / s) + 1`` for an int padding
    ``p`` (``"valid"`` is ``p = 0``) and ``ceil(n / s)`` for ``"same"``, whose
    odd extra zero goes to the bottom/right as in TensorFlow.

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

    Returns
    -------
    ndarray of shape (N, H', W', C_out)
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
    if min(kh, kw, c_out) < 1:
        raise ValueError(f"kernel must have kh, kw and C_out of at least 1, got shape {kernel.shape}")
    if bias is not None:
        bias = validation.as_float_array(bias, "bias")
        if bias.shape != (c_out,):
            raise ValueError(f"bias must have shape (C_out,) = ({c_out},), got shape {bias.shape}")
    dtype = np.result_type(x, kernel)
    windows = _window_view(x.astype(dtype, copy=False), (kh, kw), stride, padding)
    n, out_h, out_w = windows.shape[:3]
    weights = kernel.astype(dtype, copy=False).reshape(kh * kw * c_in, c_out)
    out = np.empty((n, out_h, out_w, c_out), dtype)
    # The im2col matrix of a whole batch is large (58 MB for 64 MNIST-sized images
    # with 32 channels) and would be written to memory and read back. A few images
    # at a time fit in the CPU's cache, which makes conv2d about 1.5 times faster
    # (benchmarks/conv2d_vs_tensorflow.py). Each chunk is the same matrix product.
    images_per_chunk = max(1, _CHUNK_BYTES // (out_h * out_w * kh * kw * c_in * np.dtype(dtype).itemsize))
    columns = np.empty((min(images_per_chunk, n), out_h, out_w, kh, kw * c_in), dtype)
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
