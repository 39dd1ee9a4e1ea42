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
    """Keras's weights as cnn_course holds them: a zero bias where Keras has none."""
    weights = []
    for layer in keras_model.layers:
        layer_weights = layer.get_weights()
        if layer_weights and not layer.get_config().get("use_bias", True):
            layer_weights.append(np.zeros(layer_weights[0].shape[-1], dtype=layer_weights[0].dtype))
        weights += layer_weights
    return weights


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
    # The weights are copied exactly, in Keras's order (with a zero bias where Keras had none).
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


def probability_magnitude(sequential, x):
    """A magnitude for assert_float64_close of the probabilities of ``sequential`` (which has
    BatchNorm layers, so numerics.keras_float64_magnitudes does not apply): the logits of |x|
    through |weights|, each BatchNorm with |gamma|, |beta| and -|moving_mean| (so that it computes
    |gamma| (|x| + |mean|) / sigma + |beta|, the size of its terms), then the softmax's rule of
    numerics.keras_float64_magnitudes, 7 max M + K + 34."""
    twin = copy.deepcopy(sequential)
    for _, value, _ in twin.parameters():
        np.abs(value, out=value)
    for layer in twin.layers:
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
    with pytest.raises(TypeError, match="keras_model must be a keras.Sequential, got str"):
        keras_interop.from_keras("model")
    inputs = keras.Input((4,))
    functional = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(TypeError, match="keras_model must be a keras.Sequential, got Functional"):
        keras_interop.from_keras(functional)
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
