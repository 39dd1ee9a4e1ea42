"""The fast versions of the convolution's training functions.

Introduced in the chapter "Learning from scratch", section "Making it fast".
Each function here has the signature and the result of a readable function
(named in its docstring), which the tests compare it with; the layers call
these, the chapters show the readable ones. They differ in how, not in what:

- the batch is cut into chunks (two for a training batch of MNIST images,
  :func:`cnn_course.parallel.split`), and the chunks are computed at the same
  time on two cores (:func:`cnn_course.parallel.map_chunks`);
- a chunk's im2col matrix is built in memory the thread reuses, and not kept:
  the backward pass builds it again from the input (in chapter 9's network
  11 to 18 times smaller than the matrix), so a training step keeps less memory;
- with one input channel (grey images) the im2col matrix is copied one window
  cell at a time, in long runs, instead of ``kw`` numbers at a time;
- the bias gradient is a matrix product with a vector of ones, which NumPy
  computes about 20 times faster than ``sum(axis=0)`` over 16 columns;
- the gradient with respect to the input takes the products of all window
  cells in one ``np.matmul``.

A sum over the batch (the kernel's and the bias's gradient) is the sum of the
chunks' partial sums, always over the same chunks, so the result is the same
bit for bit on one core or on eight.
"""

import threading

import numpy as np

from cnn_course import checks, convolution, gradients, parallel

__all__ = ["conv2d", "conv2d_backward"]

_scratch_space = threading.local()


def _scratch(shape, dtype):
    """An uninitialised array for this thread to reuse, instead of a new allocation per chunk."""
    size = int(np.prod(shape))
    buffer = getattr(_scratch_space, str(np.dtype(dtype)), None)
    if buffer is None or buffer.size < size:
        buffer = np.empty(size, dtype)
        setattr(_scratch_space, str(np.dtype(dtype)), buffer)
    return buffer[:size].reshape(shape)


def _columns(windows, dtype):
    """The im2col matrix of one chunk's window view, (rows, kh * kw * C_in), in this thread's scratch space.

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


def _image_chunks(windows):
    """The chunks of a batch whose window view is ``windows``, shared among the threads: two for a training batch."""
    n = windows.shape[0]
    return parallel.split(n, parallel.chunk_count(windows.size * windows.itemsize, n))


def conv2d(x, kernel, bias=None, stride=1, padding="valid", dilation=1):
    """:func:`cnn_course.ops.conv2d` on every core: the same signature and result.

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

    def compute(part):
        rows = output[part].reshape(-1, c_out)
        np.matmul(_columns(windows[part], dtype), weights, out=rows)
        if bias is not None:
            rows += bias.astype(dtype, copy=False)

    parallel.map_chunks(compute, _image_chunks(windows))
    return output


def conv2d_backward(grad_output, x, kernel, stride=1, padding="valid", columns=None, need_grad_x=True, dilation=1):
    """:func:`cnn_course.gradients.conv2d_backward` on every core: the same signature and result.

    Per chunk of images: the chunk's im2col matrix (unless ``columns`` is
    given), ``grad_kernel`` and ``grad_bias`` partial sums, and ``grad_x``:
    the products ``grad_rows @ K[u, v].T`` of all window cells in one
    ``np.matmul``, each added onto the pixels its cell read (col2im).

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
    windows = convolution.window_view(x.astype(dtype, copy=False), (kh, kw), strides, padding, dilation) if columns is None else np.asarray(columns)
    (top, bottom), (left, right) = pads
    grad_x = np.empty((n, height, width, c_in), dtype) if need_grad_x else None
    # One (C_out, C_in) matrix per window cell: the products for all kh * kw cells come
    # out of one np.matmul already grouped by cell, ready to be added onto their pixels.
    cell_weights = kernel.astype(dtype, copy=False).reshape(kh * kw, c_in, c_out).transpose(0, 2, 1)

    def compute(part):
        grad_rows = grad_output[part].reshape(-1, c_out).astype(dtype, copy=False)
        grad_kernel = _columns(windows[part], dtype).T @ grad_rows
        grad_bias = np.ones(len(grad_rows), dtype) @ grad_rows
        if need_grad_x:
            count = part.stop - part.start
            by_cell = np.matmul(grad_rows, cell_weights).reshape(kh * kw, count, out_h, out_w, c_in)
            grad_padded = np.zeros((count, height + top + bottom, width + left + right, c_in), dtype)
            for u, v, where in convolution.window_offsets((kh, kw), strides, (out_h, out_w), dilation):
                grad_padded[where] += by_cell[u * kw + v]
            grad_x[part] = grad_padded[:, top : top + height, left : left + width, :]
        return grad_kernel, grad_bias

    partial = parallel.map_chunks(compute, _image_chunks(windows))
    grad_kernel = sum(kernel_part for kernel_part, _ in partial).reshape(kernel.shape)
    grad_bias = sum(bias_part for _, bias_part in partial)
    return grad_x, grad_kernel, grad_bias
