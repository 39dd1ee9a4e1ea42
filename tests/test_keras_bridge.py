"""numpy_forward gives Keras's predictions for every layer and option it supports."""

import numpy as np
import pytest

from cnn_course import keras_bridge

from numerics import assert_float64_close, assert_keras_float32_layers, keras_float64_magnitudes


def build(keras, layers, input_shape=(12, 12, 2), seed=0, dtype="float32"):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(input_shape, dtype=dtype), *layers])
    # Random, non-zero biases, so a wrong bias would show.
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            rng = np.random.default_rng(seed)
            layer.set_weights([w if w.ndim > 1 else rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in weights])
    return model


def images(shape, count=7, seed=1):
    return np.random.default_rng(seed).random((count, *shape), dtype=np.float32)


def check_in_float32_and_float64(keras, make_layers, input_shape, batch_size=500):
    """The float32 model layer by layer (each layer's float32 rounding bounded), then the
    same weights in float64 end to end (the mathematics)."""
    model = build(keras, make_layers("float32"), input_shape=input_shape)
    x = images(input_shape)
    assert_keras_float32_layers(model, x)
    model64 = build(keras, make_layers("float64"), input_shape=input_shape, dtype="float64")
    model64.set_weights(model.get_weights())
    x64 = x.astype(np.float64)
    expected = model64.predict(x64, verbose=0)
    result = keras_bridge.numpy_forward(model64, x64, batch_size=batch_size)
    assert result.shape == expected.shape
    assert_float64_close(result, expected, keras_float64_magnitudes(model64, x64)[-1])


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2, (1, 2)])
def test_cnn_matches_keras(keras, padding, strides):
    L = keras.layers

    def make_layers(dtype):
        return [
            L.RandomTranslation(0.1, 0.1, dtype=dtype),
            L.Conv2D(4, 3, strides=strides, padding=padding, activation="relu", dtype=dtype),
            L.MaxPooling2D(2, padding=padding, dtype=dtype),
            L.Conv2D(3, (2, 3), padding=padding, dtype=dtype),
            L.ReLU(dtype=dtype),
            L.AveragePooling2D((2, 1), strides=1, padding=padding, dtype=dtype),
            L.Flatten(dtype=dtype),
            L.Dropout(0.5, dtype=dtype),
            L.Dense(8, activation="tanh", dtype=dtype),
            L.Dense(5, dtype=dtype),
            L.Activation("softmax", dtype=dtype),
        ]

    check_in_float32_and_float64(keras, make_layers, (17, 17, 2), batch_size=3)


def test_dense_only_model_and_softmax_layer(keras):
    L = keras.layers

    def make_layers(dtype):
        return [L.Dense(10, activation="sigmoid", dtype=dtype), L.Dense(4, use_bias=False, dtype=dtype), L.Softmax(dtype=dtype)]

    check_in_float32_and_float64(keras, make_layers, (784,))


def test_unsupported_layer_is_named(keras):
    model = build(keras, [keras.layers.Conv2D(2, 3), keras.layers.BatchNormalization(name="my_norm")])
    with pytest.raises(ValueError, match=r"layer 'my_norm' of type BatchNormalization"):
        keras_bridge.numpy_forward(model, images((12, 12, 2)))


def test_unsupported_activation_is_named(keras):
    model = build(keras, [keras.layers.Flatten(), keras.layers.Dense(3, activation="elu", name="elu_dense")])
    with pytest.raises(ValueError, match=r"layer 'elu_dense' uses the activation 'elu'"):
        keras_bridge.numpy_forward(model, images((12, 12, 2)))


def test_bad_model_and_input(keras):
    with pytest.raises(TypeError, match="model must be a keras.Sequential"):
        keras_bridge.numpy_forward("model", images((12, 12, 2)))
    model = build(keras, [keras.layers.Flatten(), keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"x must have shape \(N, 12, 12, 2\) for this model, got shape \(7, 12, 12, 1\)"):
        keras_bridge.numpy_forward(model, images((12, 12, 1)))
