"""The fast versions of the convolution's and max pooling's forward and backward passes.

Introduced in the chapter "Learning from scratch", section "Making it fast".
Each function here has the signature and the result of a readable function
(named in its docstring), which the tests compare it with; the layers call
these, the chapters show the readable ones. They differ in how, not in what:

- the long matrix products run on two cores at once
  (:func:`cnn_course.parallel.map_chunks`; NumPy lets go of Python's lock while
  it multiplies): the forward product in two halves of rows; in the backward
  pass the kernel's gradient on one core and the input's on the other;
- the work NumPy can only do in many passes over memory, each a short call
  (max pooling's comparisons, col2im's additions), is a loop compiled by
  Numba that does it in one pass, window by window, while the window is in
  the cache; the loops let go of Python's lock too, so each of two threads
  runs one on half of the batch;
- the other small copies and additions stay on the calling thread: two
  threads would spend their time waiting for each other for Python's lock,
  and they are limited by the memory's speed, not the cores';
- the im2col matrix is built in memory the thread reuses, and not kept: the
  backward pass builds it again from the input (in chapter 9's network 11 to
  18 times smaller than the matrix), so a training step keeps less memory;
- with one input channel (grey images) the im2col matrix is copied one window
  cell at a time, in long runs, instead of ``kw`` numbers at a time;
- the bias gradient is a matrix product with a vector of ones, which NumPy
  computes about 20 times faster than ``sum(axis=0)`` over 16 columns;
- the gradient with respect to the input is one matrix product, whose rows
  are every window's gradient, and a compiled col2im.

How the work is cut depends on the arrays' sizes only, never on the number of
cores, so the result is the same bit for bit on one core or on eight.
"""

import math
import threading

import numba
import numpy as np

from cnn_course import checks, convolution, gradients, parallel, pooling

__all__ = ["conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward"]

# Loops compiled to machine code by Numba the first time they run (and kept on disk, so
# later runs load them): ``nogil`` lets a second thread run one at the same time.
_compiled = numba.njit(nogil=True, cache=True)

# im2col of at most this many bytes at a time: a training batch of MNIST-sized images in one
# go, a large batch at inference a few dozen images at a time.
_CHUNK_BYTES = 8 * 2**20

_scratch_space = threading.local()


def _scratch(shape, dtype):
    """An uninitialised array for this thread to reuse, instead of a new allocation per call."""
    size = math.prod(shape)
    buffer = getattr(_scratch_space, str(np.dtype(dtype)), None)
    if buffer is None or buffer.size < size:
        buffer = np.empty(size, dtype)
        setattr(_scratch_space, str(np.dtype(dtype)), buffer)
    return buffer[:size].reshape(shape)


def _columns(windows, dtype):
    """The im2col matrix of a window view, (rows, kh * kw * C_in), in this thread's scratch space.

    With one input channel (a grey image) the windows are copied one window
    cell at a time: copying whole windows would move ``kw`` numbers at a time,
    copying a cell moves a whole output row of pixels. The matrix is then the
    transpose of a C-ordered one, which a matrix product takes as it is.
    """
    count, out_h, out_w, kh, kw, c_in = windows.shape
    if c_in == 1:
        cells = _scratch((kh, kw, count, out_h, out_w), dtype)
        for u in range(kh):
            for v in range(kw):
                np.copyto(cells[u, v], windows[:, :, :, u, v, 0])
        return cells.reshape(kh * kw, -1).T
    columns = _scratch(windows.shape, dtype)
    np.copyto(columns, windows)
    return columns.reshape(-1, kh * kw * c_in)


def _halves(columns, c_out):
    """The rows of a product ``columns @ (kh * kw * C_in, c_out)`` in two halves, one per core.

    One part below 2**25 multiply-adds: a smaller product (chapter 9's first
    layer) gains less from a second core than moving its rows there costs.
    """
    return parallel.split(columns.shape[0], 1 if columns.size * c_out < 2**25 else 2)


def conv2d(x, kernel, bias=None, stride=1, padding="valid", dilation=1):
    """:func:`cnn_course.ops.conv2d` on two cores: the same signature and result.

    The im2col copy is made by the calling thread (many small copies, which
    two threads would only make wait for each other for Python's lock); its
    matrix product is cut into two halves of rows, one per core.

    Returns
    -------
    ndarray of shape (N, H', W', C_out)
    """
    x, kernel = checks.check_conv_operands(x, kernel)
    kh, kw, c_in, c_out = kernel.shape
    bias = checks.check_bias(bias, c_out)
    dtype = np.result_type(x, kernel)
    windows = convolution.window_view(x.astype(dtype, copy=False), (kh, kw), stride, padding, dilation)
    n, out_h, out_w = windows.shape[:3]
    weights = kernel.astype(dtype, copy=False).reshape(kh * kw * c_in, c_out)
    output = np.empty((n, out_h, out_w, c_out), dtype)
    for images in parallel.split(n, math.ceil(windows.size * windows.itemsize / _CHUNK_BYTES)):
        columns = _columns(windows[images], dtype)
        rows = output[images].reshape(-1, c_out)

        def product(part, columns=columns, rows=rows):
            np.matmul(columns[part], weights, out=rows[part])

        parallel.map_chunks(product, _halves(columns, c_out))
    if bias is not None:
        output += bias.astype(dtype, copy=False)
    return output


def conv2d_backward(grad_output, x, kernel, stride=1, padding="valid", columns=None, need_grad_x=True, dilation=1):
    """:func:`cnn_course.gradients.conv2d_backward` on two cores: the same signature and result.

    Two tasks run at the same time, one per core: the kernel's gradient (the
    im2col matrix, then ``grad_kernel = columns.T @ grad_rows``), and the
    input's gradient (``grad_rows @ K.T``, whose rows are every window's
    gradient, then a compiled col2im adds each onto the pixels its window
    read). Without ``grad_x`` (the first layer) a large kernel product is cut
    into two halves of rows instead, and their partial sums added.

    Returns
    -------
    grad_x : ndarray of shape (N, H, W, C_in) or None
    grad_kernel : ndarray of shape (kh, kw, C_in, C_out)
    grad_bias : ndarray of shape (C_out,)
    """
    grad_output, x, kernel, columns, (strides, dilation, pads) = gradients.check_conv2d_backward(
        grad_output, x, kernel, stride, padding, columns, dilation
    )
    kh, kw, c_in, c_out = kernel.shape
    n, height, width, _ = x.shape
    out_h, out_w = grad_output.shape[1:3]
    dtype = np.result_type(x, kernel, grad_output)
    grad_rows = grad_output.reshape(-1, c_out).astype(dtype, copy=False)

    def im2col():
        if columns is not None:
            return np.asarray(columns).astype(dtype, copy=False).reshape(-1, kh * kw * c_in)
        return _columns(convolution.window_view(x.astype(dtype, copy=False), (kh, kw), strides, padding, dilation), dtype)

    def input_gradient():
        # Each window's gradient, (kh, kw, C_in) numbers, is one row of one product; the
        # compiled col2im then adds each window's numbers onto the pixels it read.
        by_window = (grad_rows @ kernel.astype(dtype, copy=False).reshape(-1, c_out).T).reshape(n, out_h, out_w, kh, kw, c_in)
        grad_x = np.zeros((n, height, width, c_in), dtype)
        (top, _), (left, _) = pads
        return _col2im_loop(by_window, strides, dilation, (top, left), grad_x)

    if need_grad_x:
        # The calling thread takes the first task, the other core the second.
        grad_kernel, grad_x = parallel.map_chunks(lambda task: task(), [lambda: im2col().T @ grad_rows, input_gradient])
    else:
        matrix = im2col()
        grad_kernel = sum(parallel.map_chunks(lambda part: matrix[part].T @ grad_rows[part], _halves(matrix, c_out)))
        grad_x = None
    grad_bias = np.ones(len(grad_rows), dtype) @ grad_rows
    return grad_x, grad_kernel.reshape(kernel.shape), grad_bias


@_compiled
def _span(index, stride, before, window, size):
    """The input rows (or columns) ``first, end`` that window ``index`` covers, the border left out."""
    start = index * stride - before
    return max(start, 0), min(start + window, size)


@_compiled
def _max_pool_loop(x, window, strides, top_left, output):
    """Fill ``output`` (N, H', W', C) with the largest value of each window of ``x``, in one pass.

    A window's cells in the padded border (-inf in the readable version) are
    skipped: they are never the maximum.
    """
    (ph, pw), (sh, sw), (top, left) = window, strides, top_left
    n, height, width, channels = x.shape
    _, out_h, out_w, _ = output.shape
    for b in range(n):
        for i in range(out_h):
            first_row, end_row = _span(i, sh, top, ph, height)
            for j in range(out_w):
                first_column, end_column = _span(j, sw, left, pw, width)
                for c in range(channels):
                    output[b, i, j, c] = x[b, first_row, first_column, c]
                for row in range(first_row, end_row):
                    for column in range(first_column, end_column):
                        for c in range(channels):
                            value = x[b, row, column, c]
                            # A NaN, once met, stays the maximum (as with np.maximum).
                            if value > output[b, i, j, c] or value != value:
                                output[b, i, j, c] = value
    return output


@_compiled
def _max_pool_backward_loop(grad_output, x, window, strides, top_left, overlapping, grad_x):
    """Give each window's gradient to its first maximum, in one pass over ``x``.

    Without ``overlapping`` each cell of ``grad_x`` that a window covers is
    written once (the gradient or 0), so ``grad_x`` need not start at zero
    there; with it, the gradients are added onto a zeroed ``grad_x``.
    """
    (ph, pw), (sh, sw), (top, left) = window, strides, top_left
    n, height, width, channels = x.shape
    _, out_h, out_w, _ = grad_output.shape
    best = np.empty(channels, x.dtype)
    winner = np.empty(channels, np.int64)  # row * width + column of the window's first maximum
    has_nan = np.empty(channels, np.bool_)  # then the maximum is NaN, equal to no cell: no winner
    zero = np.zeros(1, grad_x.dtype)[0]
    for b in range(n):
        for i in range(out_h):
            first_row, end_row = _span(i, sh, top, ph, height)
            for j in range(out_w):
                first_column, end_column = _span(j, sw, left, pw, width)
                for c in range(channels):
                    best[c] = x[b, first_row, first_column, c]
                    winner[c] = first_row * width + first_column
                    has_nan[c] = False
                for row in range(first_row, end_row):
                    for column in range(first_column, end_column):
                        for c in range(channels):
                            value = x[b, row, column, c]
                            if value > best[c]:
                                best[c] = value
                                winner[c] = row * width + column
                            has_nan[c] |= value != value
                for row in range(first_row, end_row):
                    for column in range(first_column, end_column):
                        for c in range(channels):
                            won = winner[c] == row * width + column and not has_nan[c]
                            share = grad_output[b, i, j, c] if won else zero
                            if overlapping:
                                grad_x[b, row, column, c] += share
                            else:
                                grad_x[b, row, column, c] = share
    return grad_x


@_compiled
def _col2im_loop(by_window, strides, dilation, top_left, grad_x):
    """Add every window's ``(kh, kw, C_in)`` gradient onto the pixels it read: col2im, one pass.

    ``by_window`` has shape (N, H', W', kh, kw, C_in); ``grad_x`` (N, H, W,
    C_in) starts at zero. Cells in the padded border are skipped.
    """
    (sh, sw), (dh, dw), (top, left) = strides, dilation, top_left
    n, out_h, out_w, kh, kw, channels = by_window.shape
    _, height, width, _ = grad_x.shape
    for b in range(n):
        for i in range(out_h):
            for j in range(out_w):
                for u in range(kh):
                    row = i * sh + u * dh - top
                    if row < 0 or row >= height:
                        continue
                    for v in range(kw):
                        column = j * sw + v * dw - left
                        if column < 0 or column >= width:
                            continue
                        for c in range(channels):
                            grad_x[b, row, column, c] += by_window[b, i, j, u, v, c]
    return grad_x


def _image_halves(n, size):
    """The batch in two halves of images, one per core, if the arrays hold 2**18 numbers or more."""
    return parallel.split(n, 2 if size >= 2**18 else 1)


def max_pool2d(x, pool_size=2, stride=None, padding="valid"):
    """:func:`cnn_course.ops.max_pool2d` as one compiled loop, on two cores: the same signature and result.

    Returns
    -------
    ndarray of shape (N, H', W', C)
    """
    x, window, strides, ((top, _), (left, _)), (out_h, out_w) = pooling.pool_plan(x, pool_size, stride, padding)
    x = np.ascontiguousarray(x)
    output = np.empty((x.shape[0], out_h, out_w, x.shape[3]), x.dtype)
    parallel.map_chunks(
        lambda images: _max_pool_loop(x[images], window, strides, (top, left), output[images]),
        _image_halves(len(x), x.size),
    )
    return output


def max_pool2d_backward(grad_output, x, pool_size=2, stride=None, padding="valid", output=None):
    """:func:`cnn_course.gradients.max_pool2d_backward` as one compiled loop, on two cores: the same signature and result.

    The readable version compares every window cell with the maximum, in
    ``5 * ph * pw`` passes over the whole batch; the loop finds each window's
    first maximum and writes the window's gradient while the window is in the
    cache. ``output`` is checked but not needed.

    Returns
    -------
    ndarray of shape (N, H, W, C)
    """
    grad_output, x, window, strides, ((top, _), (left, _)) = gradients.check_max_pool2d_backward(
        grad_output, x, pool_size, stride, padding, output
    )
    dtype = np.result_type(x, grad_output)
    x = np.ascontiguousarray(x, dtype)
    grad_output = np.ascontiguousarray(grad_output, dtype)
    overlapping = strides[0] < window[0] or strides[1] < window[1]
    # Windows that tile the input (stride = pool size) write every cell they cover; the
    # cells no window covers (gaps, or the last rows and columns of "valid") start at zero.
    tiling = strides == window
    grad_x = np.empty(x.shape, dtype) if tiling else np.zeros(x.shape, dtype)
    if tiling:
        out_h, out_w = grad_output.shape[1:3]
        grad_x[:, out_h * strides[0] - top :] = 0
        grad_x[:, :, out_w * strides[1] - left :] = 0
    parallel.map_chunks(
        lambda images: _max_pool_backward_loop(
            grad_output[images], x[images], window, strides, (top, left), overlapping, grad_x[images]
        ),
        _image_halves(len(x), x.size),
    )
    return grad_x
