"""BatchNorm of cnn_course.layers (chapter "Training CNNs in practice"): forward, moving statistics
and gradients equal Keras's BatchNormalization, finite differences, weights and clear errors."""

import copy

import numpy as np
import pytest

from cnn_course import gradient_check, gradients, keras_interop, layers, model, normalization, optimizers

from numerics import assert_float64_close

TOLERANCE = 1e-6  # relative error allowed between a backward pass and centred differences (float64)

# Batch normalization is smooth in its input and its parameters. With SMOOTH_STEP, the
# truncation error of centred differences (h**2 / 6 times a third derivative of
# sum(output * upstream), a few units for these unit-variance batches) stays below 1e-8 of
# the gradient, and rounding (2**-53 times |sum(output * upstream)| < 100, divided by h)
# below 1e-9.
SMOOTH_STEP = 1e-4

SHAPES = {"images (N, H, W, C)": (6, 5, 4, 3), "features (N, D)": (8, 5)}


def _built(layer, input_shape, seed=0):
    layer.name = layer.name or "norm"
    layer.build(input_shape, np.random.default_rng(seed), "float64")
    return layer


def _batch(rng, shape, shift=0.0):
    """A batch whose channels have different means and spreads, so that normalising matters."""
    channels = shape[-1]
    return rng.normal(size=shape) * rng.uniform(0.5, 2.0, channels) + rng.normal(size=channels) + shift


def _random_weights(rng, channels):
    """gamma, beta, moving_mean, moving_variance: random, the variance positive."""
    return [rng.normal(1.0, 0.3, channels), rng.normal(0.0, 0.3, channels), rng.normal(0.0, 0.5, channels),
            rng.uniform(0.5, 2.0, channels)]


def _keras_twin(keras, layer, shape):
    """keras.layers.BatchNormalization with the layer's settings and weights, float64."""
    keras_layer = keras.layers.BatchNormalization(momentum=layer.momentum, epsilon=layer.epsilon, dtype="float64")
    keras_layer.build((None,) + tuple(shape[1:]))
    keras_layer.set_weights(layer.get_weights())
    return keras_layer


def _magnitude(x, gamma, beta, mean, variance, epsilon, batch_statistics):
    """A magnitude M for assert_float64_close of ``gamma * (x - mean) / sqrt(variance + epsilon) + beta``.

    ``(x - mean)`` rounds by at most 2**-53 (|x| + |mean|), the division and the products by a
    few ulps: the terms are bounded by |gamma| (|x| + |mean|) / sigma + |beta|. With the batch's
    statistics, the mean and the variance are sums of M values (M <= 120 here) that both sides
    round differently, at most M 2**-53 relative to their terms: the mean to |x|, the variance to
    (|x| + |mean|)**2; that moves sigma by at most M 2**-53 (|x| + |mean|)**2 / variance relative,
    hence the factor (1 + max (|x| + |mean|)**2 / variance), with M 2**-53 < 1e-10 / 100.
    """
    sigma = np.sqrt(variance + epsilon)
    terms = np.abs(gamma) * (np.abs(x) + np.abs(mean)) / sigma + np.abs(beta)
    if not batch_statistics:
        return terms
    axes = tuple(range(x.ndim - 1))
    spread = np.max((np.abs(x) + np.abs(mean)) ** 2, axis=axes) / (variance + epsilon)
    return terms * (1.0 + spread)


def abs_logits(net, x):
    """The logits of |x| through |weights| and |biases|, every BatchNorm at inference with
    |gamma|, |beta| and -|moving_mean| (so that it computes |gamma| (|x| + |mean|) / sigma + |beta|):
    for every logit, a bound on the size of the terms it is made of (ReLU and pooling pass it on)."""
    twin = copy.deepcopy(net)
    for _, value, _ in twin.parameters():
        np.abs(value, out=value)
    for layer in twin.layers:
        for key, value in layer.state.items():
            if key.endswith("moving_mean"):
                value[...] = -np.abs(value)
    return twin.logits(np.abs(x))


# --- forward and moving statistics: Keras's BatchNormalization, float64 --------------------


@pytest.mark.parametrize("momentum, epsilon", [(0.99, 1e-3), (0.8, 1e-5)])
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_forward_equals_keras_in_training_and_in_inference(keras, name, momentum, epsilon):
    shape = SHAPES[name]
    rng = np.random.default_rng(1)
    layer = _built(layers.BatchNorm(momentum, epsilon), shape[1:])
    layer.set_weights(_random_weights(rng, shape[-1]))
    keras_layer = _keras_twin(keras, layer, shape)
    x = _batch(rng, shape)
    gamma, beta, moving_mean, moving_variance = layer.get_weights()

    # Inference: the moving statistics.
    expected = keras_layer(x, training=False).numpy()
    magnitude = _magnitude(x, gamma, beta, moving_mean, moving_variance, epsilon, batch_statistics=False)
    assert_float64_close(layer.forward(x), expected, magnitude, err_msg="inference")

    # Training: the batch's statistics, biased variance (as Keras 3 uses it).
    mean, variance = x.reshape(-1, shape[-1]).mean(axis=0), x.reshape(-1, shape[-1]).var(axis=0)
    expected = keras_layer(x, training=True).numpy()
    magnitude = _magnitude(x, gamma, beta, mean, variance, epsilon, batch_statistics=True)
    assert_float64_close(layer.forward(x, training=True), expected, magnitude, err_msg="training")
    # Each channel of the output has the mean beta and the standard deviation
    # |gamma| sqrt(variance / (variance + epsilon)): normalised, then scaled and shifted.
    output = layer.forward(x, training=True).reshape(-1, shape[-1])
    np.testing.assert_allclose(output.mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(output.std(axis=0), np.abs(gamma) * np.sqrt(variance / (variance + epsilon)), rtol=1e-12)


@pytest.mark.parametrize("momentum", [0.99, 0.5, 0.0])
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_moving_statistics_after_five_training_steps_equal_keras(keras, name, momentum):
    shape = SHAPES[name]
    rng = np.random.default_rng(2)
    layer = _built(layers.BatchNorm(momentum=momentum), shape[1:])
    keras_layer = _keras_twin(keras, layer, shape)
    largest_mean, largest_square = 1.0, 1.0  # the initial moving statistics are 0 and 1
    for step in range(5):
        x = _batch(rng, shape, shift=step)  # a different batch each step, drifting
        layer.forward(x, training=True)
        keras_layer(x, training=True)
        largest_mean = max(largest_mean, np.abs(x).max())
        largest_square = max(largest_square, (2 * np.abs(x).max()) ** 2)
    keras_mean, keras_variance = (v.numpy() for v in (keras_layer.moving_mean, keras_layer.moving_variance))
    # Convex combinations of batch statistics, means of M terms of at most |x| and (2 max |x|)**2.
    assert_float64_close(layer.state["moving_mean"], keras_mean, largest_mean)
    assert_float64_close(layer.state["moving_variance"], keras_variance, largest_square)
    # The statistics did move (a test that could not fail otherwise for momentum 0.99).
    assert np.abs(layer.state["moving_mean"]).min() > 1e-3
    # By the rule itself, from the five batches' biased variances.
    rng = np.random.default_rng(2)
    mean, variance = np.zeros(shape[-1]), np.ones(shape[-1])
    for step in range(5):
        x = _batch(rng, shape, shift=step).reshape(-1, shape[-1])
        mean = mean * momentum + x.mean(axis=0) * (1 - momentum)
        variance = variance * momentum + x.var(axis=0) * (1 - momentum)
    assert_float64_close(layer.state["moving_mean"], mean, largest_mean)
    assert_float64_close(layer.state["moving_variance"], variance, largest_square)
    # Inference neither uses nor changes the batch's statistics.
    before = [value.copy() for value in layer.state.values()]
    layer.forward(_batch(rng, shape))
    for value, old in zip(layer.state.values(), before):
        np.testing.assert_array_equal(value, old)


# --- backward: GradientTape and finite differences -------------------------------------------


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_gradients_equal_gradient_tape(tf, keras, name):
    shape = SHAPES[name]
    rng = np.random.default_rng(3)
    layer = _built(layers.BatchNorm(epsilon=1e-3), shape[1:])
    layer.set_weights(_random_weights(rng, shape[-1]))
    keras_layer = _keras_twin(keras, layer, shape)
    x = _batch(rng, shape)
    upstream = rng.normal(size=shape)
    x_t = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_t)
        loss = tf.reduce_sum(keras_layer(x_t, training=True) * upstream)
    grad_x, grad_gamma, grad_beta = (g.numpy() for g in tape.gradient(loss, [x_t, keras_layer.gamma, keras_layer.beta]))

    layer.forward(x, training=True)
    ours = layer.backward(upstream)
    # Magnitudes: the same formulas of absolute values, times the statistics' relative error
    # (see _magnitude); grad_x = gamma / sigma (g - mean(g) - x_hat mean(g x_hat)).
    axes = tuple(range(x.ndim - 1))
    mean, variance = normalization.batch_moments(x)
    sigma = np.sqrt(variance + layer.epsilon)
    x_hat = np.abs(x - mean) / sigma
    spread = 1.0 + np.max((np.abs(x) + np.abs(mean)) ** 2, axis=axes) / sigma**2
    g = np.abs(upstream)
    gamma = np.abs(layer.params["gamma"])
    magnitude_x = gamma / sigma * (g + g.mean(axis=axes) + (x_hat + 1) * (g * (x_hat + 1)).mean(axis=axes)) * spread
    assert_float64_close(ours, grad_x, magnitude_x, err_msg="input")
    assert_float64_close(layer.grads["gamma"], grad_gamma, (g * (x_hat + 1)).sum(axis=axes) * spread, err_msg="gamma")
    assert_float64_close(layer.grads["beta"], grad_beta, g.sum(axis=axes), err_msg="beta")
    # The formula's two corrections matter: without them the input gradient is far off.
    assert np.abs(grad_x - layer.params["gamma"] / sigma * upstream).max() > 0.01


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_gradients_pass_a_finite_difference_check(name):
    shape = SHAPES[name]
    rng = np.random.default_rng(4)
    layer = _built(layers.BatchNorm(momentum=0.9, epsilon=1e-3), shape[1:])
    layer.set_weights(_random_weights(rng, shape[-1]))
    x = _batch(rng, shape)
    upstream = rng.normal(size=shape)
    layer.forward(x, training=True)
    analytic = layer.backward(upstream)
    grad_gamma, grad_beta = layer.grads["gamma"].copy(), layer.grads["beta"].copy()

    # The loss of a training forward pass (batch statistics; the moving ones do not enter it).
    def loss_of_input(v):
        return np.sum(layer.forward(v, training=True) * upstream)

    errors = {"input": gradient_check.gradient_check(loss_of_input, x, analytic, SMOOTH_STEP)}
    for key, analytic_gradient in (("gamma", grad_gamma), ("beta", grad_beta)):
        def loss_of_parameter(v, key=key):
            saved = layer.params[key].copy()
            layer.params[key][...] = v
            result = np.sum(layer.forward(x, training=True) * upstream)
            layer.params[key][...] = saved
            return result

        errors[key] = gradient_check.gradient_check(loss_of_parameter, layer.params[key], analytic_gradient, SMOOTH_STEP)
    assert max(errors.values()) < TOLERANCE, errors
    # The functional form gives the same numbers as the layer.
    grad_x, gamma_gradient, beta_gradient = gradients.batch_norm_backward(upstream, x, layer.params["gamma"], layer.epsilon)
    np.testing.assert_array_equal(grad_x, analytic)
    np.testing.assert_array_equal(gamma_gradient, grad_gamma)
    np.testing.assert_array_equal(beta_gradient, grad_beta)
    assert gradients.batch_norm_backward(upstream, x, layer.params["gamma"], layer.epsilon, need_grad_x=False)[0] is None


def test_a_network_with_batch_norm_passes_a_finite_difference_check():
    # Conv -> BatchNorm -> Dense: the whole chain rule through the batch statistics, in a Sequential.
    net = model.Sequential([layers.Conv2D(3, 2), layers.BatchNorm(), layers.Flatten(), layers.Dense(2)], (4, 4, 2), seed=5,
                           dtype="float64")
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 4, 4, 2))
    upstream = rng.normal(size=(4, 2))
    net.logits(x, training=True)
    net.backward(upstream)
    for key, value, gradient in net.parameters():
        analytic = gradient.copy()

        def loss(v, value=value):
            saved = value.copy()
            value[...] = v
            result = np.sum(net.logits(x, training=True) * upstream)
            value[...] = saved
            return result

        if key == "conv1/bias":
            # A bias before BatchNorm shifts a channel's values and their mean alike: the
            # normalised output, and so the loss, do not depend on it. Both gradients are 0 up to
            # rounding, the differences' at most (1000 roundings of the loss's terms) / SMOOTH_STEP.
            numerical = gradient_check.numerical_gradient(loss, value, SMOOTH_STEP)
            terms = np.sum(np.abs(net.logits(x, training=True) * upstream))
            assert np.abs(analytic).max() < 1e-12 and np.abs(numerical).max() < 1000 * 2.0**-53 * terms / SMOOTH_STEP
            continue
        assert gradient_check.gradient_check(loss, value, analytic, SMOOTH_STEP) < TOLERANCE, key


# --- parameters, state, weights, costs ---------------------------------------------------------


def test_only_gamma_and_beta_are_trained_and_get_weights_is_in_keras_order(keras):
    net = model.Sequential([layers.Conv2D(4, 3), layers.BatchNorm(), layers.ReLU(), layers.Flatten(), layers.Dense(3)],
                           (6, 6, 1), dtype="float64")
    norm = net.get_layer("batch_norm1")
    assert list(norm.params) == ["gamma", "beta"] and list(norm.state) == ["moving_mean", "moving_variance"]
    np.testing.assert_array_equal(norm.params["gamma"], np.ones(4))
    np.testing.assert_array_equal(norm.state["moving_variance"], np.ones(4))
    assert not norm.params["beta"].any() and not norm.state["moving_mean"].any()
    assert norm.count_params() == 8 and norm.count_state() == 8
    assert [key for key, _, _ in net.parameters()] == [
        "conv1/kernel", "conv1/bias", "batch_norm1/gamma", "batch_norm1/beta", "dense1/weights", "dense1/bias",
    ]
    # Keras's model.get_weights() order, moving statistics included; its count of trainable numbers.
    keras_model = keras_interop.to_keras(net, logits=True)
    assert [w.shape for w in net.get_weights()] == [w.shape for w in keras_model.get_weights()]
    trainable = sum(int(np.prod(v.shape)) for v in keras_model.trainable_weights)
    assert net.count_params() == trainable and net.count_state() == keras_model.count_params() - trainable
    # An optimizer step changes gamma and beta, never the moving statistics (a training forward does).
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(5, 6, 6, 1)), rng.integers(0, 3, 5)
    convolved = net.get_layer("conv1").forward(x, training=True)  # what batch_norm1 gets in the step
    mean, variance = normalization.batch_moments(convolved)
    net.train_step(x, y, optimizers.SGD(0.1))
    after_forward = [value.copy() for value in norm.state.values()]
    # Two float64 computations of the same statistics (sums of 80 values): within 1e-10 of their terms.
    largest = np.abs(convolved).max()
    assert_float64_close(after_forward[0], 0.01 * mean, 0.01 * largest)
    assert_float64_close(after_forward[1], 0.99 + 0.01 * variance, 0.01 * (2 * largest) ** 2 + 1)
    assert not np.array_equal(norm.params["gamma"], np.ones(4))
    optimizers.Adam(0.1).step(net.parameters())
    for value, old in zip(norm.state.values(), after_forward):
        np.testing.assert_array_equal(value, old)
    # set_weights copies all four in place; get_weights returns the arrays themselves.
    weights = _random_weights(rng, 4)
    arrays = norm.get_weights()
    norm.set_weights(weights)
    for array, new in zip(arrays, weights):
        np.testing.assert_array_equal(array, new)
    assert norm.get_weights()[2] is norm.state["moving_mean"]
    net.set_weights(net.get_weights())
    with pytest.raises(ValueError, match=r"set_weights needs 4 arrays \(gamma, beta, moving_mean, moving_variance\), got 2"):
        norm.set_weights(weights[:2])
    with pytest.raises(ValueError, match=r"moving_variance must have shape \(4,\), got shape \(5,\)"):
        norm.set_weights(weights[:3] + [np.ones(5)])
    np.testing.assert_array_equal(norm.state["moving_mean"], weights[2])  # a refused set_weights changes nothing
    with pytest.raises(ValueError, match=r"^set_weights needs 8 arrays \(each layer's get_weights\(\), moving statistics included\), got 6$"):
        net.set_weights([value for _, value, _ in net.parameters()])


def test_inference_does_not_depend_on_the_rest_of_the_batch():
    net = model.Sequential([layers.Flatten(), layers.Dense(4), layers.BatchNorm(), layers.Dense(2)], (3, 3), seed=1, dtype="float64")
    rng = np.random.default_rng(7)
    for _ in range(3):
        net.logits(rng.normal(size=(6, 3, 3)), training=True)
    x = rng.normal(size=(5, 3, 3))
    together = net.logits(x)
    # The same numbers, up to the rounding of products summed in another order for another batch size.
    magnitude = abs_logits(net, x)
    for index in range(5):
        assert_float64_close(net.logits(x[index : index + 1])[0], together[index], magnitude[index])
    # While training, the other examples do change an example's output.
    assert np.abs(net.logits(x, training=True)[0] - net.logits(x[:2], training=True)[0]).max() > 1e-3


def test_macs_window_and_summary():
    net = model.Sequential([layers.Conv2D(4, 3), layers.BatchNorm(), layers.ReLU(), layers.Flatten(), layers.Dense(3),
                            layers.BatchNorm()], (6, 6, 1))
    rows = {record.name: record for record in net.describe()}
    # One multiply-add per output number (x * scale + shift at inference); a 1 x 1 window.
    assert rows["batch_norm1"].macs == 4 * 4 * 4 and rows["batch_norm1"].parameters == 2 * 4
    assert rows["batch_norm1"].receptive_field == rows["conv1"].receptive_field == (3, 3)
    assert rows["batch_norm2"].macs == 3 and rows["batch_norm2"].receptive_field is None
    lines = net.summary().splitlines()
    assert lines[3].split() == ["batch_norm1", "(BatchNorm)", "(None,", "4,", "4,", "4)", "8", "64", "64", "3", "x", "3"]
    trainable = 3 * 3 * 4 + 4 + 8 + 64 * 3 + 3 + 6
    assert lines[-4:] == [
        f"Total params: {trainable + 8 + 6:,}", f"Trainable params: {trainable:,}", "Non-trainable params: 14",
        f"Total MACs per example: {sum(record.macs for record in net.describe()):,}",
    ]
    assert net.count_params() == trainable and net.count_state() == 14


# --- the forward op ---------------------------------------------------------------------------


def test_batch_norm_op_and_moments():
    rng = np.random.default_rng(8)
    x = _batch(rng, (5, 3, 2, 4))
    mean, variance = normalization.batch_moments(x)
    flat = x.reshape(-1, 4)
    assert_float64_close(mean, flat.mean(axis=0), np.abs(flat).max())
    assert_float64_close(variance, flat.var(axis=0, ddof=0), (2 * np.abs(flat).max()) ** 2)  # biased: / M
    gamma, beta, moving_mean, moving_variance = _random_weights(rng, 4)
    by_hand = gamma * (x - moving_mean) / np.sqrt(moving_variance + 1e-3) + beta
    magnitude = _magnitude(x, gamma, beta, moving_mean, moving_variance, 1e-3, batch_statistics=False)
    assert_float64_close(normalization.batch_norm(x, gamma, beta, moving_mean, moving_variance), by_hand, magnitude)
    x32 = x.astype(np.float32)
    weights32 = [w.astype(np.float32) for w in (gamma, beta, moving_mean, moving_variance)]
    assert normalization.batch_norm(x32, *weights32).dtype == np.float32
    assert [a.dtype for a in normalization.batch_moments(x32)] == [np.float32, np.float32]
    layer = _built(layers.BatchNorm(), (3, 2, 4))
    layer.set_weights([gamma, beta, moving_mean, moving_variance])
    np.testing.assert_array_equal(layer.forward(x), normalization.batch_norm(x, *layer.get_weights()))


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"momentum": 1.0}, ValueError, r"^momentum must be a float in \[0, 1\), got 1.0$"),
        ({"momentum": -0.1}, ValueError, r"^momentum must be a float in \[0, 1\), got -0.1$"),
        ({"momentum": "high"}, TypeError, r"^momentum must be a float in \[0, 1\), got 'high'$"),
        ({"momentum": True}, TypeError, r"^momentum must be a float in \[0, 1\), got True$"),
        ({"epsilon": 0.0}, ValueError, r"^epsilon must be a positive float, got 0.0$"),
        ({"epsilon": -1e-3}, ValueError, r"^epsilon must be a positive float, got -0.001$"),
        ({"epsilon": float("nan")}, ValueError, r"^epsilon must be a positive float, got nan$"),
        ({"epsilon": None}, TypeError, r"^epsilon must be a positive float, got None$"),
        ({"name": ""}, TypeError, r"name must be a non-empty str or None"),
    ],
)
def test_bad_settings_are_refused(arguments, error, message):
    with pytest.raises(error, match=message):
        layers.BatchNorm(**arguments)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r"^layer 'norm' \(BatchNorm\) cannot take inputs of shape \(4, 4\): "
                                         r"needs one example of shape \(H, W, C\) or \(D,\), got \(4, 4\)$"):
        layers.BatchNorm(name="norm").build((4, 4), np.random.default_rng(0))
    layer = _built(layers.BatchNorm(), (4, 4, 3))
    with pytest.raises(ValueError, match=r"layer 'norm' \(BatchNorm\) expects x of shape \(N, 4, 4, 3\), got shape \(2, 4, 4, 2\)"):
        layer.forward(np.zeros((2, 4, 4, 2)), training=True)
    with pytest.raises(RuntimeError, match=r"backward called before forward"):
        layer.forward(np.zeros((2, 4, 4, 3)))
        layer.backward(np.zeros((2, 4, 4, 3)))
    with pytest.raises(ValueError, match=r"^gamma must have shape \(C,\) = \(3,\) to match x of shape \(2, 3\), got shape \(2,\)$"):
        normalization.batch_norm(np.zeros((2, 3)), np.ones(2), np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"^variance must not be negative"):
        normalization.batch_norm(np.zeros((2, 3)), np.ones(3), np.zeros(3), np.zeros(3), -np.ones(3))
    with pytest.raises(ValueError, match=r"^x must have shape \(N, \.\.\., C\)"):
        normalization.batch_moments(np.zeros(3))
    with pytest.raises(ValueError, match=r"^grad_output must have the shape of the input x, \(2, 3\), got shape \(3, 2\)$"):
        gradients.batch_norm_backward(np.zeros((3, 2)), np.zeros((2, 3)), np.ones(3))
