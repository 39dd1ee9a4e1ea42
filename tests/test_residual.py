"""Residual of cnn_course.layers (chapter "Training CNNs in practice"): x + F(x) by hand, projection
shortcuts, finite differences, training, a Keras functional model with Add(), costs and clear errors."""

import copy
import math

import numpy as np
import pytest

from cnn_course import gradient_check, keras_interop, layers, model, normalization, ops, optimizers

from numerics import assert_float64_close

TOLERANCE = 1e-6  # relative error allowed between a backward pass and centred differences (float64)

# Convolutions, BatchNorm and the addition are smooth; ReLU is linear on each side of 0, and the
# test checks that no nudge moves a ReLU input across 0 (the same mask in every evaluation).
# With STEP, the truncation error of centred differences (h**2 / 6 times a third derivative of
# a few units) stays below 1e-10 of the gradient and rounding (2**-53 |loss| / h, |loss| < 100)
# below 1e-7, inside TOLERANCE.
STEP = 1e-6


def _built(layer, input_shape, seed=0):
    layer.name = layer.name or "block"
    layer.build(input_shape, np.random.default_rng(seed), "float64")
    return layer


def _randomise(arrays, rng):
    """Non-zero biases, BatchNorm scales and shifts and moving statistics, so that none can hide.

    ``arrays`` is a layer or a Sequential (whose ``parameters()`` and layers' ``state`` are used)."""
    if isinstance(arrays, model.Sequential):
        params = {key: value for key, value, _ in arrays.parameters()}
        state = {key: value for layer in arrays.layers for key, value in layer.state.items()}
    else:
        params, state = arrays.params, arrays.state
    for key, value in params.items():
        if key.endswith("bias") or key.endswith("beta"):
            value[...] = rng.normal(0.0, 0.3, value.shape)
        elif key.endswith("gamma"):
            value[...] = rng.normal(1.0, 0.3, value.shape)
    for key, value in state.items():
        value[...] = rng.uniform(0.5, 2.0, value.shape) if key.endswith("variance") else rng.normal(0.0, 0.5, value.shape)


def _float32_exact(rng, shape):
    """Random float64 numbers that float32 holds exactly (Keras's predict casts float64 arrays to float32)."""
    return rng.normal(size=shape).astype(np.float32).astype(np.float64)


def _every_layer(layer_list):
    """Every layer, those inside Residual blocks (and their projections) too."""
    for layer in layer_list:
        yield layer
        if isinstance(layer, layers.Residual):
            yield from _every_layer(layer.layers + ([layer.projection] if layer.projection is not None else []))


def abs_output(net, x, training=False):
    """For every output of ``net.logits(x, training)``, a bound on the size of the terms it is made of.

    The same network run at inference on |x| with |weights| and |biases|, each BatchNorm with
    |gamma|, |beta| and -|moving_mean|, so that it computes |gamma| (|x| + |mean|) / sigma + |beta|;
    a Residual adds the two paths' bounds; ReLU and pooling pass them on. Each float64 result is
    then within a few dozen roundings of these terms (numerics.py).

    With ``training`` (every BatchNorm with momentum 0, so that after a training pass its moving
    statistics are the batch's), each BatchNorm uses the batch's statistics and its gamma and
    beta are multiplied by ``(2 + sqrt(M)) * (1 + (2 |mean| / sigma + sqrt(M)) ** 2)``, M the
    values per channel: the statistics are sums of M terms of at most (|x| + |mean|)**2, so
    sigma rounds by at most M 2**-53 (|x| + |mean|)**2 / sigma**2 relative, where
    |x - mean| <= sqrt(M) sigma; and an error d in the input of a training-mode BatchNorm moves
    its output by at most |gamma| / sigma (2 + sqrt(M)) d, not |gamma| / sigma d.
    """
    if training:
        assert all(layer.momentum == 0.0 for layer in _every_layer(net.layers) if isinstance(layer, layers.BatchNorm))
        net.logits(x, training=True)
    twin = copy.deepcopy(net)
    for _, value, _ in twin.parameters():
        np.abs(value, out=value)
    for layer in _every_layer(twin.layers):
        if not isinstance(layer, layers.BatchNorm):
            continue
        mean = layer.state["moving_mean"]
        if training:
            count = x.shape[0] * math.prod(layer.input_shape[:-1])
            sigma = np.sqrt(layer.state["moving_variance"] + layer.epsilon)
            factor = (2 + math.sqrt(count)) * (1 + (2 * np.abs(mean) / sigma + math.sqrt(count)) ** 2)
            layer.params["gamma"] *= factor
            layer.params["beta"] *= factor
        mean[...] = -np.abs(mean)
    return twin.logits(np.abs(x))


# --- forward: x + F(x) by hand -----------------------------------------------------------------


def test_identity_block_is_x_plus_f_of_x():
    rng = np.random.default_rng(1)
    block = _built(layers.Residual([layers.Conv2D(3, 3, padding="same"), layers.ReLU(), layers.Conv2D(3, 3, padding="same")]),
                   (6, 5, 3))
    _randomise(block, rng)
    assert block.projection is None and block.output_shape == (6, 5, 3) and block.names == ["conv1", "relu1", "conv2"]
    x = rng.normal(size=(2, 6, 5, 3))
    first, second = block.layers[0].get_weights(), block.layers[2].get_weights()
    by_hand = x + ops.conv2d(ops.relu(ops.conv2d(x, *first, padding="same")), *second, padding="same")
    hidden = ops.conv2d(np.abs(x), *map(np.abs, first), padding="same")
    magnitude = np.abs(x) + ops.conv2d(hidden, *map(np.abs, second), padding="same")
    assert_float64_close(block.forward(x), by_hand, magnitude, err_msg="inference")
    assert_float64_close(block.forward(x, training=True), by_hand, magnitude, err_msg="training")
    # projection=None is the identity too, and a block of dense layers works alike.
    dense = _built(layers.Residual([layers.Dense(4), layers.ReLU(), layers.Dense(4)], projection=None), (4,))
    v = rng.normal(size=(3, 4))
    w1, w2 = dense.layers[0].get_weights(), dense.layers[2].get_weights()
    magnitude = np.abs(v) + ops.dense(ops.dense(np.abs(v), *map(np.abs, w1)), *map(np.abs, w2))
    assert_float64_close(dense.forward(v), v + ops.dense(ops.relu(ops.dense(v, *w1)), *w2), magnitude)


@pytest.mark.parametrize("stride, input_shape", [(2, (7, 7, 3)), ((2, 1), (8, 5, 2)), (1, (5, 5, 2))])
def test_a_shape_change_gets_a_strided_1x1_projection(stride, input_shape):
    rng = np.random.default_rng(2)
    conv, norm = layers.Conv2D(4, 3, stride=stride, padding="same"), layers.BatchNorm()
    block = _built(layers.Residual([conv, norm, layers.ReLU()]), input_shape)
    _randomise(block, rng)
    projection = block.projection
    strides = (stride, stride) if isinstance(stride, int) else stride
    assert isinstance(projection, layers.Conv2D) and (projection.kernel_size, projection.stride) == ((1, 1), strides)
    assert projection.params["kernel"].shape == (1, 1, input_shape[2], 4)
    assert block.output_shape == projection.output_shape == conv.output_shape
    assert list(block.params) == ["conv1/kernel", "conv1/bias", "batch_norm1/gamma", "batch_norm1/beta",
                                  "projection/kernel", "projection/bias"]
    assert list(block.state) == ["batch_norm1/moving_mean", "batch_norm1/moving_variance"]
    assert block.params["projection/kernel"] is projection.params["kernel"]  # the arrays themselves
    assert block.count_params() == conv.count_params() + norm.count_params() + projection.count_params()
    x = rng.normal(size=(3,) + input_shape)
    shortcut = ops.conv2d(x, *projection.get_weights(), stride=strides)
    convolved = ops.conv2d(x, *conv.get_weights(), stride=strides, padding="same")
    by_hand = shortcut + ops.relu(normalization.batch_norm(convolved, *norm.get_weights(), norm.epsilon))
    gamma, beta, mean, variance = norm.get_weights()
    convolved_abs = ops.conv2d(np.abs(x), *map(np.abs, conv.get_weights()), stride=strides, padding="same")
    magnitude = (ops.conv2d(np.abs(x), *map(np.abs, projection.get_weights()), stride=strides)
                 + np.abs(gamma) * (convolved_abs + np.abs(mean)) / np.sqrt(variance + norm.epsilon) + np.abs(beta))
    assert_float64_close(block.forward(x), by_hand, magnitude)


def test_dropout_inside_a_block_trains_with_the_models_generator():
    rng = np.random.default_rng(3)
    dropout = layers.Dropout(0.5)
    block = layers.Residual([dropout])
    net = model.Sequential([layers.Flatten(), block, layers.Dense(2)], (3, 4), seed=7, dtype="float64")
    x = rng.normal(size=(5, 3, 4))
    assert dropout._rng is not None
    flat = x.reshape(5, 12)
    # Inference: dropout is off, the block doubles its input (x + x).
    np.testing.assert_array_equal(block.forward(flat), 2 * flat)
    # Training: x + mask * x / (1 - rate); its gradient g + mask * g / (1 - rate).
    output = block.forward(flat, training=True)
    keep = output != flat
    assert 0 < keep.sum() < keep.size
    np.testing.assert_array_equal(output, flat + np.where(keep, flat / 0.5, 0.0))
    upstream = rng.normal(size=(5, 12))
    np.testing.assert_array_equal(block.backward(upstream), upstream + np.where(keep, upstream / 0.5, 0.0))
    # A whole training step runs through it.
    loss, _ = net.train_step(x, np.array([0, 1, 0, 1, 1]), optimizers.SGD(0.1))
    assert np.isfinite(loss)


# --- backward: finite differences --------------------------------------------------------------


@pytest.mark.parametrize("stride", [1, 2])
def test_block_gradients_match_finite_differences(stride):
    """Conv -> BatchNorm -> ReLU -> Conv inside, a projection on the shortcut (stride 2) or not."""
    rng = np.random.default_rng(4)
    channels = 3 if stride == 1 else 4
    relu = layers.ReLU()
    inner = [layers.Conv2D(channels, 3, stride=stride, padding="same"), layers.BatchNorm(), relu,
             layers.Conv2D(channels, 3, padding="same")]
    block = _built(layers.Residual(inner), (5, 5, 3))
    _randomise(block, rng)
    assert (block.projection is not None) == (stride == 2)
    x = rng.normal(size=(3, 5, 5, 3))
    upstream = rng.normal(size=(3,) + block.output_shape)
    block.forward(x, training=True)
    mask = relu._cache > 0
    analytic = block.backward(upstream)
    param_gradients = {key: value.copy() for key, value in block.grads.items()}
    assert set(param_gradients) == set(block.params)
    crossed = []  # evaluations where a ReLU input changed sides: the difference would see the kink

    def loss(v):
        result = np.sum(block.forward(v, training=True) * upstream)
        crossed.append(not np.array_equal(relu._cache > 0, mask))
        return result

    errors = {"input": gradient_check.gradient_check(loss, x, analytic, STEP)}
    for key, value in block.params.items():
        def parameter_loss(v, value=value):
            saved = value.copy()
            value[...] = v
            result = np.sum(block.forward(x, training=True) * upstream)
            crossed.append(not np.array_equal(relu._cache > 0, mask))
            value[...] = saved
            return result

        if key == "conv1/bias":
            # Before a BatchNorm a bias changes nothing (the batch mean takes it away): both are 0 up
            # to rounding, the differences' at most (1000 roundings of the loss's terms) / STEP.
            numerical = gradient_check.numerical_gradient(parameter_loss, value, STEP)
            terms = np.sum(np.abs(block.forward(x, training=True) * upstream))
            assert np.abs(param_gradients[key]).max() < 1e-12 and np.abs(numerical).max() < 1000 * 2.0**-53 * terms / STEP
            continue
        errors[key] = gradient_check.gradient_check(parameter_loss, value, param_gradients[key], STEP)
    assert max(errors.values()) < TOLERANCE, errors
    assert len(crossed) > 100 and not any(crossed)
    if stride == 2:
        assert "projection/kernel" in errors and "projection/bias" in errors
    # The shortcut's share: the identity passes upstream straight to the input.
    if stride == 1:
        inner_only = copy.deepcopy(block)
        path = inner_only.layers
        out = x
        for layer in path:
            out = layer.forward(out, training=True)
        grad = upstream
        for layer in reversed(path):
            grad = layer.backward(grad)
        np.testing.assert_allclose(analytic, grad + upstream, rtol=1e-12, atol=1e-12)
    # The first layer of a model skips the input gradient, but still fills the parameters' gradients.
    block.forward(x, training=True)
    assert block.backward(upstream, need_grad_input=False) is None
    for key, value in block.grads.items():
        np.testing.assert_allclose(value, param_gradients[key], rtol=1e-12, atol=1e-12)


# --- in a Sequential: training, Keras's functional model ----------------------------------------


def _resnet(momentum=0.99, dtype="float64", seed=0):
    """A small ResNet: a stem, an identity block and a strided block with a projection, global pooling."""
    return model.Sequential(
        [
            layers.Conv2D(4, 3, padding="same"), layers.BatchNorm(momentum), layers.ReLU(),
            layers.Residual([layers.Conv2D(4, 3, padding="same"), layers.BatchNorm(momentum), layers.ReLU(),
                             layers.Conv2D(4, 3, padding="same"), layers.BatchNorm(momentum)]),
            layers.ReLU(),
            layers.Residual([layers.Conv2D(6, 3, stride=2, padding="same"), layers.BatchNorm(momentum), layers.ReLU()]),
            layers.GlobalAvgPool2D(), layers.Dense(3),
        ],
        (8, 8, 2), seed=seed, dtype=dtype,
    )


def _keras_resnet(keras, momentum=0.99):
    """The same network as _resnet, written by hand with Keras's functional API and Add()."""
    L = keras.layers

    def bn(name):
        return L.BatchNormalization(momentum=momentum, epsilon=1e-3, name=name, dtype="float64")

    inputs = keras.Input((8, 8, 2), dtype="float64")
    x = L.ReLU(dtype="float64")(bn("stem_norm")(L.Conv2D(4, 3, padding="same", name="stem", dtype="float64")(inputs)))
    y = L.Conv2D(4, 3, padding="same", name="a_conv1", dtype="float64")(x)
    y = L.ReLU(dtype="float64")(bn("a_norm1")(y))
    y = bn("a_norm2")(L.Conv2D(4, 3, padding="same", name="a_conv2", dtype="float64")(y))
    x = L.ReLU(dtype="float64")(L.Add(dtype="float64")([x, y]))
    y = L.ReLU(dtype="float64")(bn("b_norm1")(L.Conv2D(6, 3, strides=2, padding="same", name="b_conv1", dtype="float64")(x)))
    shortcut = L.Conv2D(6, 1, strides=2, name="b_projection", dtype="float64")(x)
    x = L.Add(dtype="float64")([shortcut, y])
    outputs = L.Dense(3, name="scores", dtype="float64")(L.GlobalAveragePooling2D(dtype="float64")(x))
    keras_model = keras.Model(inputs, outputs)
    return keras_model


def _copy_weights_to_keras(net, keras_model):
    first, second = net.layers[3], net.layers[5]
    pairs = [
        ("stem", net.layers[0]), ("stem_norm", net.layers[1]),
        ("a_conv1", first.layers[0]), ("a_norm1", first.layers[1]), ("a_conv2", first.layers[3]), ("a_norm2", first.layers[4]),
        ("b_conv1", second.layers[0]), ("b_norm1", second.layers[1]), ("b_projection", second.projection),
        ("scores", net.layers[7]),
    ]
    for name, layer in pairs:
        keras_model.get_layer(name).set_weights(layer.get_weights())


def test_a_resnet_with_batch_norm_trains():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(24, 8, 8, 2))
    y = rng.integers(0, 3, 24)
    net = _resnet()
    optimizer = optimizers.Adam(0.01)
    losses = [net.train_step(x, y, optimizer)[0] for _ in range(15)]
    # Random labels on a fixed batch: a network that learns memorises them. By far more than noise.
    assert losses[-1] < 0.7 * losses[0], losses
    assert all(np.isfinite(losses))
    # The moving statistics moved with training, and only training moves them.
    state = net.layers[3].state["batch_norm1/moving_mean"]
    assert np.abs(state).max() > 1e-3
    before = state.copy()
    net.evaluate(x, y)
    np.testing.assert_array_equal(state, before)
    # Every block's parameter reached the optimizer (Adam has state for it).
    keys = [key for key, _, _ in net.parameters()]
    assert "residual2/projection/kernel" in keys and "residual1/batch_norm2/gamma" in keys
    assert set(optimizer._state) == set(keys)


def test_a_resnet_equals_a_keras_functional_model_with_add(keras):
    rng = np.random.default_rng(6)
    net = _resnet(momentum=0.0)
    _randomise(net, rng)
    keras_model = _keras_resnet(keras, momentum=0.0)
    _copy_weights_to_keras(net, keras_model)
    trainable = sum(int(np.prod(v.shape)) for v in keras_model.trainable_weights)
    assert net.count_params() == trainable and net.count_params() + net.count_state() == keras_model.count_params()
    x = _float32_exact(rng, (5, 8, 8, 2))
    # Inference: the moving statistics, through predict (float32-exact x) and a direct call.
    magnitude = abs_output(net, x)
    assert_float64_close(net.logits(x), keras_model.predict(x, verbose=0), magnitude, err_msg="predict")
    assert_float64_close(net.logits(x), keras_model(x, training=False).numpy(), magnitude, err_msg="inference")
    # Training: the batch's statistics in every BatchNorm; then the moving statistics are those.
    magnitude = abs_output(net, x, training=True)
    ours = net.logits(x, training=True)
    assert_float64_close(ours, keras_model(x, training=True).numpy(), magnitude, err_msg="training")
    by_name = {"stem_norm": net.layers[1], "a_norm2": net.layers[3].layers[4], "b_norm1": net.layers[5].layers[1]}
    for name, norm in by_name.items():
        keras_mean = keras_model.get_layer(name).moving_mean.numpy()
        assert np.abs(norm.state["moving_mean"] - keras_mean).max() <= 1e-10 * (np.abs(keras_mean).max() + 10), name
    # to_keras makes the same functional model: same predictions, the blocks' layers named after them.
    converted = keras_interop.to_keras(net, logits=True)
    assert isinstance(converted, keras.Model) and not isinstance(converted, keras.Sequential)
    names = [layer.name for layer in converted.layers]
    for name in ("residual1_conv1", "residual1_batch_norm2", "residual1_add", "residual2_projection", "residual2_add"):
        assert name in names
    magnitude = abs_output(net, x)
    assert_float64_close(converted.predict(x, verbose=0), keras_model.predict(x, verbose=0), magnitude, err_msg="to_keras")
    assert sorted(w.shape for w in converted.get_weights()) == sorted(w.shape for w in keras_model.get_weights())
    probabilities = keras_interop.to_keras(net).predict(x, verbose=0)
    assert_float64_close(probabilities, net.predict(x), 4 * magnitude.max() + 3 + 34)


def test_get_and_set_weights_and_count_params_of_a_model_with_blocks():
    net, twin = _resnet(seed=1), _resnet(seed=2)
    _randomise(net, np.random.default_rng(7))
    weights = net.get_weights()
    # Each block: every inner layer's get_weights() in order (BatchNorm's four arrays), then the projection's.
    block = net.layers[5]
    assert [w.shape for w in block.get_weights()] == [(3, 3, 4, 6), (6,), (6,), (6,), (6,), (6,), (1, 1, 4, 6), (6,)]
    assert len(weights) == sum(len(layer.get_weights()) for layer in net.layers)
    twin.set_weights(weights)
    for mine, theirs in zip(twin.get_weights(), weights):
        np.testing.assert_array_equal(mine, theirs)
    x = np.random.default_rng(8).normal(size=(2, 8, 8, 2))
    np.testing.assert_array_equal(twin.logits(x), net.logits(x))
    keys = [key for key, _, _ in net.parameters()]
    assert keys[4:8] == ["residual1/conv1/kernel", "residual1/conv1/bias", "residual1/batch_norm1/gamma", "residual1/batch_norm1/beta"]
    assert net.count_params() == sum(value.size for _, value, _ in net.parameters())
    assert net.count_state() == 2 * (4 + 4 + 4 + 6)
    with pytest.raises(ValueError, match=r"^layer 'residual2': Residual layer, inner layer 'projection': "
                                         r"layer 'projection' \(Conv2D\): kernel must have shape \(1, 1, 4, 6\), got shape \(1, 1, 4, 5\)$"):
        net.set_weights(weights[:-4] + [np.zeros((1, 1, 4, 5)), np.zeros(6)] + weights[-2:])
    with pytest.raises(ValueError, match=r"set_weights needs 8 arrays \(those of each inner layer\), got 7"):
        block.set_weights(block.get_weights()[:-1])


# --- describe and summary ------------------------------------------------------------------------


def test_describe_counts_the_sum_and_the_inner_paths_field():
    net = _resnet()
    rows = {record.name: record for record in net.describe()}
    first, second = net.layers[3], net.layers[5]
    # Identity block on 8 x 8 x 4: two convolutions (8 8 3 3 4 4 each) and two BatchNorms (8 8 4 each).
    assert rows["residual1"].macs == 2 * 8 * 8 * 3 * 3 * 4 * 4 + 2 * 8 * 8 * 4
    assert rows["residual1"].parameters == 2 * (3 * 3 * 4 * 4 + 4) + 2 * (2 * 4)
    # Strided block: 4 x 4 x 6 out; the convolution, the BatchNorm and the 1 x 1 projection.
    assert rows["residual2"].output_shape == (4, 4, 6)
    assert rows["residual2"].macs == 4 * 4 * 3 * 3 * 4 * 6 + 4 * 4 * 6 + 4 * 4 * 1 * 1 * 4 * 6
    assert rows["residual2"].macs == sum(layer.macs() for layer in second.layers) + second.projection.macs()
    # Receptive fields: the stem's 3; the identity block's two 3 x 3 add 2 + 2; the strided 3 x 3 adds 2 more.
    assert rows["conv1"].receptive_field == (3, 3)
    assert (rows["residual1"].receptive_field, rows["residual1"].jump) == ((7, 7), (1, 1))
    assert (rows["residual2"].receptive_field, rows["residual2"].jump) == ((9, 9), (2, 2))
    assert first.window() == ((5, 5), (1, 1)) and second.window() == ((3, 3), (2, 2))
    # "same" 3 x 3 convolutions pad 1 above: two of them, 2; the strided one on 8 rows pads 0 above.
    assert first.padding_before() == (2, 2) and second.padding_before() == (0, 0)
    assert rows["residual1"].start == (-3, -3) and rows["residual2"].start == (-3, -3)
    lines = net.summary().splitlines()
    row = next(line for line in lines if line.startswith("residual2"))
    assert row.split() == ["residual2", "(Residual)", "(None,", "4,", "4,", "6)", f"{rows['residual2'].parameters:,}",
                           "96", f"{rows['residual2'].macs:,}", "9", "x", "9"]
    assert lines[-3:-1] == [f"Trainable params: {net.count_params():,}", f"Non-trainable params: {net.count_state():,}"]


def test_receptive_window_of_a_block_is_what_the_output_cell_depends_on():
    """Perturb every input pixel: exactly those inside the window (and the image) move the cell."""
    net = model.Sequential(
        [layers.Conv2D(2, 3, padding="same"),
         layers.Residual([layers.Conv2D(3, 3, stride=2, padding="same"), layers.Conv2D(3, 3, padding="same")])],
        (11, 10, 1), seed=3, dtype="float64",
    )
    row, column = 2, 1
    (top, bottom), (left, right) = net.receptive_window("residual1", row, column)
    assert (bottom - top, right - left) == (3 + 2 + 2 * 2, 3 + 2 + 2 * 2)
    base = np.random.default_rng(0).normal(size=(1, 11, 10, 1))
    reference = net.forward(base)[0, row, column]
    moves = np.zeros((11, 10), dtype=bool)
    for i in range(11):
        for j in range(10):
            nudged = base.copy()
            nudged[0, i, j, 0] += 1.0
            moves[i, j] = np.abs(net.forward(nudged)[0, row, column] - reference).max() > 1e-9
    inside = np.zeros((11, 10), dtype=bool)
    inside[max(top, 0) : bottom, max(left, 0) : right] = True
    np.testing.assert_array_equal(moves, inside)


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: layers.Residual(layers.ReLU()), TypeError, r"^layer_list must be a list of layers, got ReLU$"),
        (lambda: layers.Residual([]), ValueError, r"^layer_list must hold at least one layer, got an empty list$"),
        (lambda: layers.Residual([layers.ReLU(), "conv"]), TypeError,
         r"^layer_list\[1\] must be a layer of cnn_course.layers, got str$"),
        (lambda: layers.Residual([layers.ReLU()], projection="always"), ValueError,
         r"^projection must be 'auto' or None, got 'always'$"),
        (lambda: layers.Residual([layers.ReLU(name="a"), layers.ReLU(name="a")]), ValueError,
         r"^the inner layers' names must be unique and not 'projection', got \['a'\]$"),
        (lambda: layers.Residual([layers.ReLU(name="projection")]), ValueError,
         r"^the inner layers' names must be unique and not 'projection', got \['projection'\]$"),
    ],
)
def test_bad_blocks_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_shapes_a_shortcut_cannot_match_are_refused():
    with pytest.raises(ValueError, match=r"^layer 1 \('residual1'\): layer 'residual1' \(Residual\) cannot take inputs of shape "
                                         r"\(8, 8, 4\): the inner layers give \(8, 8, 6\), and an identity shortcut needs the "
                                         r"input's shape \(8, 8, 4\); pass projection='auto'"):
        model.Sequential([layers.Conv2D(4, 3, padding="same"),
                          layers.Residual([layers.Conv2D(6, 3, padding="same")], projection=None, name="residual1")], (8, 8, 1))
    with pytest.raises(ValueError, match=r"the inner layers give \(6, 6, 4\) from \(8, 8, 4\) with an overall stride of \(1, 1\), "
                                         r"but a 1 x 1 convolution with that stride gives 8 x 8 pixels; use padding='same'"):
        _built(layers.Residual([layers.Conv2D(4, 3)]), (8, 8, 4))
    with pytest.raises(ValueError, match=r"the inner layers give \(3,\) from \(4,\): a projection shortcut needs images"):
        _built(layers.Residual([layers.Dense(3)]), (4,))
    with pytest.raises(ValueError, match=r"inner layer 1 \('dense1'\): Dense layer cannot take inputs of shape \(4, 4, 2\)"):
        _built(layers.Residual([layers.Conv2D(2, 1), layers.Dense(3)]), (4, 4, 2))
    conv = layers.Conv2D(2, 3)
    model.Sequential([conv], (5, 5, 1))
    with pytest.raises(ValueError, match=r"layer_list\[0\] \(Conv2D\) already belongs to a model; make a new layer"):
        layers.Residual([conv])
    block = _built(layers.Residual([layers.ReLU()]), (3, 3, 1))
    with pytest.raises(RuntimeError, match=r"layer 'block' \(Residual\): backward called before forward"):
        block.backward(np.zeros((1, 3, 3, 1)))


def test_from_keras_reads_a_model_with_blocks_back(keras):
    net = _resnet()
    back = keras_interop.from_keras(keras_interop.to_keras(net, logits=True))
    assert back.names == net.names
    blocks = [layer for layer in back.layers if isinstance(layer, layers.Residual)]
    assert blocks and any(block.projection is not None for block in blocks)
    for ours, theirs in zip(back.get_weights(), net.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
