"""network: layer specs, forward and summary against the equivalent keras.Sequential."""

import dataclasses

import numpy as np
import pytest

from cnn_course import network, ops

from numerics import U32, assert_float64_close, keras_float64_magnitudes


def small_cnn(seed=0, conv_bias=True, dense_bias=True, conv_options=None, pool_options=None, channels=1):
    """conv -> ReLU -> pool -> conv -> ReLU -> pool -> flatten -> dense -> softmax, random float32 weights.

    Biases are random too (not zeros), so a bias that is dropped or misplaced shows.
    """
    rng = np.random.default_rng(seed)
    conv_options = conv_options or {}
    pool_options = pool_options or {}

    def bias(size, wanted):
        return rng.normal(0.0, 0.1, size).astype("float32") if wanted else None

    layers = [
        network.Conv2D(network.he_normal((3, 3, channels, 4), rng), bias(4, conv_bias), **conv_options),
        network.ReLU(),
        network.MaxPool2D(2, **pool_options),
        network.Conv2D(network.he_normal((3, 3, 4, 6), rng), bias(6, conv_bias), **conv_options),
        network.ReLU(),
        network.MaxPool2D(2, **pool_options),
        network.Flatten(),
    ]
    return layers, rng, bias


def finish(layers, rng, bias, input_shape, dense_bias=True, classes=10):
    """Append Dense and Softmax sized from the shape that reaches them."""
    (flat,) = network.describe(layers, input_shape)[-1].output_shape
    return layers + [network.Dense(network.he_normal((flat, classes), rng), bias(classes, dense_bias)), network.Softmax()]


def as_float64(layers):
    """The same layers with float64 weights, to compare the mathematics in float64."""
    def cast(array):
        return None if array is None else array.astype(np.float64)

    converted = []
    for layer in layers:
        if isinstance(layer, network.Conv2D):
            layer = dataclasses.replace(layer, kernel=cast(layer.kernel), bias=cast(layer.bias))
        elif isinstance(layer, network.Dense):
            layer = dataclasses.replace(layer, weights=cast(layer.weights), bias=cast(layer.bias))
        converted.append(layer)
    return converted


def to_keras(keras, layers, input_shape, dtype="float32"):
    """The keras.Sequential that computes what ``layers`` computes, with the same weights, in ``dtype``."""
    keras_layers = [keras.Input(input_shape, dtype=dtype)]
    for layer in layers:
        if isinstance(layer, network.Conv2D):
            kh, kw, _, filters = layer.kernel.shape
            keras_layers.append(
                keras.layers.Conv2D(filters, (kh, kw), strides=layer.stride, padding=layer.padding,
                                    use_bias=layer.bias is not None, dtype=dtype)
            )
        elif isinstance(layer, network.ReLU):
            keras_layers.append(keras.layers.ReLU(dtype=dtype))
        elif isinstance(layer, network.MaxPool2D):
            keras_layers.append(
                keras.layers.MaxPooling2D(layer.pool_size, strides=layer.stride, padding=layer.padding, dtype=dtype)
            )
        elif isinstance(layer, network.Flatten):
            keras_layers.append(keras.layers.Flatten(dtype=dtype))
        elif isinstance(layer, network.Dense):
            keras_layers.append(keras.layers.Dense(layer.weights.shape[1], use_bias=layer.bias is not None, dtype=dtype))
        elif isinstance(layer, network.Softmax):
            keras_layers.append(keras.layers.Softmax(dtype=dtype))
    model = keras.Sequential(keras_layers)
    model.set_weights(network.get_weights(layers))
    return model


CONFIGURATIONS = {
    "valid": dict(input_shape=(28, 28, 1)),
    "same padding, stride 2": dict(input_shape=(17, 15, 1), conv_options={"padding": "same", "stride": 2}),
    "pools with same padding and stride 1": dict(
        input_shape=(13, 11, 1), pool_options={"padding": "same", "stride": 1}),
    "no biases, three channels": dict(input_shape=(16, 16, 3), conv_bias=False, dense_bias=False, channels=3),
    "tuple stride": dict(input_shape=(28, 14, 1), conv_options={"stride": (2, 1)}),
}


def build(name, seed=0):
    config = dict(CONFIGURATIONS[name])
    input_shape = config.pop("input_shape")
    dense_bias = config.get("dense_bias", True)
    config.pop("dense_bias", None)
    layers, rng, bias = small_cnn(seed, **config)
    return finish(layers, rng, bias, input_shape, dense_bias=dense_bias), input_shape


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_shapes_and_parameter_counts_match_keras(keras, name):
    layers, input_shape = build(name)
    model = to_keras(keras, layers, input_shape)
    rows = network.describe(layers, input_shape)
    assert len(rows) == len(model.layers)
    for row, keras_layer in zip(rows, model.layers):
        assert (None,) + row.output_shape == tuple(keras_layer.output.shape), row.name
        assert row.parameters == keras_layer.count_params(), row.name
    text = network.summary(layers, input_shape)
    assert text.splitlines()[-1] == f"Total params: {model.count_params():,}"
    for row in rows:
        assert str((None,) + row.output_shape) in text


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_forward_matches_keras_predictions(keras, name):
    layers, input_shape = build(name)
    model = to_keras(keras, layers, input_shape)
    x = np.random.default_rng(1).random((5,) + input_shape).astype("float32")
    probabilities = network.forward(layers, x)
    assert probabilities.dtype == np.float32 and probabilities.shape == (5, 10)
    # float32: the softmax's sum, its division and this sum are (2 K - 1) roundings at most.
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=0, atol=2 * 10 * U32)
    # The mathematics in float64, against the same network in Keras in float64.
    layers64, x64 = as_float64(layers), x.astype(np.float64)
    model = to_keras(keras, layers64, input_shape, "float64")
    magnitude = keras_float64_magnitudes(model, x64)[-1]
    assert_float64_close(network.forward(layers64, x64), model.predict(x64, verbose=0), magnitude)


def test_every_intermediate_output_matches_keras(keras):
    layers, input_shape = build("valid")
    layers = as_float64(layers)  # the mathematics, in float64
    model = to_keras(keras, layers, input_shape, "float64")
    x = np.random.default_rng(2).random((3,) + input_shape)
    outputs = network.forward(layers, x, return_all=True)
    expected_names = ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten1", "dense1", "softmax1"]
    assert list(outputs) == expected_names
    keras_x = x
    magnitudes = keras_float64_magnitudes(model, x)
    for (name, ours), keras_layer, magnitude in zip(outputs.items(), model.layers, magnitudes):
        keras_x = keras_layer(keras_x).numpy()
        assert_float64_close(ours, keras_x, magnitude, err_msg=name)
    np.testing.assert_array_equal(outputs["softmax1"], network.forward(layers, x))


def test_forward_on_images_with_an_added_channel_axis(keras):
    # images[..., np.newaxis] gives the channel axis a stride of 0, which must not change the result.
    layers, input_shape = build("valid")
    layers = as_float64(layers)  # the mathematics, in float64
    model = to_keras(keras, layers, input_shape, "float64")
    images = np.random.default_rng(3).random((4, 28, 28))
    x = images[..., np.newaxis]
    assert x.strides[-1] == 0
    magnitude = keras_float64_magnitudes(model, x)[-1]
    assert_float64_close(network.forward(layers, x), model.predict(x.copy(), verbose=0), magnitude)


@pytest.mark.parametrize("padding", [0, 1, 2, (1, 0)])
def test_describe_gives_the_shapes_forward_produces(padding):
    layers, rng, bias = small_cnn(4, conv_options={"padding": padding})
    layers = finish(layers, rng, bias, (19, 12, 1))
    outputs = network.forward(layers, np.zeros((2, 19, 12, 1)), return_all=True)
    for row, (name, output) in zip(network.describe(layers, (19, 12, 1)), outputs.items()):
        assert row.name == name
        assert (2,) + row.output_shape == output.shape, name


def test_summary_table_layout():
    layers, input_shape = build("valid")
    lines = network.summary(layers, input_shape).splitlines()
    assert lines[0].split() == ["Layer", "(type)", "Output", "shape", "Param", "#"]
    assert set(lines[1]) == {"="} and set(lines[-2]) == {"="}
    assert lines[2].split() == ["conv1", "(Conv2D)", "(None,", "26,", "26,", "4)", "40"]
    assert lines[-3].split() == ["softmax1", "(Softmax)", "(None,", "10)", "0"]
    assert len(lines) == 2 + len(layers) + 2


def test_explicit_names_are_used():
    rng = np.random.default_rng(0)
    layers = [network.Flatten(name="to vector"), network.Dense(network.he_normal((4, 2), rng), name="scores")]
    assert [row.name for row in network.describe(layers, (2, 2))] == ["to vector", "scores"]
    assert list(network.forward(layers, np.ones((1, 2, 2)), return_all=True)) == ["to vector", "scores"]


def test_get_weights_follows_keras_order(keras):
    layers, input_shape = build("no biases, three channels")
    model = to_keras(keras, layers, input_shape)
    weights = network.get_weights(layers)
    assert [w.shape for w in weights] == [w.shape for w in model.get_weights()]
    for ours, theirs in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_he_normal_has_the_he_standard_deviation():
    weights = network.he_normal((3, 3, 8, 2000), np.random.default_rng(0))
    assert weights.shape == (3, 3, 8, 2000) and weights.dtype == np.float32
    assert abs(weights.mean()) < 0.01
    np.testing.assert_allclose(weights.std(), np.sqrt(2 / 72), rtol=0.01)
    np.testing.assert_array_equal(weights, network.he_normal((3, 3, 8, 2000), np.random.default_rng(0)))
    dense = network.he_normal((400, 10), np.random.default_rng(1), dtype=np.float64)
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
        network.he_normal(*arguments)


# --- errors: unknown layers and shapes that do not fit ---------------------------------------------


def test_unknown_layer_is_named_with_its_index(keras):
    layers, input_shape = build("valid")
    layers[1] = keras.layers.ReLU()
    with pytest.raises(TypeError, match=r"layers\[1\] must be one of Conv2D, ReLU, .* got ReLU"):
        network.describe(layers, input_shape)
    with pytest.raises(TypeError, match=r"layers\[1\] must be one of"):
        network.forward(layers, np.zeros((1,) + input_shape))
    with pytest.raises(TypeError, match=r"layers\[0\] must be one of .* got str"):
        network.summary(["conv"], input_shape)
    with pytest.raises(TypeError, match=r"layer must be a layer of cnn_course.network, got function"):
        network.apply_layer(ops.relu, np.zeros((1, 2)))


@pytest.mark.parametrize(
    "layers, error, message",
    [
        (network.ReLU(), TypeError, r"layers must be a list of layers, got ReLU"),
        ([], ValueError, r"layers must hold at least one layer"),
        ([network.ReLU(name="a"), network.Softmax(name="a")], ValueError, r"names must be unique, got \['a'\]"),
    ],
)
def test_bad_layer_lists(layers, error, message):
    with pytest.raises(error, match=message):
        network.describe(layers, (4,))


def test_dense_without_flatten_names_the_layer_and_shapes():
    layers, input_shape = build("valid")
    del layers[6]  # the Flatten layer
    with pytest.raises(ValueError, match=r"layer 6 'dense1' \(Dense\) has weights of shape \(150, 10\), which need "
                                         r"an input of shape \(150,\), got \(5, 5, 6\); put a Flatten layer"):
        network.summary(layers, input_shape)


def test_conv_channels_mismatch_names_the_layer_and_shapes():
    layers, _ = build("valid")
    with pytest.raises(ValueError, match=r"layer 0 'conv1' \(Conv2D\) has a kernel of shape \(3, 3, 1, 4\), which "
                                         r"needs an input of shape \(H, W, 1\), got \(28, 28, 3\)"):
        network.forward(layers, np.zeros((2, 28, 28, 3)))


def test_conv_on_a_flat_input_is_refused():
    layers, _ = build("valid")
    with pytest.raises(ValueError, match=r"layer 0 'conv1' \(Conv2D\) needs an input of shape \(H, W, C\), "
                                         r"got \(784,\)"):
        network.describe(layers, (784,))


def test_window_larger_than_its_input_names_the_layer():
    layers, _ = build("valid")
    with pytest.raises(ValueError, match=r"layer 5 'pool2' \(MaxPool2D\) has a window of height x width \(2, 2\) "
                                         r"that does not fit its input of shape \(1, 1, 6\)"):
        network.describe(layers, (8, 8, 1))


def test_dense_with_the_wrong_input_size():
    rng = np.random.default_rng(0)
    layers = [network.Flatten(), network.Dense(network.he_normal((5, 3), rng))]
    with pytest.raises(ValueError, match=r"layer 1 'dense1' \(Dense\) .* need an input of shape \(5,\), got \(4,\)$"):
        network.describe(layers, (2, 2))


def test_forward_checks_every_layer_before_computing(monkeypatch):
    layers, _ = build("valid")
    del layers[6]
    calls = []
    monkeypatch.setattr(ops, "conv2d", lambda *arguments, **options: calls.append(1))
    with pytest.raises(ValueError, match="dense1"):
        network.forward(layers, np.zeros((1, 28, 28, 1)))
    assert calls == []


@pytest.mark.parametrize(
    "input_shape",
    [(None, 28, 28, 1), (), (28, 0, 1), "28x28", 28, (28.0, 28, 1), (28, True, 1)],
)
def test_bad_input_shape(input_shape):
    layers, _ = build("valid")
    with pytest.raises(ValueError, match=r"input_shape must be the shape of one example without the batch axis"):
        network.summary(layers, input_shape)


@pytest.mark.parametrize(
    "x, error, message",
    [
        (np.zeros(784), ValueError, r"x must be a batch of shape \(N, H, W, C\).*got shape \(784,\)"),
        ("digits", TypeError, r"x must be a numeric array, got str"),
    ],
)
def test_forward_rejects_bad_x(x, error, message):
    layers, _ = build("valid")
    with pytest.raises(error, match=message):
        network.forward(layers, x)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: network.Conv2D(np.zeros((3, 3, 1))), ValueError,
         r"kernel must have shape \(kh, kw, C_in, C_out\) .*got shape \(3, 3, 1\)"),
        (lambda: network.Conv2D(np.zeros((3, 3, 1, 0))), ValueError, r"kernel must have every dimension at least 1"),
        (lambda: network.Conv2D(np.zeros((3, 3, 1, 4)), np.zeros(3)), ValueError,
         r"bias must have shape \(C_out,\) = \(4,\), got shape \(3,\)"),
        (lambda: network.Conv2D(np.zeros((3, 3, 1, 4)), stride=0), ValueError, r"stride must be at least 1"),
        (lambda: network.Conv2D(np.zeros((3, 3, 1, 4)), padding="full"), ValueError,
         r"padding must be 'valid', 'same' or an int, got 'full'"),
        (lambda: network.Conv2D(np.zeros((3, 3, 1, 4)), padding=-1), ValueError, r"padding must not be negative"),
        (lambda: network.Conv2D("kernel"), TypeError, r"kernel must be a numeric array, got str"),
        (lambda: network.MaxPool2D(0), ValueError, r"pool_size must be at least 1"),
        (lambda: network.MaxPool2D(2, stride=1.5), TypeError, r"stride must be an int or a pair of ints"),
        (lambda: network.MaxPool2D(2, padding=1), ValueError, r"padding must be 'valid' or 'same' for pooling, got 1"),
        (lambda: network.Dense(np.zeros(4)), ValueError, r"weights must have shape \(D_in, D_out\).*got shape \(4,\)"),
        (lambda: network.Dense(np.zeros((4, 0))), ValueError, r"weights must have D_in and D_out of at least 1"),
        (lambda: network.Dense(np.zeros((4, 2)), np.zeros(4)), ValueError,
         r"bias must have shape \(D_out,\) = \(2,\), got shape \(4,\)"),
        (lambda: network.ReLU(name=3), TypeError, r"name must be a non-empty str or None, got 3"),
        (lambda: network.Softmax(name=""), TypeError, r"name must be a non-empty str or None, got ''"),
    ],
)
def test_layers_reject_bad_settings(make, error, message):
    with pytest.raises(error, match=message):
        make()
