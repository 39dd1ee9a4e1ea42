"""The layers of cnn_course.layers: forward = ops, backward = finite differences and Keras, costs, clear errors."""

import numpy as np
import pytest

from cnn_course import gradient_check, initializers, layers, ops

from numerics import assert_float64_close, assert_within, sum_tolerance

TOLERANCE = 1e-6

# Centred differences of a (piecewise) linear function are exact for any step with no kink
# within it, so what is left is float64 rounding: one evaluation's error over the step. The
# step STEP keeps that below 1e-8 of the gradient here (worst case, for these sizes), where
# the default 1e-6 could let it reach several times TOLERANCE. _distinct keeps max pooling's
# and ReLU's kinks more than STEP away.
STEP = 1e-3


def _built(layer, input_shape, dtype="float64", seed=0):
    layer.name = layer.name or "test_layer"
    layer.build(input_shape, np.random.default_rng(seed), dtype)
    return layer


def _distinct(rng, shape):
    """Values no two closer than 0.01 (no max-pooling ties, nothing near ReLU's kink at 0)."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.01 + 0.003 - size * 0.005 + rng.uniform(0, 0.002, size)).reshape(shape)


def _input_gradient_error(layer, x, rng):
    """Relative error of the layer's input gradient against centred differences."""
    upstream = rng.normal(size=layer.forward(x, training=True).shape)
    analytic = layer.backward(upstream)
    return gradient_check.gradient_check(lambda v: np.sum(layer.forward(v) * upstream), x, analytic, STEP)


def _parameter_gradient_errors(layer, x, rng):
    upstream = rng.normal(size=layer.forward(x, training=True).shape)
    layer.backward(upstream)
    errors = {}
    for key, value in layer.params.items():
        analytic = layer.grads[key].copy()

        def loss(v, key=key):
            saved = layer.params[key].copy()
            layer.params[key][...] = v
            result = np.sum(layer.forward(x) * upstream)
            layer.params[key][...] = saved
            return result

        errors[key] = gradient_check.gradient_check(loss, value, analytic, STEP)
    return errors


# --- forward equals the functions of ops ------------------------------------------------


def test_forward_passes_equal_the_ops_functions():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 7, 7, 2)).astype(np.float32)
    conv = _built(layers.Conv2D(4, 3, stride=2, padding="same"), (7, 7, 2), "float32")
    conv.params["bias"][...] = rng.normal(size=4)
    # The layer's own im2col product, in float32, against ops.conv2d in float64: each output
    # is a sum of 3 * 3 * 2 products and the bias.
    x64, kernel64, bias64 = (a.astype(np.float64) for a in (x, conv.params["kernel"], conv.params["bias"]))
    expected = ops.conv2d(x64, kernel64, bias64, stride=2, padding="same")
    magnitude = ops.conv2d(np.abs(x64), np.abs(kernel64), np.abs(bias64), stride=2, padding="same")
    assert_within(conv.forward(x), expected, sum_tolerance(magnitude, 3 * 3 * 2 + 1))
    assert conv.forward(x).dtype == np.float32 and conv.output_shape == (4, 4, 4)

    pool = _built(layers.MaxPool2D(3, 2, "same"), (7, 7, 2))
    np.testing.assert_array_equal(pool.forward(x), ops.max_pool2d(x, 3, 2, "same"))
    pool = _built(layers.AvgPool2D(2), (7, 7, 2))
    np.testing.assert_array_equal(pool.forward(x), ops.avg_pool2d(x, 2))
    np.testing.assert_array_equal(_built(layers.ReLU(), (7, 7, 2)).forward(x), ops.relu(x))
    flat = _built(layers.Flatten(), (7, 7, 2))
    np.testing.assert_array_equal(flat.forward(x), ops.flatten(x))
    assert flat.output_shape == (98,)

    dense = _built(layers.Dense(5), (98,), "float32")
    np.testing.assert_allclose(dense.forward(flat.forward(x)), ops.dense(ops.flatten(x), dense.params["weights"], dense.params["bias"]))

    dropout = layers.Dropout(0.3, name="drop")
    dropout.build((7, 7, 2), np.random.default_rng(42))
    np.testing.assert_array_equal(dropout.forward(x, training=True), ops.dropout(x, 0.3, rng=np.random.default_rng(42)))
    np.testing.assert_array_equal(dropout.forward(x, training=False), x)

    pooled = _built(layers.GlobalAvgPool2D(), (7, 7, 2))
    np.testing.assert_array_equal(pooled.forward(x), ops.global_avg_pool2d(x))
    assert pooled.output_shape == (2,)
    softmax = _built(layers.Softmax(), (5,))
    scores = rng.normal(size=(3, 5))
    np.testing.assert_array_equal(softmax.forward(scores), ops.softmax(scores, axis=-1))
    np.testing.assert_array_equal(softmax.forward(scores, training=True), ops.softmax(scores, axis=-1))


def test_conv2d_computes_the_same_at_inference_and_in_training():
    # Inference runs the chunked ops.conv2d, training one im2col product kept for backward:
    # two float64 orders of the same sums of 3 * 3 * 3 products and the bias.
    rng = np.random.default_rng(8)
    layer = _built(layers.Conv2D(5, 3, stride=(1, 2), padding="same"), (9, 8, 3))
    layer.params["bias"][...] = rng.normal(size=5)
    x = rng.normal(size=(4, 9, 8, 3))
    magnitude = ops.conv2d(np.abs(x), np.abs(layer.params["kernel"]), np.abs(layer.params["bias"]), (1, 2), "same")
    assert_float64_close(layer.forward(x), layer.forward(x, training=True), magnitude)


def test_he_initialisation_is_seeded_and_scaled():
    first = _built(layers.Conv2D(64, 3), (8, 8, 16), "float32", seed=3)
    second = _built(layers.Conv2D(64, 3), (8, 8, 16), "float32", seed=3)
    np.testing.assert_array_equal(first.params["kernel"], second.params["kernel"])
    assert first.params["kernel"].dtype == np.float32 and not first.params["bias"].any()
    # Standard deviation sqrt(2 / fan_in) with fan_in = 3 * 3 * 16.
    np.testing.assert_allclose(first.params["kernel"].std(), np.sqrt(2 / 144), rtol=0.05)
    small = _built(layers.Dense(10, weight_scale=0.1), (200,), seed=3)
    np.testing.assert_allclose(small.params["weights"].std(), 0.1 * np.sqrt(2 / 200), rtol=0.1)


def test_he_normal_has_the_he_standard_deviation():
    weights = initializers.he_normal((3, 3, 8, 2000), np.random.default_rng(0))
    assert weights.shape == (3, 3, 8, 2000) and weights.dtype == np.float32
    assert abs(weights.mean()) < 0.01
    np.testing.assert_allclose(weights.std(), np.sqrt(2 / 72), rtol=0.01)
    np.testing.assert_array_equal(weights, initializers.he_normal((3, 3, 8, 2000), np.random.default_rng(0)))
    dense = initializers.he_normal((400, 10), np.random.default_rng(1), dtype=np.float64)
    assert dense.dtype == np.float64


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        (((3, 3), 0), TypeError, r"rng must be a numpy.random.Generator, got int"),
        (((10,), np.random.default_rng(0)), ValueError, r"shape must be .*got \(10,\)"),
        (((3, 0), np.random.default_rng(0)), ValueError, r"every size in shape must be at least 1"),
    ],
)
def test_he_normal_rejects_bad_input(arguments, error, message):
    with pytest.raises(error, match=message):
        initializers.he_normal(*arguments)


# --- costs and windows, for Sequential.describe ------------------------------------------------


def test_macs_params_and_windows_of_each_layer():
    conv = _built(layers.Conv2D(6, (3, 2), stride=(2, 1), padding="same"), (9, 8, 4))
    # "same": ceil(9 / 2) = 5 rows, ceil(8 / 1) = 8 columns; H' W' kh kw C_in C_out MACs.
    assert conv.output_shape == (5, 8, 6)
    assert conv.macs() == 5 * 8 * 3 * 2 * 4 * 6
    assert conv.count_params() == 3 * 2 * 4 * 6 + 6
    assert conv.window() == ((3, 2), (2, 1))
    dense = _built(layers.Dense(7), (12,))
    assert dense.macs() == 12 * 7 and dense.count_params() == 12 * 7 + 7 and dense.window() is None
    for pool in (layers.MaxPool2D(3, 2, "same"), layers.AvgPool2D((2, 3))):
        _built(pool, (9, 8, 4))
        assert pool.macs() == 0 and pool.count_params() == 0
        assert pool.window() == (pool.pool_size, pool.stride)
    assert layers.AvgPool2D((2, 3)).stride == (2, 3)  # the stride defaults to the window
    for layer, shape in [(layers.ReLU(), (9, 8, 4)), (layers.Dropout(0.5), (9, 8, 4))]:
        _built(layer, shape)
        assert layer.macs() == 0 and layer.window() == ((1, 1), (1, 1))
    for layer, shape in [(layers.Flatten(), (9, 8, 4)), (layers.GlobalAvgPool2D(), (9, 8, 4)),
                         (layers.Softmax(), (10,)), (layers.ReLU(), (10,))]:
        _built(layer, shape)
        assert layer.macs() == 0 and layer.window() is None and layer.count_params() == 0


def test_default_names_and_no_renaming():
    expected = {
        layers.Conv2D: "conv", layers.MaxPool2D: "max_pool", layers.AvgPool2D: "avg_pool",
        layers.GlobalAvgPool2D: "global_avg_pool", layers.ReLU: "relu", layers.Softmax: "softmax",
        layers.Flatten: "flatten", layers.Dense: "dense", layers.Dropout: "dropout",
        layers.BatchNorm: "batch_norm", layers.Residual: "residual",
    }
    assert {getattr(layers, name) for name in layers.__all__} - set(expected) == {layers.Layer}
    for kind, default in expected.items():
        assert kind.default_name == default
    layer = layers.Dense(3)
    layer.build((4,), np.random.default_rng(0))
    assert layer.name is None and repr(layer) == "Dense(name=None, output_shape=(3,))"


def test_get_and_set_weights_in_keras_order():
    layer = _built(layers.Conv2D(3, 2), (4, 4, 2))
    kernel, bias = layer.get_weights()
    assert kernel is layer.params["kernel"] and bias is layer.params["bias"]
    rng = np.random.default_rng(9)
    new = [rng.normal(size=(2, 2, 2, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)]
    layer.set_weights(new)
    assert layer.params["kernel"] is kernel  # copied in place, cast to the layer's dtype
    assert kernel.dtype == np.float64
    np.testing.assert_array_equal(kernel, new[0])
    with pytest.raises(ValueError, match=r"layer 'test_layer' \(Conv2D\): set_weights needs 2 arrays \(kernel, bias\), got 1"):
        layer.set_weights(new[:1])
    with pytest.raises(ValueError, match=r"layer 'test_layer' \(Conv2D\): bias must have shape \(3,\), got shape \(4,\)"):
        layer.set_weights([new[0], np.zeros(4)])
    relu = _built(layers.ReLU(), (4,))
    assert relu.get_weights() == []
    with pytest.raises(ValueError, match=r"set_weights needs 0 arrays \(none\), got 1"):
        relu.set_weights([np.zeros(1)])


# --- backward: finite differences ----------------------------------------------------------


@pytest.mark.parametrize("stride, padding", [(1, "valid"), (1, "same"), (2, "valid"), (2, "same"), ((2, 1), 1)])
def test_conv2d_layer_gradients_match_finite_differences(stride, padding):
    rng = np.random.default_rng(1)
    layer = _built(layers.Conv2D(3, (3, 2), stride=stride, padding=padding), (6, 5, 2))
    layer.params["bias"][...] = rng.normal(size=3)
    x = rng.normal(size=(2, 6, 5, 2))
    assert _input_gradient_error(layer, x, rng) < TOLERANCE
    errors = _parameter_gradient_errors(layer, x, rng)
    assert set(errors) == {"kernel", "bias"} and max(errors.values()) < TOLERANCE


@pytest.mark.parametrize("make, input_shape", [(lambda use_bias: layers.Conv2D(3, 3, use_bias=use_bias), (5, 5, 2)),
                                                (lambda use_bias: layers.Dense(4, use_bias=use_bias), (6,))])
def test_layers_without_bias_have_no_bias_and_correct_gradients(make, input_shape):
    rng = np.random.default_rng(11)
    layer, with_bias = _built(make(False), input_shape), _built(make(True), input_shape)
    (weights_key,) = layer.params
    assert list(with_bias.params) == [weights_key, "bias"]
    assert len(layer.get_weights()) == 1 and layer.count_params() == layer.get_weights()[0].size
    x = rng.normal(size=(2,) + input_shape)
    # The same output as the layer with a bias of zeros.
    with_bias.params[weights_key][...] = layer.params[weights_key]
    np.testing.assert_array_equal(layer.forward(x), with_bias.forward(x))
    assert _input_gradient_error(layer, x, rng) < TOLERANCE
    errors = _parameter_gradient_errors(layer, x, rng)
    assert set(errors) == set(layer.grads) == {weights_key} and max(errors.values()) < TOLERANCE


@pytest.mark.parametrize("kind", [layers.MaxPool2D, layers.AvgPool2D])
@pytest.mark.parametrize("pool_size, stride, padding", [(2, None, "valid"), (2, None, "same"), (3, 2, "same"), (3, 1, "valid")])
def test_pool_layer_gradients_match_finite_differences(kind, pool_size, stride, padding):
    rng = np.random.default_rng(2)
    layer = _built(kind(pool_size, stride, padding), (7, 6, 2))
    assert _input_gradient_error(layer, _distinct(rng, (2, 7, 6, 2)), rng) < TOLERANCE


def test_relu_flatten_dense_dropout_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    assert _input_gradient_error(_built(layers.ReLU(), (4, 4, 3)), _distinct(rng, (2, 4, 4, 3)), rng) < TOLERANCE
    assert _input_gradient_error(_built(layers.Flatten(), (4, 4, 3)), rng.normal(size=(2, 4, 4, 3)), rng) < TOLERANCE
    dense = _built(layers.Dense(4), (6,))
    dense.params["bias"][...] = rng.normal(size=4)
    x = rng.normal(size=(3, 6))
    assert _input_gradient_error(dense, x, rng) < TOLERANCE
    assert max(_parameter_gradient_errors(dense, x, rng).values()) < TOLERANCE

    dropout = _built(layers.Dropout(0.5), (6,))
    out = dropout.forward(x, training=True)
    keep = out != 0
    upstream = rng.normal(size=x.shape)
    # With the mask fixed, dropout is x -> keep * x / (1 - rate).
    expected = gradient_check.numerical_gradient(lambda v: np.sum(np.where(keep, v / 0.5, 0.0) * upstream), x, STEP)
    assert gradient_check.relative_error(dropout.backward(upstream), expected) < TOLERANCE
    # At inference dropout is the identity and keeps nothing: there is no backward to run.
    np.testing.assert_array_equal(dropout.forward(x, training=False), x)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        dropout.backward(upstream)
    # With rate 0 it is the identity while training too, and so is its gradient.
    still = _built(layers.Dropout(0.0), (6,))
    np.testing.assert_array_equal(still.forward(x, training=True), x)
    np.testing.assert_array_equal(still.backward(upstream), upstream)


def test_softmax_and_global_avg_pool_layer_gradients_match_finite_differences():
    rng = np.random.default_rng(10)
    # Global average pooling is linear: centred differences are exact up to rounding.
    layer = _built(layers.GlobalAvgPool2D(), (5, 4, 3))
    assert _input_gradient_error(layer, rng.normal(size=(2, 5, 4, 3)), rng) < TOLERANCE
    # Softmax is smooth: with a step of 1e-4 the truncation error, h**2 / 6 times a third
    # derivative of sum(softmax(z) * upstream) (at most a few times max |upstream|), stays
    # below 1e-8 of the gradient and rounding below 1e-11.
    layer = _built(layers.Softmax(), (6,))
    x = rng.normal(size=(3, 6)) * 2
    upstream = rng.normal(size=(3, 6))
    layer.forward(x, training=True)
    analytic = layer.backward(upstream)
    error = gradient_check.gradient_check(lambda v: np.sum(layer.forward(v) * upstream), x, analytic, 1e-4)
    assert error < TOLERANCE


def test_first_layer_can_skip_its_input_gradient():
    rng = np.random.default_rng(4)
    layer = _built(layers.Conv2D(2, 3), (5, 5, 1))
    x = rng.normal(size=(2, 5, 5, 1))
    upstream = rng.normal(size=layer.forward(x, training=True).shape)
    assert layer.backward(upstream, need_grad_input=False) is None
    kernel_gradient = layer.grads["kernel"].copy()
    assert layer.backward(upstream).shape == x.shape
    np.testing.assert_array_equal(layer.grads["kernel"], kernel_gradient)


# --- backward: Keras layers through GradientTape -------------------------------------------


def _keras_gradients(tf, keras_layer, x, upstream):
    x_t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_t)
        out = keras_layer(x_t)
        loss = tf.reduce_sum(out * upstream)
    variables = keras_layer.trainable_variables
    grads = tape.gradient(loss, [x_t] + list(variables))
    return out.numpy(), grads[0].numpy(), [g.numpy() for g in grads[1:]]


def test_conv2d_layer_without_bias_matches_keras(tf, keras):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, 7, 6, 2))
    layer = _built(layers.Conv2D(4, 3, padding="same", use_bias=False), (7, 6, 2))
    keras_layer = keras.layers.Conv2D(4, 3, padding="same", use_bias=False, dtype="float64")
    keras_layer.build((None, 7, 6, 2))
    keras_layer.set_weights(layer.get_weights())
    upstream = rng.normal(size=(3,) + layer.output_shape)
    out, grad_x, (grad_kernel,) = _keras_gradients(tf, keras_layer, x, upstream)
    np.testing.assert_allclose(layer.forward(x, training=True), out, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.backward(upstream), grad_x, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.grads["kernel"], grad_kernel, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("stride, padding", [(1, "valid"), (1, "same"), (2, "valid"), (2, "same")])
def test_conv2d_layer_matches_keras(tf, keras, stride, padding):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 9, 8, 2))
    layer = _built(layers.Conv2D(4, 3, stride=stride, padding=padding), (9, 8, 2))
    layer.params["bias"][...] = rng.normal(size=4)
    keras_layer = keras.layers.Conv2D(4, 3, strides=stride, padding=padding, dtype="float64")
    keras_layer.build((None, 9, 8, 2))
    keras_layer.set_weights([layer.params["kernel"], layer.params["bias"]])
    upstream = rng.normal(size=(3,) + layer.output_shape)
    out, grad_x, (grad_kernel, grad_bias) = _keras_gradients(tf, keras_layer, x, upstream)
    np.testing.assert_allclose(layer.forward(x, training=True), out, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.backward(upstream), grad_x, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.grads["kernel"], grad_kernel, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.grads["bias"], grad_bias, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("pool_size, stride, padding", [(2, None, "valid"), (2, None, "same"), (3, 2, "same"), (3, 1, "valid")])
def test_pool_layers_match_keras(tf, keras, pool_size, stride, padding):
    rng = np.random.default_rng(6)
    x = _distinct(rng, (2, 7, 7, 3))
    for ours, theirs in [(layers.MaxPool2D, keras.layers.MaxPooling2D), (layers.AvgPool2D, keras.layers.AveragePooling2D)]:
        layer = _built(ours(pool_size, stride, padding), (7, 7, 3))
        upstream = rng.normal(size=(2,) + layer.output_shape)
        out, grad_x, _ = _keras_gradients(tf, theirs(pool_size, stride, padding, dtype="float64"), x, upstream)
        # A maximum or a mean of at most 9 numbers, each at most max |x|.
        assert_float64_close(layer.forward(x, training=True), out, magnitude=np.abs(x).max())
        np.testing.assert_allclose(layer.backward(upstream), grad_x, rtol=1e-12, atol=1e-12)


def test_relu_flatten_dense_match_keras(tf, keras):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, 4, 4, 2))
    for layer, keras_layer in [(layers.ReLU(), keras.layers.ReLU(dtype="float64")), (layers.Flatten(), keras.layers.Flatten(dtype="float64"))]:
        _built(layer, (4, 4, 2))
        upstream = rng.normal(size=(3,) + layer.output_shape)
        out, grad_x, _ = _keras_gradients(tf, keras_layer, x, upstream)
        np.testing.assert_array_equal(layer.forward(x, training=True), out)
        np.testing.assert_array_equal(layer.backward(upstream), grad_x)

    flat = x.reshape(3, -1)
    layer = _built(layers.Dense(5), (32,))
    layer.params["bias"][...] = rng.normal(size=5)
    keras_layer = keras.layers.Dense(5, dtype="float64")
    keras_layer.build((None, 32))
    keras_layer.set_weights([layer.params["weights"], layer.params["bias"]])
    upstream = rng.normal(size=(3, 5))
    out, grad_x, (grad_weights, grad_bias) = _keras_gradients(tf, keras_layer, flat, upstream)
    weights = np.abs(layer.params["weights"])
    # Each number is a sum of products; its magnitude is the same sum of |products|.
    assert_float64_close(layer.forward(flat, training=True), out, np.abs(flat) @ weights + np.abs(layer.params["bias"]))
    assert_float64_close(layer.backward(upstream), grad_x, np.abs(upstream) @ weights.T)
    assert_float64_close(layer.grads["weights"], grad_weights, np.abs(flat).T @ np.abs(upstream))
    assert_float64_close(layer.grads["bias"], grad_bias, np.abs(upstream).sum(axis=0))


def test_softmax_and_global_avg_pool_layers_match_keras(tf, keras):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(3, 5, 4, 2))
    layer = _built(layers.GlobalAvgPool2D(), (5, 4, 2))
    upstream = rng.normal(size=(3, 2))
    out, grad_x, _ = _keras_gradients(tf, keras.layers.GlobalAveragePooling2D(dtype="float64"), x, upstream)
    # A mean of 20 numbers, each at most max |x|; each gradient is one division.
    assert_float64_close(layer.forward(x, training=True), out, magnitude=np.abs(x).max())
    assert_float64_close(layer.backward(upstream), grad_x, np.abs(grad_x))

    scores = rng.normal(size=(4, 6)) * 3
    layer = _built(layers.Softmax(), (6,))
    upstream = rng.normal(size=(4, 6))
    out, grad_x, _ = _keras_gradients(tf, keras.layers.Softmax(dtype="float64"), scores, upstream)
    probabilities = layer.forward(scores, training=True)
    # Probabilities: exp and a sum of 6, relative error a few ulps of each.
    assert_float64_close(probabilities, out, np.abs(out))
    # p_i (g_i - sum_j g_j p_j): sums of 6 products, each at most |g| p.
    magnitude = out * (np.abs(upstream) + np.sum(np.abs(upstream) * out, axis=1, keepdims=True))
    assert_float64_close(layer.backward(upstream), grad_x, magnitude)


# --- inference keeps nothing --------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, input_shape",
    [
        (lambda: layers.Conv2D(3, 3, padding="same"), (6, 6, 2)),
        (lambda: layers.MaxPool2D(2), (6, 6, 2)),
        (lambda: layers.AvgPool2D(3, 1, "same"), (6, 6, 2)),
        (lambda: layers.GlobalAvgPool2D(), (6, 6, 2)),
        (lambda: layers.ReLU(), (6, 6, 2)),
        (lambda: layers.Softmax(), (5,)),
        (lambda: layers.Flatten(), (6, 6, 2)),
        (lambda: layers.Dense(4), (5,)),
        (lambda: layers.Dropout(0.5), (5,)),
    ],
)
def test_inference_keeps_no_cache_and_has_no_backward(make, input_shape):
    layer = _built(make(), input_shape)
    x = np.random.default_rng(12).normal(size=(2,) + input_shape)
    output = layer.forward(x)
    assert layer._cache is None
    with pytest.raises(RuntimeError, match=r"backward called before forward; run forward\(x, training=True\) first"):
        layer.backward(np.ones(output.shape))
    # A training pass keeps what backward needs; an inference pass after it drops it again.
    layer.forward(x, training=True)
    assert layer._cache is not None
    assert layer.backward(np.ones(output.shape)).shape == x.shape
    layer.forward(x)
    assert layer._cache is None
    with pytest.raises(RuntimeError, match="backward called before forward"):
        layer.backward(np.ones(output.shape))


# --- bad input -------------------------------------------------------------------------------


def test_layers_reject_bad_use():
    layer = layers.Conv2D(4, 3, name="conv1")
    with pytest.raises(RuntimeError, match=r"layer 'conv1' \(Conv2D\) is not built"):
        layer.forward(np.zeros((1, 5, 5, 1)))
    layer.build((5, 5, 1), np.random.default_rng(0))
    with pytest.raises(RuntimeError, match=r"layer 'conv1' \(Conv2D\): backward called before forward"):
        layer.backward(np.zeros((1, 3, 3, 4)))
    with pytest.raises(ValueError, match=r"layer 'conv1' \(Conv2D\) expects x of shape \(N, 5, 5, 1\), got shape \(1, 5, 5, 3\)"):
        layer.forward(np.zeros((1, 5, 5, 3)))
    with pytest.raises(ValueError, match=r"layer 'conv1' \(Conv2D\) expects x of shape \(N, 5, 5, 1\), got shape \(5, 5, 1\)"):
        layer.forward(np.zeros((5, 5, 1)))
    layer.forward(np.zeros((2, 5, 5, 1)), training=True)
    with pytest.raises(ValueError, match=r"layer 'conv1' \(Conv2D\): grad_output must have the shape of the last forward's output, \(2, 3, 3, 4\), got shape \(2, 3, 3, 5\)"):
        layer.backward(np.zeros((2, 3, 3, 5)))

    for bad_layer in (layers.ReLU(name="relu1"), layers.MaxPool2D(name="pool1"), layers.Dropout(0.5, name="drop1")):
        bad_layer.build((4, 4, 2), np.random.default_rng(0))
        with pytest.raises(RuntimeError, match=r"backward called before forward"):
            bad_layer.backward(np.zeros((1, 4, 4, 2)))


def test_build_rejects_shapes_that_do_not_fit():
    with pytest.raises(ValueError, match=r"layer 'dense1' \(Dense\) cannot take inputs of shape \(4, 4, 2\).*put a Flatten layer before it"):
        layers.Dense(3, name="dense1").build((4, 4, 2), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"layer 'conv2' \(Conv2D\) cannot take inputs of shape \(2, 2, 8\).*kernel of height x width \(3, 3\) is larger"):
        layers.Conv2D(4, 3, name="conv2").build((2, 2, 8), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"layer 'pool1' \(MaxPool2D\) cannot take inputs of shape \(10,\).*\(H, W, C\)"):
        layers.MaxPool2D(name="pool1").build((10,), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"input_shape must be a tuple of positive ints"):
        layers.ReLU().build((0, 3), np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator"):
        layers.ReLU().build((3,), rng=0)


def test_constructors_reject_bad_arguments():
    with pytest.raises(ValueError, match="filters must be at least 1"):
        layers.Conv2D(0, 3)
    with pytest.raises(TypeError, match="kernel_size must be an int or a pair"):
        layers.Conv2D(4, 2.5)
    with pytest.raises(ValueError, match="padding must be 'valid', 'same'"):
        layers.Conv2D(4, 3, padding="full")
    with pytest.raises(ValueError, match="padding must not be negative"):
        layers.Conv2D(4, 3, padding=-1)
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same' for pooling"):
        layers.MaxPool2D(2, padding=1)
    with pytest.raises(ValueError, match="stride must be at least 1"):
        layers.AvgPool2D(2, stride=0)
    with pytest.raises(ValueError, match="units must be at least 1"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="weight_scale must be a non-negative float"):
        layers.Dense(3, weight_scale=-1.0)
    with pytest.raises(ValueError, match=r"^rate must be a float in \[0, 1\), got 1.0$"):
        layers.Dropout(1.0)
    with pytest.raises(TypeError, match=r"^rate must be a float in \[0, 1\), got 'half'$"):
        layers.Dropout("half")
    with pytest.raises(TypeError, match="name must be a non-empty str"):
        layers.ReLU(name="")


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: layers.Conv2D(4, (3, 3, 1)), TypeError, r"kernel_size must be an int or a pair of ints \(height, width\), got \(3, 3, 1\)"),
        (lambda: layers.Conv2D(0, 3), ValueError, r"filters must be at least 1, got 0"),
        (lambda: layers.Conv2D(4, (3, 0)), ValueError, r"kernel_size must be at least 1 in each direction, got \(3, 0\)"),
        (lambda: layers.Conv2D(4, 3, stride=0), ValueError, r"stride must be at least 1"),
        (lambda: layers.Conv2D(4, 3, padding="full"), ValueError,
         r"^padding must be 'valid', 'same', an int or a pair of ints \(height, width\), got 'full'$"),
        (lambda: layers.Conv2D(4, 3, padding=-1), ValueError, r"^padding must not be negative, got -1$"),
        (lambda: layers.Conv2D("4", 3), TypeError, r"filters must be an int, got '4'"),
        (lambda: layers.MaxPool2D(0), ValueError, r"pool_size must be at least 1"),
        (lambda: layers.MaxPool2D(2, stride=1.5), TypeError, r"stride must be an int or a pair of ints"),
        (lambda: layers.MaxPool2D(2, padding=1), ValueError, r"^padding must be 'valid' or 'same' for pooling, got 1$"),
        (lambda: layers.Dense(np.zeros(4)), TypeError, r"units must be an int"),
        (lambda: layers.Dense(0), ValueError, r"units must be at least 1"),
        (lambda: layers.Dense(3, weight_scale="big"), TypeError, r"weight_scale must be a non-negative float, got 'big'"),
        (lambda: layers.Dense(3, use_bias=0), TypeError, r"^use_bias must be True or False, got 0$"),
        (lambda: layers.Conv2D(3, 3, use_bias="no"), TypeError, r"^use_bias must be True or False, got 'no'$"),
        (lambda: layers.ReLU(name=3), TypeError, r"name must be a non-empty str or None, got 3"),
        (lambda: layers.Softmax(name=""), TypeError, r"name must be a non-empty str or None, got ''"),
    ],
)
def test_layers_reject_bad_settings(make, error, message):
    with pytest.raises(error, match=message):
        make()
