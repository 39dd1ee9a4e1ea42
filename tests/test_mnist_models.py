"""The MNIST chapter's Keras models: architecture, logging without timings, training API."""

import re

import numpy as np
import pytest

from cnn_course import keras_interop, mnist_models

from numerics import assert_float64_close, assert_keras_float32_layers, keras_float64_magnitudes


def test_dense_baseline_has_784_by_10_weights():
    for activation in ("sigmoid", "softmax"):
        model = mnist_models.build_dense_baseline(activation)
        assert model.input_shape == (None, 784)
        assert model.output_shape == (None, 10)
        assert model.count_params() == 784 * 10 + 10
        assert model.layers[-1].activation.__name__ == activation


def test_dense_baseline_rejects_other_activations():
    with pytest.raises(ValueError, match="activation must be 'sigmoid' or 'softmax', got 'relu'"):
        mnist_models.build_dense_baseline("relu")


def test_cnn_architecture_and_parameter_count():
    model = mnist_models.build_cnn()
    names = [layer.name for layer in model.layers]
    assert names == [
        "random_shift", "conv1", "pool1", "conv2", "pool2", "flatten", "dropout1", "hidden", "dropout2", "probabilities"
    ]
    # "valid" 5 x 5 convolutions and 2 x 2 pooling: 28 -> 24 -> 12 -> 8 -> 4.
    assert [model.get_layer(name).output.shape[1:] for name in ("conv1", "pool1", "conv2", "pool2")] == [
        (24, 24, 32), (12, 12, 32), (8, 8, 64), (4, 4, 64)
    ]
    assert model.output_shape == (None, 10)
    hidden = mnist_models.CNN_RECIPE["hidden_units"]
    assert model.count_params() == (
        (5 * 5 * 1 * 32 + 32) + (5 * 5 * 32 * 64 + 64) + (4 * 4 * 64 * hidden + hidden) + (hidden * 10 + 10)
    )
    assert model.get_layer("dropout2").rate == mnist_models.CNN_RECIPE["dropout"]
    assert model.get_layer("dropout1").rate == mnist_models.CNN_RECIPE["dropout"] / 2


def test_cnn_is_compiled_without_xla():
    images, labels = _tiny_mnist(64)
    model, _ = mnist_models.train_cnn(images, labels, seed=0, epochs=1, log=False)
    assert model.jit_compile is False


def test_cnn_is_supported_by_from_keras(keras):
    # The chapter reruns the trained CNN in NumPy through from_keras; every layer must convert.
    model = mnist_models.build_cnn()
    x = np.random.default_rng(0).random((3, 28, 28, 1), dtype=np.float32)
    ours = keras_interop.from_keras(model)
    # As the chapter does, in float32: layer by layer, each within float32's rounding.
    assert_keras_float32_layers(model, x, ours)
    # predict (a batch at a time, softmax of the logits) is forward's last output, the Softmax layer's.
    np.testing.assert_array_equal(ours.predict(x), ours.forward(x))
    np.testing.assert_array_equal(ours.forward(x), list(ours.outputs(x).values())[-1])
    # The mathematics: the same model and weights in float64, end to end.
    policy, floatx = keras.config.dtype_policy(), keras.config.floatx()
    keras.config.set_dtype_policy("float64")  # the layers' dtype
    keras.config.set_floatx("float64")  # keras.Input's dtype
    try:
        model64 = mnist_models.build_cnn()
    finally:
        keras.config.set_dtype_policy(policy)
        keras.config.set_floatx(floatx)
    model64.set_weights(model.get_weights())
    x64 = x.astype(np.float64)
    expected = model64.predict(x64, verbose=0)
    assert expected.dtype == np.float64
    magnitude = keras_float64_magnitudes(model64, x64)[-1]
    assert_float64_close(keras_interop.from_keras(model64).predict(x64), expected, magnitude)


def _tiny_mnist(count=256, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=count)
    images = rng.random((count, 28, 28, 1), dtype=np.float32) * 0.1
    # Make the classes learnable: a bright square whose position encodes the digit.
    for index, label in enumerate(labels):
        images[index, 2 * label : 2 * label + 6, 10:16, 0] = 1.0
    return images, labels


def test_train_cnn_returns_model_and_history_with_validation(capsys):
    images, labels = _tiny_mnist()
    model, history = mnist_models.train_cnn(images, labels, seed=3, epochs=2, batch_size=64)
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(history["loss"]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    # One line per epoch with the metrics and no timings (nbval compares these lines).
    pattern = r"epoch [12]/2  accuracy \d\.\d{4}  loss \d\.\d{4}  val_accuracy \d\.\d{4}  val_loss \d\.\d{4}"
    for line in lines:
        assert re.fullmatch(pattern, line), line
    assert model.predict(images[:5], verbose=0).shape == (5, 10)


def test_train_cnn_is_reproducible_for_a_seed():
    images, labels = _tiny_mnist(128)
    first, _ = mnist_models.train_cnn(images, labels, seed=5, epochs=1, log=False)
    second, _ = mnist_models.train_cnn(images, labels, seed=5, epochs=1, log=False)
    other, _ = mnist_models.train_cnn(images, labels, seed=6, epochs=1, log=False)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not np.allclose(first.get_weights()[0], other.get_weights()[0])


def test_train_cnn_learns_a_learnable_task():
    images, labels = _tiny_mnist(512)
    model, history = mnist_models.train_cnn(images, labels, seed=0, epochs=4, log=False)
    assert history["loss"][-1] < history["loss"][0]
    assert np.mean(model.predict(images, verbose=0).argmax(axis=1) == labels) > 0.5


@pytest.mark.parametrize(
    "images, labels, message",
    [
        (np.zeros((4, 28, 28), np.float32), np.zeros(4, int), r"images must have shape \(N, 28, 28, 1\), got shape \(4, 28, 28\)"),
        (np.zeros((4, 28, 28, 1), np.uint8), np.zeros(4, int), "images must be floats scaled to \\[0, 1\\], got dtype uint8"),
        (np.full((4, 28, 28, 1), 255.0), np.zeros(4, int), "divide the uint8 pixels by 255"),
        (np.zeros((4, 28, 28, 1), np.float32), np.zeros(3, int), r"labels must have shape \(4,\) to match images, got shape \(3,\)"),
        (np.zeros((4, 28, 28, 1), np.float32), np.full(4, 10), "labels must be integer digits 0 to 9"),
    ],
)
def test_train_cnn_rejects_bad_input(images, labels, message):
    with pytest.raises(ValueError, match=message):
        mnist_models.train_cnn(images, labels, seed=0, epochs=1, log=False)


def test_batches_per_epoch_leaves_out_the_validation_images():
    assert mnist_models.batches_per_epoch(60000) == 422  # 54,000 training images in batches of 128
    assert mnist_models.batches_per_epoch(100, batch_size=10, validation_split=0.0) == 10
    assert mnist_models.batches_per_epoch(101, batch_size=10, validation_split=0.0) == 11


def test_train_cnn_can_train_without_augmentation():
    images, labels = _tiny_mnist(64)
    plain, _ = mnist_models.train_cnn(images, labels, seed=5, epochs=1, log=False, shift=0.0)
    shifting = plain.get_layer("random_shift")
    assert (shifting.height_factor, shifting.width_factor) == (0.0, 0.0)
    augmented, _ = mnist_models.train_cnn(images, labels, seed=5, epochs=1, log=False)
    assert augmented.get_layer("random_shift").height_factor == mnist_models.CNN_RECIPE["shift"]


def test_residual_cnn_is_smaller_than_the_cnn_and_counts_its_parameters():
    model = mnist_models.build_residual_cnn()
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    # Counted by hand from the layers: convolutions, batch norms (4 numbers per channel), projection, dense.
    width = 32
    conv = lambda c_in, c_out, k=3: k * k * c_in * c_out
    expected = (
        conv(1, width) + 4 * width                                        # stem
        + 2 * (conv(width, width) + 4 * width)                            # block1
        + conv(width, 2 * width) + conv(2 * width, 2 * width) + 2 * 4 * 2 * width
        + conv(width, 2 * width, k=1) + 2 * width                         # block2 and its projection
        + 2 * (conv(2 * width, 2 * width) + 4 * 2 * width)                # block3
        + 2 * width * 10 + 10                                             # dense
    )
    assert model.count_params() == expected
    assert model.count_params() < mnist_models.build_cnn().count_params()
    adds = [layer for layer in model.layers if layer.name.endswith("_add")]
    assert [layer.name for layer in adds] == ["block1_add", "block2_add", "block3_add"]


def test_train_cnn_trains_the_residual_cnn():
    images, labels = _tiny_mnist(128)
    model, history = mnist_models.train_cnn(images, labels, seed=5, epochs=2, log=False,
                                            build=mnist_models.build_residual_cnn)
    assert model.name == "mnist_residual_cnn"
    assert len(history["loss"]) == 2 and np.all(np.isfinite(history["loss"]))
