"""The exercise checks of the chapter "Several filters and channels": counts, kernels and im2col by hand.

Most of these exercises ask for several numbers at once (a shape, a
parameter count, a number of MACs...). Their checks take a tuple and check
each part on its own with :func:`cnn_course.exercises.verdict.check_parts`,
so the verdict says which parts are right and names the mistake in each
wrong one, without showing any right value. The answer checks:

- :func:`check_channels_count`: ``(kernel shape, parameters, "yes" or "no")`` of 64 filters of 5 x 5 on 32 channels;
- :func:`check_channels_macs`: ``(output shape, parameters, MACs, output bytes)`` of a small layer;
- :func:`check_channels_same_filter`: a (3, 3, 3, 1) kernel with one filter in every channel slice;
- :func:`check_channels_im2col_size`: ``(rows, columns, ratio)`` of im2col for a batch of digits;
- :func:`check_channels_two_1x1`: ``(kernel, bias)`` of one 1x1 convolution equal to two in a row.
"""

import numpy as np

from cnn_course import checks, layers, model, ops
from cnn_course.exercises import verdict

__all__ = [
    "check_channels_count",
    "check_channels_macs",
    "check_channels_same_filter",
    "check_channels_im2col_size",
    "check_channels_two_1x1",
]


def _conv_record(filters, kernel_size, input_shape, padding="valid"):
    """The course's own count of a Conv2D layer (``describe()``) and the layer."""
    network = model.Sequential([layers.Conv2D(filters, kernel_size, padding=padding)], input_shape=input_shape)
    return network.describe()[0], network.layers[0]


def check_channels_count(answer):
    """Check exercise ex-channels-count: the kernel and parameters of 64 filters of 5 x 5 on 32 channels.

    Introduced in the chapter "Several filters and channels".

    Parameters
    ----------
    answer : tuple of (tuple of 4 int, int, str) or None
        ``(kernel_shape, parameters, changes)``: the kernel's shape, the
        layer's number of parameters, and ``"yes"`` or ``"no"``: does the
        count change when the images are 224 x 224 instead of 28 x 28?
        The expected values come from the course's ``layers.Conv2D``.

    Recognises PyTorch's kernel layout, C_in and C_out swapped and the input
    channels forgotten in the shape; the biases forgotten, the input channels
    forgotten and the MACs given for the parameters in the count; and the
    belief that the count grows with the image.

    Returns
    -------
    bool
    """
    filters, kernel_size, channels, sides = 64, 5, 32, (28, 224)
    record, layer = _conv_record(filters, kernel_size, (sides[0], sides[0], channels))
    kernel = layer.params["kernel"]
    one_channel, _ = _conv_record(filters, kernel_size, (sides[0], sides[0], 1))
    larger, _ = _conv_record(filters, kernel_size, (sides[1], sides[1], channels))
    changes = "no" if larger.parameters == record.parameters else "yes"
    parts = [
        ("kernel shape", dict(
            expected=kernel.shape, asks="the kernel's shape, a tuple of 4 numbers",
            hint="the course's layout is (kh, kw, C_in, C_out).",
            mistakes=[
                ("that is PyTorch's layout, (C_out, C_in, kh, kw); the course and Keras keep (kh, kw, C_in, C_out).",
                 kernel.transpose(3, 2, 0, 1).shape),
                ("C_in and C_out are swapped: the kernel is (kh, kw, C_in, C_out), the input's channels before the "
                 "filters.", kernel.transpose(0, 1, 3, 2).shape),
                ("the input channels are missing: each filter has a 5 x 5 slice for every input channel, so the "
                 "shape has four axes, (kh, kw, C_in, C_out).", kernel.shape[:2] + kernel.shape[3:]),
            ])),
        ("parameters", dict(
            expected=record.parameters, asks="the number of parameters",
            hint="count one weight per (row, column, input channel, filter), then the biases.",
            mistakes=[
                ("the biases are missing: each filter has one bias besides its weights.", kernel.size),
                ("the input channels are missing: each filter has a 5 x 5 slice for every one of the 32 input "
                 "channels.", one_channel.parameters),
                ("that counts multiply-accumulates, the arithmetic of one 28 x 28 image. The parameters are what "
                 "the layer stores: each weight once, however many positions use it.", record.macs),
            ])),
        ("changes with the image size", dict(
            expected=changes, asks='"yes" or "no"',
            mistakes=[
                ("the same weights slide over every position, so the image's height and width never enter the "
                 "parameter count. What does grow with the image is the arithmetic, the MACs.",
                 "yes" if changes == "no" else "no"),
            ])),
    ]
    return verdict.check_parts("check_channels_count", answer, parts,
                               asks='a tuple (kernel shape, parameters, "yes" or "no"), the shape itself a tuple of 4 numbers')


def check_channels_macs(answer):
    """Check exercise ex-channels-macs: 8 filters of 3 x 3, stride 1, "valid", on a 10 x 10 x 4 input.

    Introduced in the chapter "Several filters and channels".

    Parameters
    ----------
    answer : tuple of (tuple of 3 int, int, int, int) or None
        ``(output_shape, parameters, macs, output_bytes)``: the output's
        ``(H', W', C_out)``, the layer's parameters, its multiply-accumulates
        per image, and the bytes of its output for a batch of 32 in float32.
        The expected values come from ``describe()`` of the course's
        ``layers.Conv2D``.

    Recognises, in the shape, "same" padding, one channel per input channel and
    a position missing; the biases or the input channels forgotten in the
    parameters; the input channels forgotten, a window at every input pixel,
    the biases counted and MACs equal to the weights; and, in the bytes, the
    batch forgotten, numbers instead of bytes, float64's 8 bytes, bits, and
    kilobytes or megabytes.

    Returns
    -------
    bool
    """
    filters, kernel_size, input_shape, batch = 8, 3, (10, 10, 4), 32
    bytes_per_number = np.dtype("float32").itemsize
    record, layer = _conv_record(filters, kernel_size, input_shape)
    weights = layer.params["kernel"].size
    same, _ = _conv_record(filters, kernel_size, input_shape, padding="same")
    one_channel, _ = _conv_record(filters, kernel_size, input_shape[:2] + (1,))
    positions = record.output_shape[0] * record.output_shape[1]
    h_out, w_out, _ = record.output_shape
    output_bytes = record.activations * batch * bytes_per_number
    units = [output_bytes / 1e3, output_bytes / 2**10, output_bytes / 1e6, round(output_bytes / 1e6, 3),
             round(output_bytes / 1e6, 2), output_bytes / 2**20]
    parts = [
        ("output shape", dict(
            expected=record.output_shape, asks="the output's shape (H', W', C_out), a tuple of 3 numbers",
            hint="count the positions where a 3 x 3 window fits, and give one channel per filter.",
            mistakes=[
                ("that is the size of the input: with \"valid\" padding the window must fit inside the input, so "
                 "there are fewer positions than pixels along each axis.", same.output_shape),
                ("the output has one channel per filter, not per input channel: each filter sums over all the "
                 "input channels into one feature map.", (h_out, w_out, input_shape[2])),
                ("one position is missing along each axis: there are n - k + 1 window positions, the first one "
                 "counts too.", (h_out - 1, w_out - 1, filters)),
            ])),
        ("parameters", dict(
            expected=record.parameters, asks="the number of parameters",
            hint="one weight per (row, column, input channel, filter), plus the biases.",
            mistakes=[
                ("the biases are missing: each filter has one bias besides its weights.", weights),
                ("the input channels are missing: each filter has a 3 x 3 slice for every input channel.",
                 one_channel.parameters),
            ])),
        ("MACs per image", dict(
            expected=record.macs, asks="the multiply-accumulates per image, a number",
            hint="count the output values, and the products each one sums.",
            mistakes=[
                ("the input channels are missing: each output value sums kh * kw * C_in products, over every "
                 "input channel.", one_channel.macs),
                ("that counts a window at every input pixel: there is one window per *output* position, and "
                 "\"valid\" has fewer of them.", same.macs),
                ("the bias is one addition, not a multiply-accumulate: each output value costs kh * kw * C_in "
                 "MACs, without the bias.", record.parameters * positions),
                ("that is the number of weights: each weight is used once at every output position, so multiply by "
                 "the number of positions.", weights),
            ])),
        ("output bytes", dict(
            expected=output_bytes, asks="the bytes of the output for the batch, a whole number",
            hint="count the numbers of one output, then the batch, then the bytes of a float32.",
            mistakes=[
                ("that is one image: the question asks for a batch of 32.", record.activations * bytes_per_number),
                ("that counts numbers, not bytes: each float32 takes 4 bytes.", record.activations * batch),
                ("8 bytes per number is float64: a float32 takes 4.", record.activations * batch * 8),
                ("that counts bits: a float32 is 32 bits, but the question asks for bytes (8 bits each).",
                 output_bytes * 8),
            ] + [("that is the size in kilobytes or megabytes: give it in bytes, a whole number.", size) for size in units]
        )),
    ]
    return verdict.check_parts("check_channels_macs", answer, parts,
                               asks="a tuple (output shape, parameters, MACs per image, output bytes), the shape itself a "
                                    "tuple of 3 numbers")


def check_channels_same_filter(answer, vertical):
    """Check exercise ex-channels-same-filter: a (3, 3, 3, 1) kernel with ``vertical`` in every channel slice.

    Introduced in the chapter "Several filters and channels".

    Parameters
    ----------
    answer : ndarray of shape (3, 3, 3, 1) or None
        The student's kernel, ``(kh, kw, C_in, C_out)``: one filter for a
        three-channel image whose slice ``kernel[:, :, c, 0]`` is ``vertical``
        for every channel ``c``.
    vertical : ndarray of shape (kh, kw)
        The chapter's vertical Sobel kernel.

    Recognises three filters on one channel (C_in and C_out swapped), the
    filter in the red slice only, every slice divided by 3, and PyTorch's
    layout.

    Returns
    -------
    bool
    """
    vertical = checks.as_float_array(vertical, "vertical")
    checks.check_rank(vertical, 2, "vertical", "(kh, kw)")
    channels = 3
    expected = np.repeat(vertical[:, :, np.newaxis, np.newaxis], channels, axis=2)
    red_only = np.zeros_like(expected)
    red_only[:, :, 0, 0] = vertical
    mistakes = [
        ("that is three filters on a one-channel input, (kh, kw, C_in, C_out) = (3, 3, 1, 3). The image has three "
         "channels and there is one filter: the channel axis comes before the filter axis.",
         expected.transpose(0, 1, 3, 2)),
        ("only the red slice, kernel[:, :, 0, 0], holds the filter: it belongs in the slice of every input channel.",
         red_only),
        ("each slice holds a third of the filter: that would filter the channels' mean. Each slice holds the whole "
         "filter, so that the output filters their sum.", expected / channels),
        ("that is PyTorch's layout, (C_out, C_in, kh, kw); the course's kernels are (kh, kw, C_in, C_out).",
         expected.transpose(3, 2, 0, 1)),
    ]
    return verdict.check_answer("check_channels_same_filter", answer, expected=expected, mistakes=mistakes,
                                asks="a kernel of shape (3, 3, 3, 1), (kh, kw, C_in, C_out)",
                                hint="kernel[:, :, c, 0] is the filter's slice for input channel c.")


def check_channels_im2col_size(answer):
    """Check exercise ex-channels-im2col-size: im2col of 64 MNIST digits for a 3 x 3 "same" convolution.

    Introduced in the chapter "Several filters and channels".

    Parameters
    ----------
    answer : tuple of (int, int, float) or None
        ``(rows, columns, ratio)``: the im2col matrix's rows and columns and
        how many times more numbers it holds than the batch. The expected
        values come from ``ops.im2col`` on a batch of that shape.

    Recognises "valid" instead of "same" padding (in the rows and the
    ratio), the rows of one digit only, the transposed matrix (one window per
    column), three colour channels, and the ratio turned upside down or taken
    against one digit.

    Returns
    -------
    bool
    """
    digits, side, window = 64, 28, 3
    batch = np.zeros((digits, side, side, 1))
    columns = ops.im2col(batch, window=window, padding="same")
    matrix_shape = (int(np.prod(columns.shape[:3])), int(np.prod(columns.shape[3:])))
    valid = ops.im2col(batch, window=window)
    valid_rows = int(np.prod(valid.shape[:3]))
    ratio = columns.size / batch.size
    transposed = ("that is the transposed layout, one window per column, as in CS231n's notes; this chapter's "
                  "matrix has one row per window.")
    parts = [
        ("rows", dict(
            expected=matrix_shape[0], asks="the number of rows",
            hint="there is one row per window, that is per output pixel, of every digit.",
            mistakes=[
                ("those are the windows of \"valid\" padding: \"same\" padding keeps a 28 x 28 output, so every "
                 "pixel has a window.", valid_rows),
                ("those are the rows of one digit: the matrix has one row per window of every digit in the batch.",
                 matrix_shape[0] // digits),
                (transposed, matrix_shape[1]),
            ])),
        ("columns", dict(
            expected=matrix_shape[1], asks="the number of columns",
            hint="there is one column per number in a window, kh * kw * C.",
            mistakes=[
                (transposed, matrix_shape[0]),
                ("MNIST digits have one channel, not three: a window holds kh * kw * 1 numbers.", matrix_shape[1] * 3),
            ])),
        ("ratio", dict(
            expected=ratio, asks="how many times more numbers the matrix holds than the batch", rtol=1e-3,
            hint="divide the matrix's rows times columns by the batch's 64 * 28 * 28 numbers.",
            mistakes=[
                ("that is the ratio for \"valid\" padding: with \"same\" every output pixel has a full window, "
                 "partly of zeros.", valid.size / batch.size),
                ("that is the batch over the matrix: the question asks how many times more the matrix holds.", 1 / ratio),
                ("that compares the matrix with one digit: compare it with the whole batch of 64.", ratio * digits),
            ])),
    ]
    return verdict.check_parts("check_channels_im2col_size", answer, parts, asks="a tuple (rows, columns, ratio) of numbers")


def check_channels_two_1x1(answer, first_kernel, first_bias, second_kernel, second_bias):
    """Check exercise ex-channels-two-1x1: one 1x1 convolution equal to two in a row.

    Introduced in the chapter "Several filters and channels". The expected
    kernel and bias are read off the two convolutions themselves, run with
    ``ops.conv2d`` on pixels that are 0 or one basis vector.

    Parameters
    ----------
    answer : tuple of (ndarray of shape (1, 1, C_in, C_out), ndarray of shape (C_out,)) or None
        ``(kernel, bias)`` of the single 1x1 convolution.
    first_kernel : ndarray of shape (1, 1, C_in, C_mid)
    first_bias : ndarray of shape (C_mid,)
    second_kernel : ndarray of shape (1, 1, C_mid, C_out)
    second_bias : ndarray of shape (C_out,)
        The two 1x1 convolutions, applied in this order.

    Recognises the kernel with C_in and C_out swapped, the first bias
    forgotten and the second bias forgotten.

    Returns
    -------
    bool
    """
    first_kernel = checks.as_float_array(first_kernel, "first_kernel")
    second_kernel = checks.as_float_array(second_kernel, "second_kernel")
    for kernel, name in [(first_kernel, "first_kernel"), (second_kernel, "second_kernel")]:
        checks.check_rank(kernel, 4, name, "(1, 1, C_in, C_out)")
        if kernel.shape[:2] != (1, 1):
            raise ValueError(f"{name} must have shape (1, 1, C_in, C_out), got shape {kernel.shape}")
    c_in = first_kernel.shape[2]

    def two_steps(pixels, second=second_bias):
        return ops.conv2d(ops.conv2d(pixels, first_kernel, first_bias), second_kernel, second)

    # A row of pixels: the first is 0, pixel i + 1 is the i-th basis vector of the channels.
    probes = np.concatenate([np.zeros((1, c_in)), np.eye(c_in)]).reshape(1, 1, c_in + 1, c_in)
    out = two_steps(probes)[0, 0]                                   # (C_in + 1, C_out)
    bias = out[0]
    kernel = (out[1:] - bias)[np.newaxis, np.newaxis]
    first_bias_through_second = two_steps(probes[:, :, :1], second=None)[0, 0, 0]
    parts = [
        ("kernel", dict(
            expected=kernel, asks=f"the kernel, an array of shape {kernel.shape}",
            hint="each 1x1 convolution is a dense layer on every pixel: write p @ W1 + b1, then the second layer on that.",
            mistakes=[
                ("C_in and C_out are swapped: a 1x1 kernel is (1, 1, C_in, C_out), with the input's 3 channels "
                 "before the 2 outputs.", kernel.transpose(0, 1, 3, 2)),
            ])),
        ("bias", dict(
            expected=bias, asks=f"the bias, an array of shape {bias.shape}",
            hint="put the pixel p = 0 through both convolutions: what comes out is the bias alone.",
            mistakes=[
                ("the first convolution's bias is missing: it goes through the second kernel too, like every "
                 "output of the first convolution.", np.asarray(second_bias, dtype=float)),
                ("the second convolution's own bias is missing: it is added after the second kernel.",
                 first_bias_through_second),
            ])),
    ]
    return verdict.check_parts("check_channels_two_1x1", answer, parts, asks="a tuple (kernel, bias) of two arrays")
