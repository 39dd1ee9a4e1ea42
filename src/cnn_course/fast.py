"""The fast versions of the convolution's forward and backward pass.

Introduced in the chapter "Learning from scratch", section "Making it fast".
Each function here has the signature and the result of a readable function
(named in its docstring), which the tests compare it with; the layers call
these, the chapters show the readable ones. They differ in how, not in what:

- the long matrix products run on two cores at once
  (:func:`cnn_course.parallel.map_chunks`; NumPy lets go of Python's lock while
  it multiplies): the forward product in two halves of rows; in the backward
  pass the kernel's gradient on one core and the input's on the other;
- the many small copies and additions stay on the calling thread: two threads
  would spend their time waiting for each other for Python's lock, and they
  are limited by the memory's speed, not the cores';
- the im2col matrix is built in memory the thread reuses, and not kept: the
  backward pass builds it again from the input (in chapter 9's network 11 to
  18 times smaller than the matrix), so a training step keeps less memory;
- with one input channel (grey images) the im2col matrix is copied one window
  cell at a time, in long runs, instead of ``kw`` numbers at a time;
- the bias gradient is a matrix product with a vector of ones, which NumPy
  computes about 20 times faster than ``sum(axis=0)`` over 16 columns;
- the gradient with respect to the input takes the products of all window
  cells in one ``np.matmul``.

How the work is cut depends on the arrays' sizes only, never on the number of
cores, so the result is the same bit for bit on one core or on eight.
"""

import math
import threading

import numpy as np

from cnn_course import checks, convolution, gradients, parallel

__all__ = ["conv2d", "conv2d_backward"]

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
    input's gradient (the products ``grad_rows @ K[u, v].T`` of every window
    cell ``(u, v)`` in one ``np.matmul``, grouped by cell, then each added
    onto the pixels that cell read: col2im). Without ``grad_x`` (the first
    layer) a large kernel product is cut into two halves of rows instead, and
    their partial sums added.

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
        # One (C_out, C_in) matrix per window cell: the products for all kh * kw cells come
        # out of one np.matmul already grouped by cell, ready to be added onto their pixels.
        cell_weights = kernel.astype(dtype, copy=False).reshape(kh * kw, c_in, c_out).transpose(0, 2, 1)
        by_cell = np.matmul(grad_rows, cell_weights).reshape(kh * kw, n, out_h, out_w, c_in)
        (top, bottom), (left, right) = pads
        grad_padded = np.zeros((n, height + top + bottom, width + left + right, c_in), dtype)
        for u, v, where in convolution.window_offsets((kh, kw), strides, (out_h, out_w), dilation):
            grad_padded[where] += by_cell[u * kw + v]
        return grad_padded[:, top : top + height, left : left + width, :]

    if need_grad_x:
        # The calling thread takes the first task, the other core the second.
        grad_kernel, grad_x = parallel.map_chunks(lambda task: task(), [lambda: im2col().T @ grad_rows, input_gradient])
    else:
        matrix = im2col()
        grad_kernel = sum(parallel.map_chunks(lambda part: matrix[part].T @ grad_rows[part], _halves(matrix, c_out)))
        grad_x = None
    grad_bias = np.ones(len(grad_rows), dtype) @ grad_rows
    return grad_x, grad_kernel.reshape(kernel.shape), grad_bias
