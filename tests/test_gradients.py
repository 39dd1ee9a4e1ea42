"""Backward passes of cnn_course.gradients: finite differences, TensorFlow's GradientTape, bad input."""

import numpy as np
import pytest

from cnn_course import convolution, gradient_check, gradients, losses, ops

from numerics import assert_float64_close
from strategies import POOL_CASES, WINDOW_CASES

TOLERANCE = 1e-6  # relative error allowed between a backward pass and centred differences (float64)

# Centred differences (f(x + h) - f(x - h)) / 2h of a function that is linear, or piecewise
# linear with no kink within h of x, are exact whatever the step h: what is left is float64
# rounding, at most the error of one evaluation of f divided by h. With LINEAR_STEP that is
# below 1e-8 of the gradient for every check here (worst case, for these sizes), far inside
# TOLERANCE; with the default step of 1e-6 it could reach 8e-6. _distinct keeps the kinks of
# ReLU and max pooling more than LINEAR_STEP away. Softmax cross-entropy is smooth: with
# SMOOTH_STEP, truncation (h**2 / 6 times the third derivative, at most 0.1) stays below
# 1e-10 and rounding below 2e-8.
LINEAR_STEP = 1e-3
SMOOTH_STEP = 1e-4

CONV_CASES = WINDOW_CASES

def _distinct(rng, shape):
    """Random values with no two closer than 0.008 and none within 0.003 of 0, so max pooling
    has no ties or near-ties and ReLU no input near its kink, even after a nudge of LINEAR_STEP."""
    size = int(np.prod(shape))
    return ((rng.permutation(size) - size // 2) * 0.01 + 0.003 + rng.uniform(0.0, 0.002, size)).reshape(shape)


def _check(function, x, analytic, epsilon=LINEAR_STEP):
    error = gradient_check.gradient_check(function, x, analytic, epsilon)
    assert error < TOLERANCE, f"relative error {error:.3g}"
    return error


# --- finite differences -----------------------------------------------------------------


@pytest.mark.parametrize("height, width, window, stride, padding", CONV_CASES)
def test_conv2d_backward_matches_finite_differences(height, width, window, stride, padding):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, height, width, 2))
    kernel = rng.normal(size=window + (2, 3))
    bias = rng.normal(size=3)
    out = ops.conv2d(x, kernel, bias, stride=stride, padding=padding)
    upstream = rng.normal(size=out.shape)
    grad_x, grad_kernel, grad_bias = gradients.conv2d_backward(upstream, x, kernel, stride, padding)

    _check(lambda v: np.sum(ops.conv2d(v, kernel, bias, stride=stride, padding=padding) * upstream), x, grad_x)
    _check(lambda v: np.sum(ops.conv2d(x, v, bias, stride=stride, padding=padding) * upstream), kernel, grad_kernel)
    _check(lambda v: np.sum(ops.conv2d(x, kernel, v, stride=stride, padding=padding) * upstream), bias, grad_bias)


@pytest.mark.parametrize("height, width, pool_size, stride, padding", POOL_CASES)
def test_pool_backward_matches_finite_differences(height, width, pool_size, stride, padding):
    rng = np.random.default_rng(2)
    x = _distinct(rng, (2, height, width, 2))
    out = ops.max_pool2d(x, pool_size, stride, padding)
    upstream = rng.normal(size=out.shape)
    grad = gradients.max_pool2d_backward(upstream, x, pool_size, stride, padding)
    _check(lambda v: np.sum(ops.max_pool2d(v, pool_size, stride, padding) * upstream), x, grad)
    # Passing the forward output gives the same result.
    np.testing.assert_array_equal(gradients.max_pool2d_backward(upstream, x, pool_size, stride, padding, output=out), grad)

    grad = gradients.avg_pool2d_backward(upstream, x, pool_size, stride, padding)
    _check(lambda v: np.sum(ops.avg_pool2d(v, pool_size, stride, padding) * upstream), x, grad)


def test_relu_flatten_dense_dropout_softmax_match_finite_differences():
    rng = np.random.default_rng(3)
    x = _distinct(rng, (3, 4, 4, 2))  # no value within 0.003 of 0, where ReLU has its kink
    upstream = rng.normal(size=x.shape)
    _check(lambda v: np.sum(ops.relu(v) * upstream), x, gradients.relu_backward(upstream, x))

    upstream = rng.normal(size=(3, 32))
    _check(lambda v: np.sum(ops.flatten(v) * upstream), x, gradients.flatten_backward(upstream, x.shape))

    inputs, weights, bias = rng.normal(size=(4, 5)), rng.normal(size=(5, 3)), rng.normal(size=3)
    upstream = rng.normal(size=(4, 3))
    grad_x, grad_weights, grad_bias = gradients.dense_backward(upstream, inputs, weights)
    _check(lambda v: np.sum(ops.dense(v, weights, bias) * upstream), inputs, grad_x)
    _check(lambda v: np.sum(ops.dense(inputs, v, bias) * upstream), weights, grad_weights)
    _check(lambda v: np.sum(ops.dense(inputs, weights, v) * upstream), bias, grad_bias)

    keep = rng.random(inputs.shape) >= 0.4
    upstream = rng.normal(size=inputs.shape)
    _check(lambda v: np.sum(np.where(keep, v / 0.6, 0.0) * upstream), inputs, gradients.dropout_backward(upstream, keep, 0.4))

    logits, labels = rng.normal(size=(5, 4)) * 3, np.array([0, 3, 1, 1, 2])
    loss, probabilities = losses.softmax_cross_entropy(logits, labels)
    _check(lambda v: losses.softmax_cross_entropy(v, labels)[0], logits,
           gradients.softmax_cross_entropy_backward(probabilities, labels), SMOOTH_STEP)


def test_softmax_and_global_avg_pool_match_finite_differences():
    rng = np.random.default_rng(11)
    # Softmax is smooth: with SMOOTH_STEP the truncation error, h**2 / 6 times a third derivative
    # of sum(softmax(z) * upstream) (at most a few times max |upstream|), stays below 1e-8 of
    # the gradient, and rounding below 1e-11.
    logits = rng.normal(size=(4, 5)) * 2
    upstream = rng.normal(size=(4, 5))
    probabilities = ops.softmax(logits)
    _check(lambda v: np.sum(ops.softmax(v) * upstream), logits, gradients.softmax_backward(upstream, probabilities), SMOOTH_STEP)
    # Over the last axis of any shape, as ops.softmax's default axis.
    logits = rng.normal(size=(2, 3, 4))
    upstream = rng.normal(size=(2, 3, 4))
    _check(lambda v: np.sum(ops.softmax(v) * upstream), logits,
           gradients.softmax_backward(upstream, ops.softmax(logits)), SMOOTH_STEP)
    # Global average pooling is linear: centred differences are exact up to rounding.
    x = rng.normal(size=(3, 4, 5, 2))
    upstream = rng.normal(size=(3, 2))
    _check(lambda v: np.sum(ops.global_avg_pool2d(v) * upstream), x, gradients.global_avg_pool2d_backward(upstream, x.shape))


def test_conv2d_input_gradient_is_col2im_of_the_column_gradients():
    rng = np.random.default_rng(10)
    for height, width, window, stride, padding in CONV_CASES:
        x = rng.normal(size=(2, height, width, 3))
        kernel = rng.normal(size=window + (3, 4))
        upstream = rng.normal(size=ops.conv2d(x, kernel, stride=stride, padding=padding).shape)
        grad_columns = upstream.reshape(-1, 4) @ kernel.reshape(-1, 4).T
        columns_shape = convolution.im2col(x, window, stride, padding).shape
        expected = convolution.col2im(grad_columns.reshape(columns_shape), x.shape, window, stride, padding)
        grad_x, _, _ = gradients.conv2d_backward(upstream, x, kernel, stride, padding)
        abs_columns = np.abs(upstream).reshape(-1, 4) @ np.abs(kernel).reshape(-1, 4).T
        magnitude = convolution.col2im(abs_columns.reshape(columns_shape), x.shape, window, stride, padding)
        assert_float64_close(grad_x, expected, magnitude)


def test_conv2d_backward_accepts_columns_and_can_skip_grad_x():
    rng = np.random.default_rng(5)
    x, kernel = rng.normal(size=(2, 6, 6, 2)), rng.normal(size=(3, 3, 2, 4))
    upstream = rng.normal(size=(2, 3, 3, 4))
    full = gradients.conv2d_backward(upstream, x, kernel, 2, "same")
    columns = convolution.im2col(x, (3, 3), 2, "same")
    grad_x, grad_kernel, grad_bias = gradients.conv2d_backward(upstream, x, kernel, 2, "same", columns=columns, need_grad_x=False)
    assert grad_x is None
    # The same sums from a columns array of our own: magnitudes are the same sums of |terms|.
    _, abs_kernel, abs_bias = gradients.conv2d_backward(np.abs(upstream), np.abs(x), kernel, 2, "same")
    assert_float64_close(grad_kernel, full[1], abs_kernel)
    assert_float64_close(grad_bias, full[2], abs_bias)


def test_float32_stays_float32():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 6, 6, 2)).astype(np.float32)
    kernel = rng.normal(size=(3, 3, 2, 4)).astype(np.float32)
    upstream = np.ones((2, 4, 4, 4), dtype=np.float32)
    assert all(g.dtype == np.float32 for g in gradients.conv2d_backward(upstream, x, kernel))
    pooled = np.ones((2, 3, 3, 2), dtype=np.float32)
    assert gradients.max_pool2d_backward(pooled, x).dtype == np.float32
    assert gradients.avg_pool2d_backward(pooled, x).dtype == np.float32
    assert gradients.relu_backward(x, x).dtype == np.float32


# --- TensorFlow's GradientTape ----------------------------------------------------------


def _tape(tf, function, *arrays):
    """Gradients of sum(function(*arrays) * upstream) from TensorFlow, with a fixed upstream."""
    variables = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        for v in variables:
            tape.watch(v)
        out = function(*variables)
    return [g.numpy() for g in tape.gradient(out, variables)]


def _tf_padding(padding):
    if isinstance(padding, str):
        return padding.upper()
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    return [[0, 0], [ph, ph], [pw, pw], [0, 0]]


@pytest.mark.parametrize("height, width, window, stride, padding", CONV_CASES)
def test_conv2d_backward_matches_tensorflow(tf, height, width, window, stride, padding):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, height, width, 2))
    kernel = rng.normal(size=window + (2, 4))
    bias = rng.normal(size=4)
    upstream = rng.normal(size=ops.conv2d(x, kernel, stride=stride, padding=padding).shape)

    def forward(x_t, kernel_t, bias_t):
        out = tf.nn.conv2d(x_t, kernel_t, strides=stride, padding=_tf_padding(padding)) + bias_t
        return tf.reduce_sum(out * upstream)

    expected = _tape(tf, forward, x, kernel, bias)
    got = gradients.conv2d_backward(upstream, x, kernel, stride, padding)
    for mine, theirs in zip(got, expected):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("height, width, pool_size, stride, padding", POOL_CASES)
def test_pool_backward_matches_tensorflow(tf, height, width, pool_size, stride, padding):
    rng = np.random.default_rng(8)
    x = _distinct(rng, (2, height, width, 3))
    strides = pool_size if stride is None else stride
    upstream = rng.normal(size=ops.max_pool2d(x, pool_size, stride, padding).shape)
    (expected,) = _tape(tf, lambda v: tf.reduce_sum(tf.nn.max_pool2d(v, pool_size, strides, padding.upper()) * upstream), x)
    np.testing.assert_allclose(gradients.max_pool2d_backward(upstream, x, pool_size, stride, padding), expected, atol=1e-12)
    (expected,) = _tape(tf, lambda v: tf.reduce_sum(tf.nn.avg_pool2d(v, pool_size, strides, padding.upper()) * upstream), x)
    np.testing.assert_allclose(gradients.avg_pool2d_backward(upstream, x, pool_size, stride, padding), expected, rtol=1e-12, atol=1e-12)


def test_max_pool_ties_go_to_the_first_maximum_as_in_tensorflow(tf):
    x = np.array([[1, 1, 0, 2], [1, 0, 2, 2], [3, 3, 5, 0], [3, 3, 0, 5]], dtype=np.float64).reshape(1, 4, 4, 1)
    for pool_size, stride, padding in [(2, None, "valid"), (3, 1, "same"), (2, 1, "valid")]:
        upstream = np.ones(ops.max_pool2d(x, pool_size, stride, padding).shape)
        strides = pool_size if stride is None else stride
        (expected,) = _tape(tf, lambda v: tf.reduce_sum(tf.nn.max_pool2d(v, pool_size, strides, padding.upper())), x)
        np.testing.assert_array_equal(gradients.max_pool2d_backward(upstream, x, pool_size, stride, padding), expected)


def test_relu_dense_dropout_softmax_match_tensorflow(tf):
    rng = np.random.default_rng(9)
    x = rng.normal(size=(4, 6))
    x[0, 0] = 0.0  # TensorFlow's ReLU gradient at exactly 0 is 0; so is ours
    upstream = rng.normal(size=x.shape)
    (expected,) = _tape(tf, lambda v: tf.reduce_sum(tf.nn.relu(v) * upstream), x)
    np.testing.assert_array_equal(gradients.relu_backward(upstream, x), expected)

    weights, bias = rng.normal(size=(6, 3)), rng.normal(size=3)
    upstream = rng.normal(size=(4, 3))
    expected = _tape(tf, lambda a, w, b: tf.reduce_sum((tf.matmul(a, w) + b) * upstream), x, weights, bias)
    for mine, theirs in zip(gradients.dense_backward(upstream, x, weights), expected):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)

    keep = rng.random(x.shape) >= 0.25
    upstream = rng.normal(size=x.shape)
    (expected,) = _tape(tf, lambda v: tf.reduce_sum(tf.where(keep, v / 0.75, 0.0) * upstream), x)
    np.testing.assert_allclose(gradients.dropout_backward(upstream, keep, 0.25), expected, rtol=1e-12)

    logits, labels = rng.normal(size=(5, 10)) * 4, np.array([0, 9, 3, 3, 7])
    loss, probabilities = losses.softmax_cross_entropy(logits, labels)
    (expected,) = _tape(
        tf, lambda z: tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=z)), logits
    )
    np.testing.assert_allclose(gradients.softmax_cross_entropy_backward(probabilities, labels), expected, rtol=1e-10, atol=1e-14)
    tf_loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)).numpy()
    np.testing.assert_allclose(loss, tf_loss, rtol=1e-12)


def test_softmax_and_global_avg_pool_match_tensorflow(tf):
    rng = np.random.default_rng(12)
    logits, upstream = rng.normal(size=(5, 10)) * 3, rng.normal(size=(5, 10))
    (expected,) = _tape(tf, lambda z: tf.reduce_sum(tf.nn.softmax(z) * upstream), logits)
    got = gradients.softmax_backward(upstream, ops.softmax(logits))
    # Each gradient is p_i (g_i - sum_j g_j p_j): a sum of 10 products, each at most |g| p.
    magnitude = ops.softmax(logits) * (np.abs(upstream) + np.sum(np.abs(upstream) * ops.softmax(logits), axis=1, keepdims=True))
    assert_float64_close(got, expected, magnitude)
    x, upstream = rng.normal(size=(2, 5, 3, 4)), rng.normal(size=(2, 4))
    (expected,) = _tape(tf, lambda v: tf.reduce_sum(tf.reduce_mean(v, axis=[1, 2]) * upstream), x)
    assert_float64_close(gradients.global_avg_pool2d_backward(upstream, x.shape), expected, np.abs(expected))
    assert gradients.global_avg_pool2d_backward(upstream.astype(np.float32), x.shape).dtype == np.float32
    assert gradients.softmax_backward(upstream.astype(np.float32), np.full((2, 4), 0.25, np.float32)).dtype == np.float32


# --- bad input ----------------------------------------------------------------------------


def test_conv2d_backward_rejects_bad_input():
    x, kernel = np.zeros((2, 6, 6, 2)), np.zeros((3, 3, 2, 4))
    with pytest.raises(ValueError, match=r"grad_output must have the shape .*\(2, 4, 4, 4\).*got shape \(2, 4, 4, 3\)"):
        gradients.conv2d_backward(np.zeros((2, 4, 4, 3)), x, kernel)
    with pytest.raises(ValueError, match=r"kernel must have shape .*C_in = 2.*\(3, 3, 3, 4\)"):
        gradients.conv2d_backward(np.zeros((2, 4, 4, 4)), x, np.zeros((3, 3, 3, 4)))
    with pytest.raises(ValueError, match=r"x must have shape \(N, H, W, C_in\).*got shape \(6, 6, 2\)"):
        gradients.conv2d_backward(np.zeros((2, 4, 4, 4)), x[0], kernel)
    with pytest.raises(ValueError, match=r"columns must have shape .*got shape \(2, 4, 4, 9\)"):
        gradients.conv2d_backward(np.zeros((2, 4, 4, 4)), x, kernel, columns=np.zeros((2, 4, 4, 9)))
    with pytest.raises(TypeError, match="stride"):
        gradients.conv2d_backward(np.zeros((2, 4, 4, 4)), x, kernel, stride=1.5)
    with pytest.raises(TypeError, match="grad_output must be a numeric array"):
        gradients.conv2d_backward("gradient", x, kernel)


def test_pool_backward_rejects_bad_input():
    x = np.zeros((1, 4, 4, 2))
    for backward in (gradients.max_pool2d_backward, gradients.avg_pool2d_backward):
        with pytest.raises(ValueError, match=r"grad_output must have the shape .*\(1, 2, 2, 2\).*got shape \(1, 4, 4, 2\)"):
            backward(np.zeros((1, 4, 4, 2)), x)
        with pytest.raises(ValueError, match="padding must be 'valid' or 'same' for pooling"):
            backward(np.zeros((1, 2, 2, 2)), x, padding=1)
        with pytest.raises(ValueError, match=r"pool_size of height x width \(5, 5\) is larger than the input"):
            backward(np.zeros((1, 1, 1, 2)), x, pool_size=5)
    with pytest.raises(ValueError, match=r"output must have shape .*got shape \(1, 3, 3, 2\)"):
        gradients.max_pool2d_backward(np.zeros((1, 2, 2, 2)), x, output=np.zeros((1, 3, 3, 2)))


def test_other_backward_functions_reject_bad_input():
    with pytest.raises(ValueError, match=r"grad_output must have the shape of the input x, \(2, 3\), got shape \(3, 2\)"):
        gradients.relu_backward(np.zeros((3, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"grad_output must have the shape .*\(2, 12\), got shape \(2, 10\)"):
        gradients.flatten_backward(np.zeros((2, 10)), (2, 2, 3, 2))
    with pytest.raises(ValueError, match=r"weights must have shape \(D_in, D_out\) with D_in = 4"):
        gradients.dense_backward(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"grad_output must have the shape .*\(2, 3\), got shape \(2, 4\)"):
        gradients.dense_backward(np.zeros((2, 4)), np.zeros((2, 4)), np.zeros((4, 3)))
    with pytest.raises(TypeError, match="keep must be a boolean mask"):
        gradients.dropout_backward(np.zeros(3), np.ones(3), 0.5)
    with pytest.raises(ValueError, match=r"^rate must be a float in \[0, 1\), got 1.0$"):
        gradients.dropout_backward(np.zeros(3), np.ones(3, dtype=bool), 1.0)
    with pytest.raises(TypeError, match=r"^rate must be a float in \[0, 1\), got 'half'$"):
        gradients.dropout_backward(np.zeros(3), np.ones(3, dtype=bool), "half")
    with pytest.raises(ValueError, match=r"grad_output must have the shape of the mask keep, \(3,\), got shape \(4,\)"):
        gradients.dropout_backward(np.zeros(4), np.ones(3, dtype=bool), 0.5)


def test_softmax_and_global_avg_pool_backward_reject_bad_input():
    probabilities = np.full((2, 3), 1 / 3)
    with pytest.raises(ValueError, match=r"^grad_output must have the shape of the softmax's output, \(2, 3\), got shape \(2, 4\)$"):
        gradients.softmax_backward(np.zeros((2, 4)), probabilities)
    with pytest.raises(TypeError, match=r"^grad_output must be a numeric array, got str$"):
        gradients.softmax_backward("gradient", probabilities)
    with pytest.raises(TypeError, match=r"^probabilities must be a numeric array, got str$"):
        gradients.softmax_backward(np.zeros((2, 3)), "probabilities")
    with pytest.raises(ValueError, match=r"^grad_output must have the shape of the pooled output \(N, C\), \(2, 3\), got shape \(2, 4\)$"):
        gradients.global_avg_pool2d_backward(np.zeros((2, 4)), (2, 5, 5, 3))
    with pytest.raises(ValueError, match=r"^input_shape must be the 4 sizes \(N, H, W, C\) of the forward pass's input, H, W, C >= 1, got \(5, 5, 3\)$"):
        gradients.global_avg_pool2d_backward(np.zeros((2, 3)), (5, 5, 3))
    with pytest.raises(TypeError, match=r"^grad_output must be a numeric array, got NoneType$"):
        gradients.global_avg_pool2d_backward(None, (2, 5, 5, 3))
