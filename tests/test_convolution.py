"""conv_output_size, pad2d, correlate2d, im2col and conv2d against TensorFlow and the formulas."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnn_course import ops

from numerics import assert_float64_close, assert_within, sum_tolerance
from strategies import FLOAT_DTYPES, WINDOW_CASES, arrays, window_case


def tf_conv2d(tf, x, kernel, stride, padding):
    """TensorFlow's answer for any padding our conv2d takes (ints become explicit padding)."""
    if isinstance(padding, str):
        tf_padding = padding.upper()
    else:
        ph, pw = padding if isinstance(padding, tuple) else (padding, padding)
        tf_padding = [[0, 0], [ph, ph], [pw, pw], [0, 0]]
    strides = stride if isinstance(stride, tuple) else (stride, stride)
    return tf.nn.conv2d(x, kernel, strides=[1, *strides, 1], padding=tf_padding).numpy()


# --- conv_output_size -------------------------------------------------------------------

@given(
    size=st.integers(1, 64),
    kernel_size=st.integers(1, 9),
    stride=st.integers(1, 5),
    padding=st.integers(0, 4),
)
def test_output_size_formula(size, kernel_size, stride, padding):
    if kernel_size > size + 2 * padding:
        with pytest.raises(ValueError, match="kernel_size"):
            ops.conv_output_size(size, kernel_size, stride, padding)
        return
    expected = math.floor((size + 2 * padding - kernel_size) / stride) + 1
    assert ops.conv_output_size(size, kernel_size, stride, padding) == expected


@given(size=st.integers(1, 64), kernel_size=st.integers(1, 9), stride=st.integers(1, 5))
def test_output_size_same_is_ceil_and_valid_is_zero_padding(size, kernel_size, stride):
    assert ops.conv_output_size(size, kernel_size, stride, "same") == math.ceil(size / stride)
    if kernel_size <= size:
        assert ops.conv_output_size(size, kernel_size, stride, "valid") == ops.conv_output_size(
            size, kernel_size, stride, 0
        )


@given(size=st.integers(1, 40), half=st.integers(0, 4))
def test_half_and_full_padding(size, half):
    """Dumoulin & Visin: odd k with p = (k-1)/2 keeps the size; p = k-1 grows it by k-1."""
    kernel_size = 2 * half + 1
    assert ops.conv_output_size(size, kernel_size, 1, half) == size
    assert ops.conv_output_size(size, kernel_size, 1, kernel_size - 1) == size + kernel_size - 1


def test_larger_stride_gives_smaller_output():
    sizes = [ops.conv_output_size(28, 3, stride, 1) for stride in (1, 2, 3, 4)]
    assert sizes == [28, 14, 10, 7]
    assert sizes == sorted(sizes, reverse=True)


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ((0, 3), ValueError, "size"),
        ((5.0, 3), TypeError, "size"),
        ((5, 0), ValueError, "kernel_size"),
        ((5, 3, 0), ValueError, "stride"),
        ((5, 3, 1.5), TypeError, "stride"),
        ((5, 3, 1, -1), ValueError, "padding"),
        ((5, 3, 1, "full"), ValueError, "padding"),
        ((5, 3, 1, 1.0), TypeError, "padding"),
        ((2, 5, 1, "valid"), ValueError, "kernel_size 5 is larger"),
        ((True, 1), TypeError, "size"),
    ],
)
def test_output_size_bad_input(arguments, error, message):
    with pytest.raises(error, match=message):
        ops.conv_output_size(*arguments)


def test_padding_amounts_same_puts_odd_zero_at_the_end():
    assert ops.padding_amounts(5, 2, 1, "same") == (0, 1)
    assert ops.padding_amounts(5, 4, 1, "same") == (1, 2)
    assert ops.padding_amounts(6, 3, 2, "same") == (0, 1)
    assert ops.padding_amounts(7, 3, 2, "same") == (1, 1)
    assert ops.padding_amounts(7, 3, 2, "valid") == (0, 0)
    assert ops.padding_amounts(7, 3, 2, 2) == (2, 2)


# --- pad2d ------------------------------------------------------------------------------

def test_pad2d_one_pixel_border_of_zeros():
    image = np.arange(1, 10, dtype=float).reshape(3, 3)
    padded = ops.pad2d(image, 1)
    assert padded.shape == (5, 5)
    np.testing.assert_array_equal(padded[1:-1, 1:-1], image)
    assert np.count_nonzero(padded) == 9


def test_pad2d_batch_pairs_and_value():
    x = np.ones((2, 3, 4, 5))
    padded = ops.pad2d(x, ((1, 2), (0, 3)), value=-1.0)
    assert padded.shape == (2, 6, 7, 5)
    assert np.all(padded[:, 0] == -1) and np.all(padded[:, -2:] == -1) and np.all(padded[:, :, -3:] == -1)
    assert ops.pad2d(x, (2, 1)).shape == (2, 7, 6, 5)


@pytest.mark.parametrize(
    "x, padding, error, message",
    [
        (np.ones((3, 3, 3)), 1, ValueError, r"x must have shape \(H, W\) or \(N, H, W, C\).*\(3, 3, 3\)"),
        (np.ones((3, 3)), -1, ValueError, "padding must not be negative"),
        (np.ones((3, 3)), "same", TypeError, "padding"),
        (np.ones((3, 3)), 1.5, TypeError, "padding"),
        ("abc", 1, TypeError, "x must be a numeric array"),
    ],
)
def test_pad2d_bad_input(x, padding, error, message):
    with pytest.raises(error, match=message):
        ops.pad2d(x, padding)


# --- correlate2d ------------------------------------------------------------------------

def test_correlate2d_by_hand():
    image = np.arange(16, dtype=float).reshape(4, 4)
    kernel = np.array([[1.0, 0.0], [0.0, -1.0]])
    expected = image[:-1, :-1] - image[1:, 1:]
    np.testing.assert_array_equal(ops.correlate2d(image, kernel), expected)


@given(case=window_case(explicit_padding=False), dtype=FLOAT_DTYPES, data=st.data())
def test_correlate2d_matches_tensorflow(tf, case, dtype, data):
    (_, height, width), window, _, _ = case
    if window[0] > height or window[1] > width:
        return
    image = data.draw(arrays(dtype, (height, width)))
    kernel = data.draw(arrays(dtype, window))
    image64, kernel64 = image.astype(np.float64), kernel.astype(np.float64)

    def tf_correlate(a, k):
        return tf_conv2d(tf, a[None, :, :, None], k[:, :, None, None], 1, "valid")[0, :, :, 0]

    expected = tf_correlate(image64, kernel64)
    magnitude = tf_correlate(np.abs(image64), np.abs(kernel64))  # sum |image * kernel| of each output
    assert_float64_close(ops.correlate2d(image64, kernel64), expected, magnitude)
    result = ops.correlate2d(image, kernel)
    assert result.dtype == dtype
    if dtype == np.float32:  # each output is a sum of kh * kw products
        assert_within(result, expected, sum_tolerance(magnitude, kernel.size))


@pytest.mark.parametrize(
    "image, kernel, message",
    [
        (np.ones((3, 3, 1)), np.ones((2, 2)), r"image must have shape \(H, W\)"),
        (np.ones((3, 3)), np.ones((2, 2, 1)), r"kernel must have shape \(kh, kw\)"),
        (np.ones((3, 3)), np.ones((4, 2)), r"got kernel of shape \(4, 2\)"),
    ],
)
def test_correlate2d_bad_input(image, kernel, message):
    with pytest.raises(ValueError, match=message):
        ops.correlate2d(image, kernel)


# --- conv2d -----------------------------------------------------------------------------

@given(
    case=window_case(),
    channels_in=st.integers(1, 4),
    channels_out=st.integers(1, 4),
    dtype=FLOAT_DTYPES,
    use_bias=st.booleans(),
    data=st.data(),
)
def test_conv2d_matches_tensorflow(tf, case, channels_in, channels_out, dtype, use_bias, data):
    (batch, height, width), window, stride, padding = case
    x = data.draw(arrays(dtype, (batch, height, width, channels_in)))
    kernel = data.draw(arrays(dtype, (*window, channels_in, channels_out)))
    bias = data.draw(arrays(dtype, (channels_out,))) if use_bias else None
    x64, kernel64 = x.astype(np.float64), kernel.astype(np.float64)
    bias64 = None if bias is None else bias.astype(np.float64)
    # The mathematics in float64; magnitude is sum |x * kernel| (+ |bias|) of each output.
    expected = tf_conv2d(tf, x64, kernel64, stride, padding) + (0 if bias is None else bias64)
    magnitude = tf_conv2d(tf, np.abs(x64), np.abs(kernel64), stride, padding) + (0 if bias is None else np.abs(bias64))
    assert_float64_close(ops.conv2d(x64, kernel64, bias64, stride=stride, padding=padding), expected, magnitude)
    result = ops.conv2d(x, kernel, bias, stride=stride, padding=padding)
    assert result.dtype == dtype
    if dtype == np.float32:  # each output is a sum of kh * kw * C_in products, plus the bias
        terms = window[0] * window[1] * channels_in + (bias is not None)
        assert_within(result, expected, sum_tolerance(magnitude, terms))


@given(case=window_case(), data=st.data())
def test_conv2d_shape_follows_the_output_size_formula(case, data):
    (batch, height, width), window, stride, padding = case
    stride_pair = stride if isinstance(stride, tuple) else (stride, stride)
    pad_pair = padding if isinstance(padding, tuple) else (padding, padding)
    out = ops.conv2d(np.zeros((batch, height, width, 2)), np.zeros((*window, 2, 3)), stride=stride, padding=padding)
    expected = tuple(
        ops.conv_output_size(n, k, s, p) for n, k, s, p in zip((height, width), window, stride_pair, pad_pair)
    )
    assert out.shape == (batch, *expected, 3)


def test_conv2d_real_sizes():
    x = np.zeros((2, 28, 28, 1), dtype=np.float32)
    assert ops.conv2d(x, np.zeros((3, 3, 1, 8), np.float32)).shape == (2, 26, 26, 8)
    assert ops.conv2d(x, np.zeros((3, 3, 1, 8), np.float32), padding="same").shape == (2, 28, 28, 8)
    assert ops.conv2d(x, np.zeros((5, 5, 1, 8), np.float32), stride=2, padding=2).shape == (2, 14, 14, 8)
    assert ops.conv2d(x, np.zeros((3, 3, 1, 8), np.float32), padding=2).shape == (2, 30, 30, 8)


def test_conv2d_is_cross_correlation_not_convolution():
    """An asymmetric kernel shows the kernel is not flipped."""
    image = np.zeros((1, 3, 3, 1))
    image[0, 1, 1, 0] = 1.0  # an impulse
    kernel = np.arange(1.0, 10.0).reshape(3, 3, 1, 1)
    response = ops.conv2d(image, kernel, padding="same")[0, :, :, 0]
    # Correlation with an impulse gives the kernel rotated by 180 degrees.
    np.testing.assert_array_equal(response, kernel[::-1, ::-1, 0, 0])


def test_conv2d_uint8_input_is_computed_in_float():
    x = np.full((1, 3, 3, 1), 255, dtype=np.uint8)
    out = ops.conv2d(x, np.ones((3, 3, 1, 1), dtype=np.float32))
    assert out.dtype == np.float64 and out[0, 0, 0, 0] == 9 * 255


@pytest.mark.parametrize(
    "x_shape, kernel_shape, options, error, message",
    [
        ((28, 28, 1), (3, 3, 1, 1), {}, ValueError, r"x must have shape \(N, H, W, C_in\).*got shape \(28, 28, 1\)"),
        ((1, 28, 28, 1), (3, 3, 1), {}, ValueError, r"kernel must have shape \(kh, kw, C_in, C_out\)"),
        ((1, 28, 28, 3), (3, 3, 1, 8), {}, ValueError, r"C_in = 3 to match x of shape \(1, 28, 28, 3\)"),
        ((1, 2, 2, 1), (3, 3, 1, 1), {}, ValueError, r"window of height x width \(3, 3\) is larger"),
        ((1, 2, 2, 1), (3, 3, 1, 1), {"padding": 0}, ValueError, "is larger"),
        ((1, 5, 5, 1), (3, 3, 1, 1), {"stride": 0}, ValueError, "stride must be at least 1"),
        ((1, 5, 5, 1), (3, 3, 1, 1), {"stride": 1.5}, TypeError, "stride must be an int"),
        ((1, 5, 5, 1), (3, 3, 1, 1), {"stride": (1, 2, 3)}, TypeError, "stride"),
        ((1, 5, 5, 1), (3, 3, 1, 1), {"padding": -1}, ValueError, "padding must not be negative"),
        ((1, 5, 5, 1), (3, 3, 1, 1), {"padding": "full"}, ValueError, "padding must be 'valid', 'same'"),
        ((1, 5, 5, 1), (3, 3, 1, 2), {"bias": np.zeros(3)}, ValueError, r"bias must have shape \(C_out,\) = \(2,\)"),
        ((1, 5, 5, 1), (0, 3, 1, 2), {}, ValueError, "kernel must have kh, kw and C_out of at least 1"),
    ],
)
@pytest.mark.parametrize("conv", [ops.conv2d, ops.conv2d_loops], ids=["conv2d", "conv2d_loops"])
def test_conv2d_bad_input(conv, x_shape, kernel_shape, options, error, message):
    with pytest.raises(error, match=message):
        conv(np.zeros(x_shape), np.zeros(kernel_shape), **options)


@given(case=window_case(), dilation=st.sampled_from([1, 2, (1, 2)]), use_bias=st.booleans(), data=st.data())
def test_conv2d_loops_is_conv2d_written_out(case, dilation, use_bias, data):
    """The readable version of chapter 2 and the fast one compute the same mathematics (float64)."""
    (batch, height, width), window, stride, padding = case
    x = data.draw(arrays(np.float64, (batch, height, width, 2)))
    kernel = data.draw(arrays(np.float64, (*window, 2, 3)))
    bias = data.draw(arrays(np.float64, (3,))) if use_bias else None
    try:
        fast = ops.conv2d(x, kernel, bias, stride=stride, padding=padding, dilation=dilation)
    except ValueError as error:  # the dilated kernel does not fit: both must say so
        with pytest.raises(ValueError, match="larger than the input"):
            ops.conv2d_loops(x, kernel, bias, stride=stride, padding=padding, dilation=dilation)
        assert "larger than the input" in str(error)
        return
    magnitude = ops.conv2d(np.abs(x), np.abs(kernel), None if bias is None else np.abs(bias), stride=stride, padding=padding, dilation=dilation)
    assert_float64_close(ops.conv2d_loops(x, kernel, bias, stride=stride, padding=padding, dilation=dilation), fast, magnitude)


def test_window_view_is_a_read_only_view_of_the_windows():
    x = np.arange(2 * 5 * 6 * 3, dtype=np.float64).reshape(2, 5, 6, 3)
    view = ops.window_view(x, (2, 3), stride=(1, 2))
    assert view.shape == (2, 4, 2, 2, 3, 3)
    assert np.shares_memory(view, x) and not view.flags.writeable
    np.testing.assert_array_equal(view[1, 3, 1], x[1, 3:5, 2:5, :])
    np.testing.assert_array_equal(ops.im2col(x, (2, 3), stride=(1, 2)), view)
    with pytest.raises(ValueError, match=r"x must have shape \(N, H, W, C\)"):
        ops.window_view(x[0], 2)


def test_conv2d_rejects_non_numeric_input():
    with pytest.raises(TypeError, match="x must be a numeric array"):
        ops.conv2d(np.array([["a"]]), np.zeros((1, 1, 1, 1)))


# --- im2col -----------------------------------------------------------------------------

def test_im2col_rows_are_the_windows():
    x = np.arange(2 * 4 * 5 * 3, dtype=float).reshape(2, 4, 5, 3)
    columns = ops.im2col(x, (2, 3), stride=(2, 1), padding="valid")
    assert columns.shape == (2, 2, 3, 2, 3, 3)
    np.testing.assert_array_equal(columns[1, 1, 2], x[1, 2:4, 2:5, :])


def test_conv2d_on_images_whose_channel_axis_was_added_with_newaxis(tf):
    """images[..., np.newaxis] may give the channel axis any stride; the result must not care."""
    images = np.random.default_rng(3).random((2, 9, 9))[..., np.newaxis]
    assert images.strides[-1] == 0
    kernel = np.random.default_rng(4).random((3, 3, 1, 2))
    expected = tf_conv2d(tf, images, kernel, 2, "same")
    magnitude = expected  # every number is positive, so sum |x * kernel| is the sum itself
    assert_float64_close(ops.conv2d(images, kernel, stride=2, padding="same"), expected, magnitude)


# --- col2im, window_plan, window_offsets ------------------------------------------------

COL2IM_CASES = WINDOW_CASES  # the settings of the convolution backward tests too


def test_col2im_is_the_adjoint_of_im2col():
    # <im2col(x), c> = <x, col2im(c)> for every x and c: col2im is im2col's transpose.
    rng = np.random.default_rng(4)
    for height, width, window, stride, padding in COL2IM_CASES:
        x = rng.normal(size=(2, height, width, 3))
        columns = ops.im2col(x, window, stride, padding)
        other = rng.normal(size=columns.shape)
        back = ops.col2im(other, x.shape, window, stride, padding)
        assert back.shape == x.shape
        # Two float64 sums of the same products' worth: sum |x * back| <= sum |columns * other|.
        assert_float64_close(np.sum(x * back), np.sum(columns * other), magnitude=np.sum(np.abs(columns * other)))


def test_col2im_rejects_bad_input():
    with pytest.raises(ValueError, match=r"columns must have shape .*\(1, 2, 2, 3, 3, 1\)"):
        ops.col2im(np.zeros((1, 2, 2, 3, 3, 2)), (1, 4, 4, 1), 3)
    with pytest.raises(ValueError, match=r"input_shape must be the 4 sizes \(N, H, W, C\).*got \(4, 4, 1\)"):
        ops.col2im(np.zeros((1, 2, 2, 3, 3, 1)), (4, 4, 1), 3)


def test_window_plan_and_offsets_are_the_shape_rule_of_every_window():
    # "same" along height 7 with kernel 3, stride 2: ceil(7 / 2) = 4 rows, 2 zeros, 1 before and 1 after;
    # explicit padding (0, 2) along width 5 with kernel 2, stride 1: 5 + 4 - 2 + 1 = 8 columns.
    pads, out_size = ops.window_plan((7, 5), (3, 2), (2, 1), "same")
    assert pads == ((1, 1), (0, 1)) and out_size == (4, 5)
    pads, out_size = ops.window_plan((7, 5), (3, 2), (2, 1), (0, 2))
    assert pads == ((0, 0), (2, 2)) and out_size == (3, 8)
    with pytest.raises(ValueError, match=r"pool_size of height x width \(3, 3\) is larger than the input"):
        ops.window_plan((2, 2), (3, 3), (1, 1), "valid", "pool_size")
    # Offset (u, v) of every window reads one strided slice: the windows' cells in im2col.
    x = np.random.default_rng(5).normal(size=(2, 7, 6, 3))
    columns = ops.im2col(x, (3, 2), (2, 1), "valid")
    offsets = list(ops.window_offsets((3, 2), (2, 1), columns.shape[1:3]))
    assert [(u, v) for u, v, _ in offsets] == [(u, v) for u in range(3) for v in range(2)]
    for u, v, where in offsets:
        np.testing.assert_array_equal(x[where], columns[:, :, :, u, v, :])


def test_ops_gathers_the_public_functions_of_its_modules():
    from cnn_course import activations, convolution, dense, pooling

    assert ops.__all__ == [*convolution.__all__, *pooling.__all__, *activations.__all__, *dense.__all__]
    assert {"window_plan", "window_offsets", "col2im"} <= set(ops.__all__)
    for module in (convolution, pooling, activations, dense):
        for name in module.__all__:
            assert getattr(ops, name) is getattr(module, name), name


def test_pad2d_takes_amounts_only():
    with pytest.raises(TypeError, match=r"^padding must be an int or a pair of ints \(height, width\), got 'same'$"):
        ops.pad2d(np.zeros((3, 3)), "same")
