"""numpy_forward gives Keras's predictions for every layer and option it supports."""

import numpy as np
import pytest

from cnn_course import keras_bridge


def build(keras, layers, input_shape=(12, 12, 2), seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(input_shape), *layers])
    # Random, non-zero biases, so a wrong bias would show.
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            rng = np.random.default_rng(seed)
            layer.set_weights([w if w.ndim > 1 else rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in weights])
    return model


def images(shape, count=7, seed=1):
    return np.random.default_rng(seed).random((count, *shape), dtype=np.float32)


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [1, 2, (1, 2)])
def test_cnn_matches_keras(keras, padding, strides):
    L = keras.layers
    model = build(
        keras,
        [
            L.RandomTranslation(0.1, 0.1),
            L.Conv2D(4, 3, strides=strides, padding=padding, activation="relu"),
            L.MaxPooling2D(2, padding=padding),
            L.Conv2D(3, (2, 3), padding=padding),
            L.ReLU(),
            L.AveragePooling2D((2, 1), strides=1, padding=padding),
            L.Flatten(),
            L.Dropout(0.5),
            L.Dense(8, activation="tanh"),
            L.Dense(5),
            L.Activation("softmax"),
        ],
        input_shape=(17, 17, 2),
    )
    x = images((17, 17, 2))
    expected = model.predict(x, verbose=0)
    result = keras_bridge.numpy_forward(model, x, batch_size=3)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)


def test_dense_only_model_and_softmax_layer(keras):
    L = keras.layers
    model = build(keras, [L.Dense(10, activation="sigmoid"), L.Dense(4, use_bias=False), L.Softmax()], input_shape=(784,))
    x = images((784,))
    np.testing.assert_allclose(keras_bridge.numpy_forward(model, x), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


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
