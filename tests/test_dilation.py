"""Dilated convolution: the output-size formula, ops.conv2d and its backward pass against TensorFlow,
the layer, its receptive field, and the Keras round trip.

Every comparison with TensorFlow is in float64 (the mathematics). TensorFlow's CPU ``conv2d``
has no dilated backward pass, so the gradients come from ``tf.nn.convolution``.
"""

import numpy as np
import pytest

from cnn_course import gradient_check, gradients, keras_interop, layers, model, ops

from numerics import assert_float64_close

CASES = [
    # (H, W), (kh, kw), stride, padding, dilation
    ((9, 9), (3, 3), 1, "valid", 2),
    ((10, 8), (3, 2), 1, "same", (2, 3)),
    ((11, 11), (2, 2), 1, "same", 3),
    ((12, 10), (3, 3), 1, 2, (1, 2)),
    ((7, 9), (1, 3), 1, "valid", (1, 4)),
    ((8, 8), (3, 3), 2, "valid", 1),
]


def _pair(value):
    return value if isinstance(value, tuple) else (value, value)


def _tf_padding(padding, kernel, dilation):
    if isinstance(padding, str):
        return padding.upper()
    return [[0, 0], [padding, padding], [padding, padding], [0, 0]]


@pytest.mark.parametrize("size, kernel_size, stride, padding, dilation", [
    (28, 3, 1, 0, 2), (28, 3, 1, 2, 2), (28, 5, 2, 0, 3), (10, 3, 3, 1, 2), (7, 2, 1, 0, 6), (9, 3, 2, "same", 2),
])
def test_output_size_formula(size, kernel_size, stride, padding, dilation):
    if padding == "same":
        expected = -(-size // stride)
    else:
        expected = (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    assert ops.conv_output_size(size, kernel_size, stride, padding, dilation) == expected


def test_a_dilated_kernel_that_does_not_fit_says_how_far_it_spans():
    with pytest.raises(ValueError, match=r"kernel_size 3 with dilation 4 spans 9 cells and is larger than the padded input"):
        ops.conv_output_size(8, 3, 1, 0, 4)
    with pytest.raises(ValueError, match=r"spans \(9, 9\) with dilation \(4, 4\)"):
        ops.conv2d(np.zeros((1, 8, 8, 1)), np.zeros((3, 3, 1, 1)), dilation=4)
    with pytest.raises(ValueError, match="dilation must be at least 1"):
        ops.conv2d(np.zeros((1, 8, 8, 1)), np.zeros((3, 3, 1, 1)), dilation=0)


def test_dilation_one_is_the_ordinary_convolution():
    rng = np.random.default_rng(0)
    x, kernel = rng.normal(size=(2, 7, 6, 3)), rng.normal(size=(3, 2, 3, 4))
    np.testing.assert_array_equal(ops.conv2d(x, kernel, dilation=1), ops.conv2d(x, kernel))


def test_a_dilated_kernel_is_the_kernel_with_zeros_between_its_taps():
    """Dilation d is an ordinary convolution with (d - 1) zeros inserted between the taps."""
    rng = np.random.default_rng(1)
    x, kernel = rng.normal(size=(2, 11, 12, 2)), rng.normal(size=(3, 3, 2, 3))
    spread = np.zeros((5, 7, 2, 3))
    spread[::2, ::3] = kernel
    assert_float64_close(ops.conv2d(x, kernel, dilation=(2, 3)), ops.conv2d(x, spread), magnitude=50.0)


@pytest.mark.parametrize("shape, window, stride, padding, dilation", CASES)
def test_conv2d_matches_tensorflow(tf, shape, window, stride, padding, dilation):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, *shape, 3))
    kernel = rng.normal(size=(*window, 3, 4))
    theirs = tf.nn.convolution(x, kernel, strides=stride, padding=_tf_padding(padding, window, dilation),
                               dilations=_pair(dilation)).numpy()
    ours = ops.conv2d(x, kernel, stride=stride, padding=padding, dilation=dilation)
    assert ours.shape == theirs.shape
    magnitude = ops.conv2d(np.abs(x), np.abs(kernel), stride=stride, padding=padding, dilation=dilation)
    assert_float64_close(ours, theirs, magnitude)


@pytest.mark.parametrize("shape, window, stride, padding, dilation", CASES)
def test_conv2d_backward_matches_tensorflow(tf, shape, window, stride, padding, dilation):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, *shape, 3))
    kernel = rng.normal(size=(*window, 3, 4))
    upstream = rng.normal(size=ops.conv2d(x, kernel, stride=stride, padding=padding, dilation=dilation).shape)
    x_tf, kernel_tf = tf.constant(x), tf.constant(kernel)
    with tf.GradientTape() as tape:
        tape.watch([x_tf, kernel_tf])
        out = tf.nn.convolution(x_tf, kernel_tf, strides=stride, padding=_tf_padding(padding, window, dilation),
                                dilations=_pair(dilation))
        loss = tf.reduce_sum(out * upstream)
    their_x, their_kernel = (g.numpy() for g in tape.gradient(loss, [x_tf, kernel_tf]))
    grad_x, grad_kernel, grad_bias = gradients.conv2d_backward(upstream, x, kernel, stride, padding, dilation=dilation)
    scale = np.abs(upstream).sum() * (np.abs(x).max() + np.abs(kernel).max())
    assert_float64_close(grad_x, their_x, scale)
    assert_float64_close(grad_kernel, their_kernel, scale)
    assert_float64_close(grad_bias, upstream.sum(axis=(0, 1, 2)), np.abs(upstream).sum())


def test_conv2d_backward_passes_the_gradient_check():
    rng = np.random.default_rng(4)
    x, kernel = rng.normal(size=(2, 9, 8, 2)), rng.normal(size=(3, 2, 2, 3))
    upstream = rng.normal(size=ops.conv2d(x, kernel, padding="same", dilation=(2, 3)).shape)
    grad_x, grad_kernel, _ = gradients.conv2d_backward(upstream, x, kernel, padding="same", dilation=(2, 3))
    loss_of_x = lambda v: np.sum(ops.conv2d(v, kernel, padding="same", dilation=(2, 3)) * upstream)  # noqa: E731
    loss_of_kernel = lambda v: np.sum(ops.conv2d(x, v, padding="same", dilation=(2, 3)) * upstream)  # noqa: E731
    assert gradient_check.gradient_check(loss_of_x, x, grad_x, epsilon=1e-3) < 1e-7
    assert gradient_check.gradient_check(loss_of_kernel, kernel, grad_kernel, epsilon=1e-3) < 1e-7


def test_im2col_and_col2im_with_dilation_are_adjoint():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 9, 10, 3))
    columns = ops.im2col(x, (3, 2), 1, "same", (2, 3))
    other = rng.normal(size=columns.shape)
    back = ops.col2im(other, x.shape, (3, 2), 1, "same", (2, 3))
    np.testing.assert_allclose(np.sum(columns * other), np.sum(x * back), rtol=1e-12)


def test_dilated_layer_trains_like_the_op_and_grows_the_receptive_field(tf):
    net = model.Sequential([layers.Conv2D(4, 3, dilation=2), layers.ReLU(), layers.Conv2D(4, 3, dilation=4),
                            layers.Flatten(), layers.Dense(3)], input_shape=(16, 16, 1), dtype="float64")
    records = net.describe()
    # r <- r + (d (k - 1) + 1 - 1) j: 1 + 4 = 5, then 5 + 8 = 13; j stays 1.
    assert [record.receptive_field for record in records[:3]] == [(5, 5), (5, 5), (13, 13)]
    assert records[0].output_shape == (12, 12, 4) and records[2].output_shape == (4, 4, 4)
    assert records[0].macs == 12 * 12 * 3 * 3 * 1 * 4
    x = np.random.default_rng(6).normal(size=(3, 16, 16, 1))
    kernel, bias = net.layers[0].params["kernel"], net.layers[0].params["bias"]
    np.testing.assert_array_equal(net.layers[0].forward(x), ops.conv2d(x, kernel, bias, dilation=2))
    np.testing.assert_allclose(net.layers[0].forward(x, training=True), ops.conv2d(x, kernel, bias, dilation=2),
                               rtol=1e-12, atol=1e-12)
    keras_model = keras_interop.to_keras(net, logits=True)
    assert tuple(keras_model.layers[0].dilation_rate) == (2, 2)
    # Called directly: Keras's predict casts float64 inputs to float32.
    assert_float64_close(keras_model(x).numpy(), net.logits(x), magnitude=100.0)
    again = keras_interop.from_keras(keras_model, dtype="float64")
    assert again.layers[0].dilation == (2, 2) and again.layers[2].dilation == (4, 4)
    assert_float64_close(again.logits(x), net.logits(x), magnitude=100.0)
