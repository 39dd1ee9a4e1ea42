"""keras_interop: Keras models into Sequential and back, with their weights and their predictions."""

import contextlib
import copy

import numpy as np
import pytest

from cnn_course import keras_interop, layers, lenet, mnist_models, model, ops, optimizers

from numerics import (
    F32_PROBABILITY_TOLERANCE,
    assert_float64_close,
    assert_keras_float32_layers,
    assert_within,
    keras_float64_magnitudes,
)


@contextlib.contextmanager
def float64_keras(keras):
    """Keras layers and ``keras.Input`` made inside are float64 (for models built by a function)."""
    policy, floatx = keras.config.dtype_policy(), keras.config.floatx()
    keras.config.set_dtype_policy("float64")  # the layers' dtype
    keras.config.set_floatx("float64")  # keras.Input's dtype
    try:
        yield
    finally:
        keras.config.set_dtype_policy(policy)
        keras.config.set_floatx(floatx)


def random_biases(keras_model, seed=0):
    """Random, non-zero biases, so that a bias that is dropped or misplaced shows."""
    rng = np.random.default_rng(seed)
    for layer in keras_model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([w if w.ndim > 1 else rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in weights])
    return keras_model


def build(keras, layer_list, input_shape=(12, 12, 2), seed=0, dtype="float32"):
    keras.utils.set_random_seed(seed)
    return random_biases(keras.Sequential([keras.Input(input_shape, dtype=dtype), *layer_list]), seed)


def images(shape, count=7, seed=1, dtype=np.float32):
    return np.random.default_rng(seed).random((count, *shape), dtype=np.float32).astype(dtype)


def chapter_cnn(keras, dtype):
    """The MNIST chapter's CNN (RandomTranslation, two dropouts, softmax), in ``dtype``."""
    keras.utils.set_random_seed(0)
    if dtype == "float64":
        with float64_keras(keras):
            return random_biases(mnist_models.build_cnn())
    return random_biases(mnist_models.build_cnn())


def _sequential(*make_layers, input_shape=(12, 12, 2)):
    def make(keras, dtype):
        L = keras.layers
        return build(keras, [make(L, dtype) for make in make_layers], input_shape, dtype=dtype)

    return make


ARCHITECTURES = {
    "chapter CNN": chapter_cnn,
    "Activation layers": _sequential(
        lambda L, d: L.Conv2D(4, 3, dtype=d),
        lambda L, d: L.Activation("relu", name="act_relu", dtype=d),
        lambda L, d: L.MaxPooling2D(2, dtype=d),
        lambda L, d: L.Activation("linear", name="act_linear", dtype=d),
        lambda L, d: L.Flatten(dtype=d),
        lambda L, d: L.Dense(6, dtype=d),
        lambda L, d: L.Activation("relu", dtype=d),
        lambda L, d: L.Dense(5, dtype=d),
        lambda L, d: L.Activation("softmax", name="act_softmax", dtype=d),
    ),
    "ReLU and Softmax layers": _sequential(
        lambda L, d: L.Conv2D(4, (2, 3), dtype=d),
        lambda L, d: L.ReLU(dtype=d),
        lambda L, d: L.MaxPooling2D((2, 1), strides=(1, 2), padding="same", dtype=d),
        lambda L, d: L.Flatten(dtype=d),
        lambda L, d: L.Dropout(0.3, dtype=d),
        lambda L, d: L.Dense(5, dtype=d),
        lambda L, d: L.Softmax(dtype=d),
    ),
    "average pooling with strides and same": _sequential(
        lambda L, d: L.Conv2D(3, 3, activation="relu", dtype=d),
        lambda L, d: L.AveragePooling2D(3, strides=2, padding="same", dtype=d),
        lambda L, d: L.AveragePooling2D((2, 1), strides=1, dtype=d),
        lambda L, d: L.Flatten(dtype=d),
        lambda L, d: L.Dense(4, activation="softmax", dtype=d),
    ),
    "global average pooling": _sequential(
        lambda L, d: L.Conv2D(6, 3, padding="same", activation="relu", dtype=d),
        lambda L, d: L.GlobalAveragePooling2D(dtype=d),
        lambda L, d: L.Dense(4, activation="softmax", dtype=d),
    ),
    "strided same convolutions": _sequential(
        lambda L, d: L.Conv2D(4, 3, strides=2, padding="same", activation="relu", dtype=d),
        lambda L, d: L.Conv2D(3, (3, 2), strides=(2, 1), padding="same", dtype=d),
        lambda L, d: L.ReLU(dtype=d),
        lambda L, d: L.Flatten(dtype=d),
        lambda L, d: L.Dense(5, activation="softmax", dtype=d),
        input_shape=(13, 11, 2),
    ),
    "no biases": _sequential(
        lambda L, d: L.Conv2D(4, 3, use_bias=False, activation="relu", dtype=d),
        lambda L, d: L.MaxPooling2D(2, dtype=d),
        lambda L, d: L.Flatten(dtype=d),
        lambda L, d: L.Dense(6, use_bias=False, activation="relu", dtype=d),
        lambda L, d: L.Dense(5, activation="softmax", dtype=d),
    ),
    "ending in logits": _sequential(
        lambda L, d: L.Conv2D(4, 3, activation="relu", dtype=d),
        lambda L, d: L.MaxPooling2D(2, padding="same", dtype=d),
        lambda L, d: L.Flatten(dtype=d),
        lambda L, d: L.Dense(5, dtype=d),
    ),
}


def ends_in_logits(keras_model):
    last = keras_model.layers[-1]
    activation = getattr(last, "activation", None)
    return type(last).__name__ != "Softmax" and (activation is None or activation.__name__ != "softmax")


def keras_probabilities(keras_model, x):
    """Keras's predictions as probabilities: the softmax of its output if it ends in logits."""
    output = keras_model.predict(x, verbose=0)
    return ops.softmax(output, axis=-1) if ends_in_logits(keras_model) else output


def expected_weights(keras_model):
    """Keras's weights, in Keras's order: a layer without bias (use_bias=False) stays without one."""
    return [weight for layer in keras_model.layers for weight in layer.get_weights()]


# --- the mathematics, in float64 ------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_from_keras_and_to_keras_predict_what_keras_predicts_in_float64(keras, name):
    keras_model = ARCHITECTURES[name](keras, "float64")
    x = images(keras_model.inputs[0].shape[1:], dtype=np.float64)
    ours = keras_interop.from_keras(keras_model)
    assert ours.dtype == np.float64
    back = keras_interop.to_keras(ours)  # always ends in Softmax, so its last magnitude is the probabilities'
    assert all(layer.dtype == "float64" for layer in back.layers)
    magnitude = keras_float64_magnitudes(back, x)[-1]
    probabilities = ours.predict(x, batch_size=3)
    assert probabilities.dtype == np.float64 and probabilities.shape == (7, keras_model.output_shape[-1])
    assert_float64_close(probabilities, keras_probabilities(keras_model, x), magnitude, err_msg="from_keras")
    assert_float64_close(back.predict(x, verbose=0), probabilities, magnitude, err_msg="to_keras")


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2, (1, 2)])
def test_cnn_matches_keras(keras, padding, strides):
    """Every option of every converted layer, layer by layer in float32, end to end in float64."""
    def make_layers(dtype):
        L = keras.layers
        return [
            L.RandomTranslation(0.1, 0.1, dtype=dtype),
            L.Conv2D(4, 3, strides=strides, padding=padding, activation="relu", dtype=dtype),
            L.MaxPooling2D(2, padding=padding, dtype=dtype),
            L.Conv2D(3, (2, 3), padding=padding, dtype=dtype),
            L.ReLU(dtype=dtype),
            L.AveragePooling2D((2, 1), strides=1, padding=padding, dtype=dtype),
            L.Flatten(dtype=dtype),
            L.Dropout(0.5, dtype=dtype),
            L.Dense(8, activation="relu", dtype=dtype),
            L.Dense(5, dtype=dtype),
            L.Activation("softmax", dtype=dtype),
        ]

    check_in_float32_and_float64(keras, make_layers, (17, 17, 2), batch_size=3)


def test_dense_only_model_and_softmax_layer(keras):
    def make_layers(dtype):
        L = keras.layers
        return [L.Dense(10, activation="relu", dtype=dtype), L.Dense(4, use_bias=False, dtype=dtype), L.Softmax(dtype=dtype)]

    check_in_float32_and_float64(keras, make_layers, (784,))


def check_in_float32_and_float64(keras, make_layers, input_shape, batch_size=500):
    """The float32 model layer by layer (each layer's float32 rounding bounded), then the
    same weights in float64 end to end (the mathematics)."""
    keras_model = build(keras, make_layers("float32"), input_shape=input_shape)
    x = images(input_shape)
    assert_keras_float32_layers(keras_model, x)
    model64 = build(keras, make_layers("float64"), input_shape=input_shape, dtype="float64")
    model64.set_weights(keras_model.get_weights())
    x64 = x.astype(np.float64)
    expected = model64.predict(x64, verbose=0)
    result = keras_interop.from_keras(model64).predict(x64, batch_size=batch_size)
    assert result.shape == expected.shape
    assert_float64_close(result, expected, keras_float64_magnitudes(model64, x64)[-1])


# --- float32: the acceptance tolerance on probabilities ------------------------------------


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_float32_predictions_agree_within_1e_5(keras, name):
    """Layer by layer within the derived float32 bounds, and end to end, from_keras(m).predict
    and m.predict, then to_keras(s).predict and s.predict, within F32_PROBABILITY_TOLERANCE."""
    keras_model = ARCHITECTURES[name](keras, "float32")
    x = images(keras_model.inputs[0].shape[1:], count=20, seed=2)
    ours = keras_interop.from_keras(keras_model)
    assert ours.dtype == np.float32
    assert_keras_float32_layers(keras_model, x, ours)
    probabilities = ours.predict(x)
    assert probabilities.dtype == np.float32
    assert_within(probabilities, keras_probabilities(keras_model, x), F32_PROBABILITY_TOLERANCE, "(from_keras)")
    back = keras_interop.to_keras(ours)
    back_probabilities = back.predict(x, verbose=0)
    assert back_probabilities.dtype == np.float32
    assert_within(back_probabilities, probabilities, F32_PROBABILITY_TOLERANCE, "(to_keras)")


def _native_networks():
    """Networks built with cnn_course, not from Keras: the chapter's LeNet, and one with the other layers."""
    other = model.Sequential(
        [
            layers.Conv2D(6, 3, stride=2, padding="same"), layers.ReLU(), layers.AvgPool2D(2, padding="same"),
            layers.Conv2D(8, (3, 2)), layers.ReLU(), layers.MaxPool2D(2, stride=1), layers.Dropout(0.3),
            layers.GlobalAvgPool2D(), layers.Dense(5), layers.Softmax(),
        ],
        (15, 13, 2), seed=3,
    )
    return {"LeNet": lenet.build_lenet(seed=2), "global average pooling": other}


@pytest.mark.parametrize("name", ["LeNet", "global average pooling"])
def test_to_keras_of_our_own_networks_agrees_in_float32(keras, name):
    net = _native_networks()[name]
    rng = np.random.default_rng(4)
    for key, value, _ in net.parameters():
        if key.endswith("/bias"):
            value[...] = rng.normal(0.0, 0.1, value.shape)
    x = images(net.input_shape, count=20, seed=5)
    # Layer by layer, each within the derived float32 bound (Keras's logits model has our layer names).
    assert_keras_float32_layers(keras_interop.to_keras(net, logits=True), x, net)
    keras_model = keras_interop.to_keras(net)
    probabilities = keras_model.predict(x, verbose=0)
    assert probabilities.dtype == np.float32
    assert_within(probabilities, net.predict(x), F32_PROBABILITY_TOLERANCE)


def test_a_float32_model_can_be_converted_to_float64(keras):
    keras_model = ARCHITECTURES["no biases"](keras, "float32")
    ours = keras_interop.from_keras(keras_model, dtype="float64")
    assert ours.dtype == np.float64
    for mine, theirs in zip(ours.get_weights(), expected_weights(keras_model)):
        assert mine.dtype == np.float64
        np.testing.assert_array_equal(mine, theirs.astype(np.float64))


# --- round trip -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_round_trip_keeps_weights_names_and_predictions(keras, name):
    keras_model = ARCHITECTURES[name](keras, "float64")
    logits = ends_in_logits(keras_model)
    ours = keras_interop.from_keras(keras_model)
    back = keras_interop.to_keras(ours, logits=logits)
    # The weights are copied exactly, in Keras's order (no bias where Keras has none).
    expected = expected_weights(keras_model)
    for arrays in (ours.get_weights(), back.get_weights()):
        assert [w.shape for w in arrays] == [w.shape for w in expected]
        for mine, theirs in zip(arrays, expected):
            np.testing.assert_array_equal(mine, theirs)
    # Copied, not shared: changing ours changes neither Keras model.
    first = next(layer for layer in keras_model.layers if layer.get_weights())
    kernel = ours.get_layer(first.name).params["kernel"]
    kernel += 1.0
    np.testing.assert_array_equal(first.get_weights()[0], expected[0])
    np.testing.assert_array_equal(back.get_layer(first.name).get_weights()[0], expected[0])
    kernel[...] = expected[0]
    # Every Keras layer keeps its name, except augmentation layers (left out) and
    # Activation("linear") (the identity); an activation becomes a layer of its own.
    expected_names = []
    for layer in keras_model.layers:
        kind, activation = type(layer).__name__, layer.get_config().get("activation", "linear")
        if kind in keras_interop.AUGMENTATION_LAYERS or (kind == "Activation" and activation == "linear"):
            continue
        expected_names.append(layer.name)
        if kind != "Activation" and activation != "linear":
            expected_names.append(f"{layer.name}_{activation}")
    assert ours.names == expected_names
    assert [layer.name for layer in back.layers] == expected_names
    x = images(keras_model.inputs[0].shape[1:], dtype=np.float64)
    magnitude = keras_float64_magnitudes(back, x)[-1]
    assert_float64_close(back.predict(x, verbose=0), keras_model.predict(x, verbose=0), magnitude)


def test_augmentation_layers_are_left_out(keras):
    L = keras.layers
    augmentation = [
        L.RandomTranslation(0.2, 0.2, dtype="float64"), L.RandomRotation(0.2, dtype="float64"),
        L.RandomZoom(0.2, dtype="float64"), L.RandomFlip(dtype="float64"),
        L.RandomContrast(0.3, dtype="float64"), L.RandomBrightness(0.3, dtype="float64"),
    ]
    assert sorted(type(layer).__name__ for layer in augmentation) == sorted(keras_interop.AUGMENTATION_LAYERS)
    keras_model = build(keras, [*augmentation, L.Flatten(name="flat", dtype="float64"),
                                L.Dense(3, activation="softmax", name="scores", dtype="float64")],
                        input_shape=(8, 8, 1), dtype="float64")
    ours = keras_interop.from_keras(keras_model)
    assert ours.names == ["flat", "scores", "scores_softmax"]
    x = images((8, 8, 1), dtype=np.float64)
    magnitude = keras_float64_magnitudes(keras_model, x)[-1]
    assert_float64_close(ours.predict(x), keras_model.predict(x, verbose=0), magnitude)
    chapter = keras_interop.from_keras(mnist_models.build_cnn())
    assert "random_shift" not in chapter.names
    assert chapter.get_layer("dropout1").rate == mnist_models.CNN_RECIPE["dropout"] / 2
    assert chapter.get_layer("dropout2").rate == mnist_models.CNN_RECIPE["dropout"]


def test_to_keras_adds_a_softmax_unless_asked_for_logits(keras):
    net = lenet.build_lenet(seed=1, dtype="float64")  # ends in logits
    with_softmax = keras_interop.to_keras(net)
    assert [type(layer).__name__ for layer in with_softmax.layers][-2:] == ["Dense", "Softmax"]
    assert with_softmax.layers[-1].name == "dense1_softmax"
    without = keras_interop.to_keras(net, logits=True)
    assert [layer.name for layer in without.layers] == net.names
    assert all(layer.dtype == "float64" for layer in without.layers)
    x = images((28, 28, 1), count=4, dtype=np.float64)
    magnitudes = keras_float64_magnitudes(with_softmax, x)
    assert_float64_close(without.predict(x, verbose=0), net.logits(x), magnitudes[-2])
    assert_float64_close(with_softmax.predict(x, verbose=0), net.predict(x), magnitudes[-1])

    ending_in_softmax = model.Sequential(
        [layers.Flatten(), layers.Dense(4), layers.Softmax(name="probabilities")], (3, 3, 1), seed=2, dtype="float64"
    )
    converted = keras_interop.to_keras(ending_in_softmax)
    assert [type(layer).__name__ for layer in converted.layers] == ["Flatten", "Dense", "Softmax"]
    assert converted.layers[-1].name == "probabilities"
    assert [type(layer).__name__ for layer in keras_interop.to_keras(ending_in_softmax, logits=True).layers] == ["Flatten", "Dense"]


def test_correspondence_is_one_table_for_every_layer(keras):
    ours = {row[0] for row in keras_interop.CORRESPONDENCE}
    # Every layer but Residual, which is no Keras layer (to_keras makes a functional model of it).
    assert ours == {getattr(layers, name) for name in layers.__all__ if name not in ("Layer", "Residual")}
    # The arguments that each side needs, spelled by our settings' names.
    examples = {"filters": 2, "kernel_size": 3, "units": 2, "rate": 0.5, "pool_size": 2, "momentum": 0.9}
    for our_class, keras_name, settings in keras_interop.CORRESPONDENCE:
        needed = {key: value for key, value in examples.items() if key in settings}
        config = getattr(keras.layers, keras_name)(**{settings[key]: value for key, value in needed.items()}).get_config()
        layer = our_class(**needed)
        for our_key, keras_key in settings.items():
            assert keras_key in config, (keras_name, keras_key)
            assert hasattr(layer, our_key), (our_class.__name__, our_key)


# --- BatchNormalization (chapter "Training CNNs in practice") ------------------------------


def random_batch_norms(keras_model, seed=0):
    """Random gamma, beta and moving statistics (a positive variance) in every BatchNormalization."""
    rng = np.random.default_rng(seed)
    for layer in keras_model.layers:
        if type(layer).__name__ == "BatchNormalization":
            channels = layer.moving_mean.shape[0]
            trained = ([rng.normal(1.0, 0.3, channels)] if layer.scale else []) + ([rng.normal(0.0, 0.3, channels)] if layer.center else [])
            layer.set_weights([*trained, rng.normal(0.0, 0.5, channels), rng.uniform(0.5, 2.0, channels)])
    return keras_model


def batch_norm_network(keras, center=True, scale=True):
    """Conv -> BatchNormalization -> ReLU -> pool -> Dense -> BatchNormalization (N, D) -> softmax, float64."""
    L, d = keras.layers, "float64"
    keras_model = build(keras, [
        L.Conv2D(4, 3, name="conv", dtype=d),
        L.BatchNormalization(momentum=0.9, epsilon=1e-4, center=center, scale=scale, name="norm1", dtype=d),
        L.ReLU(dtype=d), L.MaxPooling2D(2, dtype=d), L.Flatten(dtype=d),
        L.Dense(6, use_bias=False, name="hidden", dtype=d),
        L.BatchNormalization(name="norm2", dtype=d), L.Activation("relu", dtype=d),
        L.Dense(5, activation="softmax", name="scores", dtype=d),
    ], dtype=d)
    return random_batch_norms(keras_model)


def every_layer(layer_list):
    """Every layer, those inside Residual blocks (and their projections) too."""
    for layer in layer_list:
        yield layer
        if isinstance(layer, layers.Residual):
            yield from every_layer(layer.layers + ([layer.projection] if layer.projection is not None else []))


def probability_magnitude(sequential, x):
    """A magnitude for assert_float64_close of the probabilities of ``sequential`` (which has
    BatchNorm layers, so numerics.keras_float64_magnitudes does not apply): the logits of |x|
    through |weights|, each BatchNorm with |gamma|, |beta| and -|moving_mean| (so that it computes
    |gamma| (|x| + |mean|) / sigma + |beta|, the size of its terms), a Residual block the sum of
    its two paths' bounds, then the softmax's rule of numerics.keras_float64_magnitudes,
    7 max M + K + 34."""
    twin = copy.deepcopy(sequential)
    for _, value, _ in twin.parameters():
        np.abs(value, out=value)
    for layer in every_layer(twin.layers):
        if isinstance(layer, layers.BatchNorm):
            layer.state["moving_mean"][...] = -np.abs(layer.state["moving_mean"])
    logits = twin.logits(np.abs(x))
    return 7 * logits.max(axis=-1, keepdims=True) + logits.shape[-1] + 34


@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False), (False, False)])
def test_batch_normalization_comes_over_with_its_moving_statistics(keras, center, scale):
    keras_model = batch_norm_network(keras, center, scale)
    ours = keras_interop.from_keras(keras_model)
    assert [type(layer).__name__ for layer in ours.layers] == [
        "Conv2D", "BatchNorm", "ReLU", "MaxPool2D", "Flatten", "Dense", "BatchNorm", "ReLU", "Dense", "Softmax"]
    assert ours.names[:2] == ["conv", "norm1"] and ours.names[6] == "norm2" and ours.names[-2:] == ["scores", "scores_softmax"]
    norm = ours.get_layer("norm1")
    assert isinstance(norm, layers.BatchNorm) and (norm.momentum, norm.epsilon) == (0.9, 1e-4)
    keras_weights = keras_model.get_layer("norm1").get_weights()
    # The moving statistics are the last two of Keras's weights; a missing gamma is ones, a missing beta zeros.
    np.testing.assert_array_equal(norm.state["moving_mean"], keras_weights[-2])
    np.testing.assert_array_equal(norm.state["moving_variance"], keras_weights[-1])
    np.testing.assert_array_equal(norm.params["gamma"], keras_weights[0] if scale else np.ones(4))
    np.testing.assert_array_equal(norm.params["beta"], keras_weights[1 if scale else 0] if center else np.zeros(4))
    # Predictions: inference mode, the moving statistics (float32-exact images, as Keras's predict casts).
    x = images((12, 12, 2), dtype=np.float64)
    magnitude = probability_magnitude(ours, x)
    probabilities = ours.predict(x)
    assert_float64_close(probabilities, keras_model.predict(x, verbose=0), magnitude, err_msg="from_keras")
    # And back: all four arrays of every BatchNormalization, copied exactly; the same predictions.
    back = keras_interop.to_keras(ours)
    assert [type(layer).__name__ for layer in back.layers].count("BatchNormalization") == 2
    for name in ("norm1", "norm2"):
        layer = back.get_layer(name)
        assert (layer.momentum, layer.epsilon, layer.center, layer.scale) == (ours.get_layer(name).momentum, ours.get_layer(name).epsilon, True, True)
        for mine, theirs in zip(ours.get_layer(name).get_weights(), layer.get_weights()):
            np.testing.assert_array_equal(mine, theirs)
    assert [w.shape for w in back.get_weights()] == [w.shape for w in ours.get_weights()]
    assert_float64_close(back.predict(x, verbose=0), probabilities, magnitude, err_msg="to_keras")
    twice = keras_interop.from_keras(back)
    for mine, theirs in zip(twice.get_weights(), ours.get_weights()):
        np.testing.assert_array_equal(mine, theirs)


def test_batch_normalization_trained_by_keras_and_by_us_agrees(keras):
    # Keras trains: its moving statistics move, and from_keras carries them.
    keras_model = batch_norm_network(keras)
    keras_model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(3)
    x, y = images((12, 12, 2), count=32, seed=4, dtype=np.float64), rng.integers(0, 5, 32)
    before = keras_model.get_layer("norm1").moving_mean.numpy().copy()
    keras_model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.abs(keras_model.get_layer("norm1").moving_mean.numpy() - before).max() > 1e-3
    ours = keras_interop.from_keras(keras_model)
    test_x = images((12, 12, 2), seed=5, dtype=np.float64)
    magnitude = probability_magnitude(ours, test_x)
    assert_float64_close(ours.predict(test_x), keras_model.predict(test_x, verbose=0), magnitude, err_msg="from_keras")
    # We train: to_keras carries our moving statistics.
    ours.fit(x, y, optimizers.Adam(0.01), epochs=2, batch_size=8, progress=False)
    back = keras_interop.to_keras(ours)
    np.testing.assert_array_equal(back.get_layer("norm2").moving_variance.numpy(), ours.get_layer("norm2").state["moving_variance"])
    magnitude = probability_magnitude(ours, test_x)
    assert_float64_close(back.predict(test_x, verbose=0), ours.predict(test_x), magnitude, err_msg="to_keras")


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, input_shape, message",
    [
        (lambda L: L.LayerNormalization(name="my_norm"), (12, 12, 2),
         r"layer 'my_norm' \(LayerNormalization\): no counterpart in cnn_course.layers; supported: Conv2D, Dense"),
        (lambda L: L.BatchNormalization(axis=1, name="rows_norm"), (12, 12, 2),
         r"layer 'rows_norm' \(BatchNormalization\): normalization over axis 1; only the last \(channel\) axis, -1, is supported"),
        (lambda L: L.BatchNormalization(renorm=True, name="renorm"), (12, 12, 2),
         r"layer 'renorm' \(BatchNormalization\): batch renormalization \(renorm=True\) is not supported"),
        (lambda L: L.BatchNormalization(name="sequence_norm"), (12, 2),
         r"layer 'sequence_norm' \(BatchNormalization\): inputs of shape \(None, 12, 2\); only \(N, H, W, C\) and \(N, D\)"),
        (lambda L: L.Conv2D(2, 3, groups=2, name="grouped"), (12, 12, 2),
         r"layer 'grouped' \(Conv2D\): grouped convolution is not supported"),
        (lambda L: L.Conv2D(2, 3, data_format="channels_first", name="first"), (2, 12, 12),
         r"layer 'first' \(Conv2D\): data_format='channels_first'; only channels_last is supported"),
        (lambda L: L.Activation("tanh", name="squash"), (12, 12, 2),
         r"layer 'squash' \(Activation\): activation 'tanh' is not supported; supported: linear, relu, softmax"),
        (lambda L: L.Dense(3, activation="elu", name="elu_dense"), (12,),
         r"layer 'elu_dense' \(Dense\): activation 'elu' is not supported; supported: linear, relu, softmax"),
        (lambda L: L.Dense(3, activation="sigmoid", name="yes_no"), (12,),
         r"layer 'yes_no' \(Dense\): activation 'sigmoid' is not supported"),
        (lambda L: L.ReLU(max_value=6, name="relu6"), (12, 12, 2),
         r"layer 'relu6' \(ReLU\): only ReLU\(\) with its default options is supported"),
        (lambda L: L.Softmax(axis=1, name="over_rows"), (12, 12, 2),
         r"layer 'over_rows' \(Softmax\): softmax over axis 1; only the last axis is supported"),
    ],
)
def test_unsupported_layers_and_options_name_the_layer(keras, make, input_shape, message):
    keras_model = build(keras, [make(keras.layers), keras.layers.Flatten(), keras.layers.Dense(2)], input_shape)
    with pytest.raises(ValueError, match=r"^from_keras cannot convert " + message) as error:
        keras_interop.from_keras(keras_model)
    if "no counterpart" in message:
        # The list of what is supported: every layer of the table, Activation and augmentation.
        supported = error.value.args[0].split("supported: ")[1].split(", ")
        assert supported == [row[1] for row in keras_interop.CORRESPONDENCE] + ["Activation", *keras_interop.AUGMENTATION_LAYERS]


def test_bad_models_are_refused(keras):
    with pytest.raises(TypeError, match="^keras_model must be a keras.Sequential or a functional keras.Model, got str$"):
        keras_interop.from_keras("model")

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    subclassed = Subclassed()
    subclassed(np.zeros((1, 4), dtype=np.float32))
    with pytest.raises(TypeError, match=r"got Subclassed, a subclassed model with no graph of layers"):
        keras_interop.from_keras(subclassed)
    with pytest.raises(ValueError, match=r"keras_model must be built with a known input shape"):
        keras_interop.from_keras(keras.Sequential([keras.layers.Dense(2)]))
    with pytest.raises(TypeError, match="sequential must be a cnn_course.model.Sequential, got Sequential"):
        keras_interop.to_keras(keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]))
    converted = keras_interop.from_keras(build(keras, [keras.layers.Flatten(), keras.layers.Dense(3)]))
    with pytest.raises(ValueError, match=r"x must have shape \(N, 12, 12, 2\) for this model, got shape \(7, 12, 12, 1\)"):
        converted.predict(images((12, 12, 1)))


@pytest.mark.parametrize("padding, shown", [(1, r"\(1, 1\)"), ((0, 2), r"\(0, 2\)")])
def test_to_keras_refuses_an_explicit_padding_amount(padding, shown):
    net = model.Sequential([layers.Conv2D(2, 3, padding=padding), layers.Flatten(), layers.Dense(2)], (6, 6, 1))
    with pytest.raises(ValueError, match=rf"layer 'conv1' pads by {shown}, but Keras's Conv2D takes only 'valid' or 'same'"):
        keras_interop.to_keras(net)


def test_to_keras_refuses_a_layer_it_has_no_counterpart_for():
    class Twice(layers.ReLU):
        pass

    net = model.Sequential([layers.Flatten(), Twice(), layers.Dense(2)], (3, 3, 1))
    with pytest.raises(ValueError, match=r"^to_keras cannot convert layer 'relu1' \(Twice\); supported: Conv2D, Dense"):
        keras_interop.to_keras(net)


# --- functional models: chains of layers and residual blocks (chapter "Training CNNs in practice") ---


def float32_exact(shape, count=5, seed=6):
    """Random float64 images that float32 holds exactly (Keras's predict casts float64 arrays to float32)."""
    return images(shape, count=count, seed=seed, dtype=np.float64)  # drawn in float32, then widened


def structure(layer_list, names):
    """Each layer's name and class, a Residual block's inner structure and projection (kernel shape, stride) too."""
    rows = []
    for name, layer in zip(names, layer_list):
        if isinstance(layer, layers.Residual):
            projection = None if layer.projection is None else (layer.projection.params["kernel"].shape, layer.projection.stride)
            rows.append((name, "Residual", structure(layer.layers, layer.names), projection))
        else:
            rows.append((name, type(layer).__name__))
    return rows


def residual_cnn(keras):
    """The chapter's residual CNN (width 8), float64, random biases and BatchNorm statistics."""
    keras.utils.set_random_seed(0)
    with float64_keras(keras):
        keras_model = mnist_models.build_residual_cnn(width=8)
    return random_batch_norms(random_biases(keras_model, seed=1), seed=2)


def test_the_chapters_residual_cnn_comes_over_with_the_same_probabilities(keras):
    keras_model = residual_cnn(keras)
    assert not isinstance(keras_model, keras.Sequential)
    ours = keras_interop.from_keras(keras_model)
    assert ours.dtype == np.float64
    inner = [("conv1", "Conv2D"), ("conv1_bn", "BatchNorm"), ("conv1_relu", "ReLU"), ("conv2", "Conv2D"), ("conv2_bn", "BatchNorm")]
    assert structure(ours.layers, ours.names) == [
        ("stem", "Conv2D"), ("stem_bn", "BatchNorm"), ("stem_relu", "ReLU"), ("pool1", "MaxPool2D"),
        ("block1", "Residual", inner, None), ("block1_relu", "ReLU"), ("pool2", "MaxPool2D"),
        ("block2", "Residual", inner, ((1, 1, 8, 16), (1, 1))), ("block2_relu", "ReLU"),
        ("block3", "Residual", inner, None), ("block3_relu", "ReLU"),
        ("global_average", "GlobalAvgPool2D"), ("probabilities", "Dense"), ("probabilities_softmax", "Softmax"),
    ]
    # The weights, exactly: no bias for the convolutions without one, the projection's kernel and bias.
    block2 = ours.get_layer("block2")
    for ours_layer, keras_name in [(block2.projection, "block2_projection"), (block2.layers[1], "block2_conv1_bn"),
                                   (ours.get_layer("stem"), "stem")]:
        expected = keras_model.get_layer(keras_name).get_weights()
        for mine, theirs in zip(ours_layer.get_weights(), expected, strict=True):
            np.testing.assert_array_equal(mine, theirs)
    assert not ours.get_layer("stem").use_bias and "bias" not in ours.get_layer("stem").params
    assert ours.count_params() + ours.count_state() == keras_model.count_params()
    # Inference: the random moving statistics, through a direct call and through predict (float32-exact images).
    x = float32_exact((28, 28, 1))
    magnitude = probability_magnitude(ours, x)
    probabilities = ours.predict(x, batch_size=2)
    called = keras_model(x, training=False).numpy()
    predicted = keras_model.predict(x, verbose=0)
    assert probabilities.dtype == called.dtype == predicted.dtype == np.float64
    assert_float64_close(probabilities, called, magnitude, err_msg="keras_model(x)")
    assert_float64_close(probabilities, predicted, magnitude, err_msg="keras_model.predict")
    # The bound above is loose (the magnitude compounds |gamma| / sigma through nine BatchNorms), so
    # also the acceptance bound on the probabilities, 1e-10 (float64's roundings here are some 1e-16).
    assert_within(probabilities, called, 1e-10, "(keras_model(x))")
    assert_within(probabilities, predicted, 1e-10, "(keras_model.predict)")


def test_the_chapters_residual_cnn_in_float32_keeps_its_weights(keras):
    keras.utils.set_random_seed(0)
    keras_model = mnist_models.build_residual_cnn(width=4)
    ours = keras_interop.from_keras(keras_model)
    assert ours.dtype == np.float32 and "random_shift" not in ours.names
    projection = ours.get_layer("block2").projection
    assert all(w.dtype == np.float32 for w in ours.get_weights())
    np.testing.assert_array_equal(projection.params["kernel"], keras_model.get_layer("block2_projection").get_weights()[0])


def resnet(dtype="float64", seed=0):
    """A Sequential with every kind of block: identity, strided with a projection, one with a block inside, dense."""
    net = model.Sequential(
        [
            layers.Conv2D(4, 3, padding="same"), layers.BatchNorm(), layers.ReLU(),
            layers.Residual([layers.Conv2D(4, 3, padding="same"), layers.BatchNorm(), layers.ReLU(),
                             layers.Conv2D(4, 3, padding="same"), layers.BatchNorm()]),
            layers.ReLU(),
            layers.Residual([layers.Conv2D(6, 3, stride=2, padding="same"), layers.BatchNorm(momentum=0.9), layers.ReLU()]),
            layers.Residual([layers.Residual([layers.Conv2D(6, 3, padding="same"), layers.ReLU()]),
                             layers.Conv2D(5, 1, stride=(2, 1)), layers.BatchNorm(epsilon=1e-4)]),
            layers.GlobalAvgPool2D(),
            layers.Residual([layers.Dense(5), layers.ReLU(), layers.Dense(5)]),
            layers.Dense(3),
        ],
        (8, 8, 2), seed=seed, dtype=dtype,
    )
    rng = np.random.default_rng(seed + 10)
    for key, value, _ in net.parameters():
        if key.endswith("bias") or key.endswith("beta"):
            value[...] = rng.normal(0.0, 0.3, value.shape)
        elif key.endswith("gamma"):
            value[...] = rng.normal(1.0, 0.3, value.shape)
    for layer in every_layer(net.layers):
        if isinstance(layer, layers.BatchNorm):
            layer.state["moving_mean"][...] = rng.normal(0.0, 0.5, layer.state["moving_mean"].shape)
            layer.state["moving_variance"][...] = rng.uniform(0.5, 2.0, layer.state["moving_variance"].shape)
    return net


def test_round_trip_of_a_sequential_with_residual_blocks(keras):
    net = resnet()
    keras_model = keras_interop.to_keras(net, logits=True)
    assert not isinstance(keras_model, keras.Sequential)
    back = keras_interop.from_keras(keras_model)
    assert back.dtype == np.float64 and back.input_shape == net.input_shape
    assert structure(back.layers, back.names) == structure(net.layers, net.names)
    assert back.get_layer("residual3").projection.stride == (2, 1)
    for layer, twin in zip(every_layer(back.layers), every_layer(net.layers), strict=True):
        if isinstance(layer, layers.BatchNorm):
            assert (layer.momentum, layer.epsilon) == (twin.momentum, twin.epsilon)
    weights = net.get_weights()
    for mine, theirs in zip(back.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    # Copied, not shared.
    kernel = back.get_layer("residual2").projection.params["kernel"]
    saved = kernel.copy()
    kernel += 1.0
    np.testing.assert_array_equal(net.get_layer("residual2").projection.params["kernel"], saved)
    np.testing.assert_array_equal(keras_model.get_layer("residual2_projection").get_weights()[0], saved)
    kernel[...] = saved
    x = float32_exact((8, 8, 2))
    magnitude = probability_magnitude(net, x)
    expected = net.predict(x)
    assert_float64_close(back.predict(x), expected, magnitude, err_msg="from_keras(to_keras(net))")
    keras_probabilities = ops.softmax(keras_model(x, training=False).numpy(), axis=-1)
    assert_float64_close(keras_probabilities, expected, magnitude, err_msg="to_keras")
    assert_within(back.predict(x), expected, 1e-10, "(from_keras(to_keras(net)))")
    assert_within(keras_probabilities, expected, 1e-10, "(to_keras)")
    # With the Softmax that to_keras adds, the model comes back with it as its last layer.
    with_softmax = keras_interop.from_keras(keras_interop.to_keras(net))
    assert with_softmax.names == [*net.names, f"{net.names[-1]}_softmax"]


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("strides", [1, 2, (2, 1)])
def test_hand_written_blocks_with_projections_come_over(keras, use_bias, strides):
    """A block that downsamples (a strided projection with or without bias, the Add's inputs in the
    other order), an identity block with augmentation and a Conv2D's activation inside, Activation after.
    The first block takes its Add's name, "merge"; the second, "same_add", is "same", and its inner
    layers lose the prefix "same_"."""
    L = keras.layers
    with float64_keras(keras):
        inputs = keras.Input((9, 8, 2))
        x = L.Conv2D(3, 3, padding="same", name="stem")(inputs)
        y = L.Conv2D(5, 3, strides=strides, padding="same", use_bias=False, name="down_a")(x)
        y = L.BatchNormalization(name="down_norm")(y)
        y = L.ReLU(name="down_relu")(y)
        y = L.Conv2D(5, 3, padding="same", name="down_b")(y)
        shortcut = L.Conv2D(5, 1, strides=strides, use_bias=use_bias, name="shortcut")(x)
        x = L.Add(name="merge")([y, shortcut])
        x = L.Activation("relu", name="after_down")(x)
        y = L.RandomFlip(name="flip")(x)
        y = L.Conv2D(5, 3, padding="same", activation="relu", name="same_a")(y)
        y = L.BatchNormalization(name="same_norm")(y)
        x = L.ReLU(name="after_same")(L.Add(name="same_add")([x, y]))
        outputs = L.Dense(4, activation="softmax", name="scores")(L.GlobalAveragePooling2D(name="pool")(x))
        keras_model = random_batch_norms(random_biases(keras.Model(inputs, outputs), seed=3), seed=4)
    ours = keras_interop.from_keras(keras_model)
    projection = ((1, 1, 3, 5), (strides, strides) if isinstance(strides, int) else strides)
    assert structure(ours.layers, ours.names) == [
        ("stem", "Conv2D"),
        ("merge", "Residual", [("down_a", "Conv2D"), ("down_norm", "BatchNorm"), ("down_relu", "ReLU"), ("down_b", "Conv2D")],
         projection),
        ("after_down", "ReLU"),
        ("same", "Residual", [("a", "Conv2D"), ("a_relu", "ReLU"), ("norm", "BatchNorm")], None),
        ("after_same", "ReLU"), ("pool", "GlobalAvgPool2D"), ("scores", "Dense"), ("scores_softmax", "Softmax"),
    ]
    keras_projection = keras_model.get_layer("shortcut").get_weights()
    bias = keras_projection[1] if use_bias else np.zeros(5)
    np.testing.assert_array_equal(ours.get_layer("merge").projection.params["kernel"], keras_projection[0])
    np.testing.assert_array_equal(ours.get_layer("merge").projection.params["bias"], bias)
    x = float32_exact((9, 8, 2))
    magnitude = probability_magnitude(ours, x)
    probabilities = ours.predict(x)
    assert_float64_close(probabilities, keras_model(x, training=False).numpy(), magnitude, err_msg="keras_model(x)")
    assert_float64_close(probabilities, keras_model.predict(x, verbose=0), magnitude, err_msg="keras_model.predict")
    assert_within(probabilities, keras_model(x, training=False).numpy(), 1e-10, "(keras_model(x))")


def _sum(L, tensors):
    return L.Add(name="sum")(tensors)


def _conv(L, filters, kernel_size, name, **options):
    return L.Conv2D(filters, kernel_size, padding="same", name=name, **options)


def _not_a_chain_back(keras, L, x):
    """``u = a(x)``, ``w = x + b(u)``, then ``w + u``: the outer block's inner path passes its own input."""
    u = _conv(L, 2, 3, "a")(x)
    w = L.Add(name="inner_sum")([_conv(L, 2, 3, "b")(u), x])
    return L.Add(name="outer_sum")([w, u])


def _shared(keras, L, x):
    dense = L.Dense(2, name="shared")
    return dense(dense(L.GlobalAveragePooling2D()(x)))


def _nested(keras, L, x):
    inner = keras.Sequential([keras.Input((6, 6, 2)), L.Conv2D(2, 3)], name="inner")
    return inner(x)


# Graphs on an input of shape (6, 6, 2) (or a shape given in the third place), and the refusal's message.
REFUSED_GRAPHS = {
    "a branch joined by Concatenate": (
        lambda keras, L, x: L.Concatenate(name="join")([_conv(L, 2, 3, "left")(x), _conv(L, 2, 3, "right")(x)]),
        r"layer 'join' \(Concatenate\): it takes 2 inputs; but for the Add of a residual block, every layer must take one"),
    "two 3 x 3 convolutions added": (
        lambda keras, L, x: _sum(L, [_conv(L, 2, 3, "left")(x), _conv(L, 2, 3, "right")(x)]),
        r"layer 'left' \(Conv2D\): the shortcut of the residual block ending in 'sum' is a 3 x 3 convolution; "
        r"a Residual's projection is a 1 x 1 Conv2D"),
    "branches with no shortcut": (
        lambda keras, L, x: _sum(L, [L.ReLU(name="left_relu")(_conv(L, 2, 3, "left")(x)),
                                     L.ReLU(name="right_relu")(_conv(L, 2, 3, "right")(x))]),
        r"layer 'sum' \(Add\): its inputs \(from 'left_relu' and 'right_relu'\) are not the two branches of a "
        r"residual block from one source: neither is computed from the other"),
    "a shortcut of Conv2D and BatchNormalization": (
        lambda keras, L, x: _sum(L, [L.BatchNormalization(name="shortcut_norm")(L.Conv2D(3, 1, name="shortcut")(x)),
                                     L.BatchNormalization(name="path_norm")(_conv(L, 3, 3, "path")(x))]),
        r"layer 'sum' \(Add\): its inputs \(from 'shortcut_norm' and 'path_norm'\) are not the two branches .*"
        r"\(a shortcut of more layers, such as a Conv2D and a BatchNormalization, is not supported\)"),
    "an inner path that passes the block's input": (
        _not_a_chain_back,
        r"layer 'outer_sum' \(Add\): its inner path does not lead back to the tensor its shortcut starts from"),
    "a projection where the shape does not change": (
        lambda keras, L, x: _sum(L, [L.Conv2D(2, 1, name="needless")(x), _conv(L, 2, 3, "path")(x)]),
        r"layer 'needless' \(Conv2D\): a projection on the shortcut of the residual block ending in 'sum', whose "
        r"inner path keeps the shape \(6, 6, 2\); a Residual has a projection only where its inner path changes"),
    "a projection with another stride (Keras broadcasts the sum)": (
        lambda keras, L, x: _sum(L, [L.Conv2D(3, 1, name="shortcut")(x), _conv(L, 3, 3, "path", strides=(2, 1))(x)]),
        r"layer 'shortcut' \(Conv2D\): a projection with strides \(1, 1\) and 3 filters, while the inner path of the "
        r"residual block ending in 'sum' has an overall stride of \(2, 1\) and 3 channels",
        (2, 6, 2)),
    "an identity shortcut where the shape changes (Keras broadcasts the sum)": (
        lambda keras, L, x: _sum(L, [x, _conv(L, 3, 3, "path")(x)]),
        r"layer 'sum' \(Add\): its shortcut is the identity, but its inner path changes the shape from \(6, 6, 1\) "
        r"to \(6, 6, 3\)",
        (6, 6, 1)),
    "a projection with an activation": (
        lambda keras, L, x: _sum(L, [L.Conv2D(3, 1, activation="relu", name="shortcut")(x), _conv(L, 3, 3, "path")(x)]),
        r"layer 'shortcut' \(Conv2D\): the projection of the residual block ending in 'sum' has activation 'relu'"),
    "an Add of three tensors": (
        lambda keras, L, x: _sum(L, [x, _conv(L, 2, 3, "a")(x), _conv(L, 2, 3, "b")(x)]),
        r"layer 'sum' \(Add\): an Add of 3 tensors; a residual block adds two"),
    "a tensor added to itself": (
        lambda keras, L, x: _sum(L, [_conv(L, 2, 3, "a")(x)] * 2),
        r"layer 'sum' \(Add\): it adds a tensor to itself"),
    "a shared layer": (
        _shared, r"layer 'shared' \(Dense\): it is called more than once in the model \(a shared layer\)"),
    "a nested model": (
        _nested, r"layer 'inner' \(Sequential\): a model inside the model is not supported"),
    "a function of keras.ops": (
        lambda keras, L, x: keras.ops.add(_conv(L, 2, 3, "path")(x), x),
        r"operation '\w+' \(Add\): it is a function of keras.ops, not a Keras layer"),
}


@pytest.mark.parametrize("name", list(REFUSED_GRAPHS))
def test_graphs_that_are_not_chains_of_layers_and_blocks_are_refused(keras, name):
    make, message, *shape = REFUSED_GRAPHS[name]
    inputs = keras.Input(shape[0] if shape else (6, 6, 2))
    keras_model = keras.Model(inputs, make(keras, keras.layers, inputs))
    with pytest.raises(ValueError, match=r"^from_keras cannot convert " + message):
        keras_interop.from_keras(keras_model)


def test_models_with_several_inputs_or_outputs_are_refused(keras):
    first, second = keras.Input((4,)), keras.Input((4,))
    with pytest.raises(ValueError, match=r"^keras_model must have one input and one output, got 2 inputs and 1 outputs$"):
        keras_interop.from_keras(keras.Model([first, second], keras.layers.Add()([first, second])))
    hidden = keras.layers.Dense(3)(first)
    with pytest.raises(ValueError, match=r"^keras_model must have one input and one output, got 1 inputs and 2 outputs$"):
        keras_interop.from_keras(keras.Model(first, [hidden, keras.layers.Dense(2)(hidden)]))
