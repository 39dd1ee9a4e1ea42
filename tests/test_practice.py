"""The helpers of the chapter "Training CNNs in practice": subsets, model builders, statistics, figures, costs."""

import math

import matplotlib
import numpy as np
import pytest

from cnn_course import activations, initializers, practice, quiet_tensorflow

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

tf, keras = quiet_tensorflow.import_tensorflow()


def test_split_subset_draws_disjoint_sets_of_the_asked_sizes():
    images = np.arange(50 * 2).reshape(50, 2)
    labels = np.arange(50)
    (x_train, y_train), (x_validation, y_validation) = practice.split_subset(images, labels, 20, 10, seed=3)
    assert x_train.shape == (20, 2) and x_validation.shape == (10, 2)
    assert not set(y_train) & set(y_validation)
    np.testing.assert_array_equal(x_train[:, 0] // 2, y_train)  # images stay with their labels
    again = practice.split_subset(images, labels, 20, 10, seed=3)
    np.testing.assert_array_equal(again[0][1], y_train)
    assert not np.array_equal(practice.split_subset(images, labels, 20, 10, seed=4)[0][1], y_train)


@pytest.mark.parametrize("counts, message", [((40, 20), "at most the 50 images"), ((0, 5), "train_count")])
def test_split_subset_refuses_impossible_counts(counts, message):
    with pytest.raises(ValueError, match=message):
        practice.split_subset(np.zeros((50, 2)), np.zeros(50), *counts)


def test_split_subset_refuses_labels_of_another_length():
    with pytest.raises(ValueError, match=r"labels must have shape \(50,\)"):
        practice.split_subset(np.zeros((50, 2)), np.zeros(49), 5, 5)


def layer_kinds(model):
    return [type(layer).__name__ for layer in model.layers]


def test_build_small_cnn_adds_each_regulariser_only_when_asked():
    plain = practice.build_small_cnn()
    assert "Dropout" not in layer_kinds(plain) and "RandomTranslation" not in layer_kinds(plain)
    assert all(getattr(layer, "kernel_regularizer", None) is None for layer in plain.layers)
    assert plain.output_shape == (None, 10)
    # 3 x 3 x 1 x 16 + 16, 3 x 3 x 16 x 32 + 32, 5 x 5 x 32 x 64 + 64, 64 x 10 + 10
    assert plain.count_params() == (9 * 16 + 16) + (9 * 16 * 32 + 32) + (5 * 5 * 32 * 64 + 64) + (64 * 10 + 10)
    assert layer_kinds(practice.build_small_cnn(dropout=0.5)).count("Dropout") == 2
    assert layer_kinds(practice.build_small_cnn(shift=0.1))[0] == "RandomTranslation"
    decayed = practice.build_small_cnn(weight_decay=1e-3)
    penalised = [layer for layer in decayed.layers if getattr(layer, "kernel_regularizer", None) is not None]
    assert len(penalised) == 4
    assert decayed.count_params() == plain.count_params()


def test_build_small_cnn_weight_decay_adds_its_penalty_to_the_loss():
    keras.utils.set_random_seed(0)
    model = practice.build_small_cnn(weight_decay=1e-2)
    model(np.zeros((1, 28, 28, 1), "float32"))
    kernels = [layer.kernel for layer in model.layers if getattr(layer, "kernel_regularizer", None) is not None]
    expected = 1e-2 * sum(float(np.sum(np.square(kernel))) for kernel in kernels)
    np.testing.assert_allclose(float(sum(model.losses)), expected, rtol=1e-4)


def test_build_small_cnn_refuses_a_rate_outside_0_1():
    with pytest.raises(ValueError, match="dropout must be in"):
        practice.build_small_cnn(dropout=1.5)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_build_deep_dense_has_depth_hidden_layers(batch_norm):
    model = practice.build_deep_dense(5, width=8, batch_norm=batch_norm, momentum=0.9)
    kinds = layer_kinds(model)
    assert kinds.count("Dense") == 6 and kinds.count("ReLU") == 5
    assert kinds.count("BatchNormalization") == (5 if batch_norm else 0)
    if batch_norm:
        assert all(layer.momentum == 0.9 for layer in model.layers if type(layer).__name__ == "BatchNormalization")
        assert not any(layer.use_bias for layer in model.layers[:-1] if type(layer).__name__ == "Dense")
    assert model.output_shape == (None, 10)


def test_build_deep_cnn_residual_has_the_same_parameters_as_plain_and_adds():
    plain = practice.build_deep_cnn(5, width=4)
    residual = practice.build_deep_cnn(5, width=4, residual=True)
    assert plain.count_params() == residual.count_params() == (9 * 4 + 4) + 4 * (9 * 4 * 4 + 4) + (4 * 10 + 10)
    assert layer_kinds(residual).count("Add") == 2 and "Add" not in layer_kinds(plain)
    assert layer_kinds(practice.build_deep_cnn(3, width=4, batch_norm=True)).count("BatchNormalization") == 3
    assert plain.get_layer("downsample").output.shape[1:3] == (14, 14)


def test_build_deep_cnn_residual_block_is_x_plus_f_of_x():
    keras.utils.set_random_seed(1)
    model = practice.build_deep_cnn(3, width=2, residual=True, pool=4)
    x = np.random.default_rng(0).uniform(size=(2, 28, 28, 1)).astype("float32")
    sub = keras.Model(model.input, [model.get_layer("relu1").output, model.get_layer("conv3").output,
                                    model.get_layer("block1_relu").output])
    first, inner, block = (np.asarray(part) for part in sub(x))
    np.testing.assert_allclose(block, np.maximum(first + inner, 0), rtol=1e-6, atol=1e-6)


def test_build_deep_cnn_residual_needs_an_odd_depth():
    with pytest.raises(ValueError, match="depth must be odd"):
        practice.build_deep_cnn(4, residual=True)


def test_train_on_subset_is_reproducible_and_returns_the_four_curves():
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(64, 28, 28, 1)).astype("float32")
    labels = rng.integers(0, 10, 64)
    train, validation = (images[:48], labels[:48]), (images[48:], labels[48:])

    def run():
        return practice.train_on_subset(lambda: practice.build_deep_dense(2, width=8), train, validation, 2,
                                        lambda: keras.optimizers.SGD(0.01), seed=5, batch_size=16)

    first, second = run(), run()
    assert set(first) == {"loss", "accuracy", "val_loss", "val_accuracy"} and len(first["loss"]) == 2
    assert first == second


def batch_norm_model():
    """Conv (no bias) -> BN -> ReLU -> flatten -> Dense -> BN, float64, with stale running statistics."""
    L, d = keras.layers, "float64"
    inputs = keras.Input((5, 5, 1))
    x = L.Conv2D(3, 3, use_bias=False, dtype=d)(inputs)
    x = L.BatchNormalization(name="norm1", dtype=d)(x)
    x = L.Flatten(dtype=d)(L.ReLU(dtype=d)(x))
    x = L.Dense(4, dtype=d)(x)
    outputs = L.BatchNormalization(name="norm2", dtype=d)(x)
    keras_model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(8)
    for layer in keras_model.layers:
        if layer.weights:
            layer.set_weights([rng.normal(0.5, 1.0, w.shape) for w in layer.get_weights()])
    for name in ("norm1", "norm2"):
        layer = keras_model.get_layer(name)
        layer.moving_variance.assign(rng.uniform(0.5, 2.0, layer.moving_variance.shape))
    return keras_model


def test_recompute_batch_norm_statistics_sets_each_layer_to_its_inputs_statistics():
    keras_model = batch_norm_model()
    images = np.random.default_rng(9).uniform(0, 1, (23, 5, 5, 1))
    old = {name: keras_model.get_layer(name).moving_variance.numpy().copy() for name in ("norm1", "norm2")}
    changed = practice.recompute_batch_norm_statistics(keras_model, images, batch_size=7)
    assert list(changed) == ["norm1", "norm2"]
    for name in changed:
        layer = keras_model.get_layer(name)
        # The layer's inputs at inference, the earlier layer already with its new statistics.
        inputs = np.asarray(keras.Model(keras_model.input, layer.input)(images, training=False)).reshape(-1, layer.input.shape[-1])
        np.testing.assert_allclose(np.asarray(layer.moving_mean), inputs.mean(axis=0), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(np.asarray(layer.moving_variance), inputs.var(axis=0), rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(changed[name][0], old[name])
        np.testing.assert_array_equal(changed[name][1], np.asarray(layer.moving_variance))
    # Now the layers output, at inference, what they output in training mode over these images
    # (up to epsilon): the last layer's output has mean beta, variance gamma^2 per channel.
    last = keras_model.get_layer("norm2")
    output = np.asarray(keras_model(images, training=False))
    np.testing.assert_allclose(output.mean(axis=0), np.asarray(last.beta), atol=1e-10)
    gamma, variance = np.asarray(last.gamma), np.asarray(last.moving_variance)
    np.testing.assert_allclose(output.var(axis=0), gamma**2 * variance / (variance + last.epsilon), rtol=1e-10)


def test_recompute_batch_norm_statistics_refuses_bad_input():
    keras_model = batch_norm_model()
    with pytest.raises(TypeError, match="keras_model must be a keras.Model, got list"):
        practice.recompute_batch_norm_statistics([keras_model], np.zeros((2, 5, 5, 1)))
    with pytest.raises(ValueError, match=r"images must have shape \(N, 5, 5, 1\) with N >= 1, got shape \(2, 5, 5\)"):
        practice.recompute_batch_norm_statistics(keras_model, np.zeros((2, 5, 5)))
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)], name="plain")
    with pytest.raises(ValueError, match="keras_model 'plain' has no BatchNormalization layer"):
        practice.recompute_batch_norm_statistics(plain, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        practice.recompute_batch_norm_statistics(keras_model, np.zeros((2, 5, 5, 1)), batch_size=0)


def test_glorot_uniform_draws_within_its_limit_with_its_variance():
    weights = initializers.glorot_uniform((3, 3, 8, 16), np.random.default_rng(0), dtype="float64")
    limit = math.sqrt(6 / (9 * 8 + 9 * 16))
    assert weights.shape == (3, 3, 8, 16) and np.abs(weights).max() <= limit
    np.testing.assert_allclose(weights.var(), 2 / (9 * 8 + 9 * 16), rtol=0.1)
    keras_weights = keras.initializers.GlorotUniform(seed=0)((3, 3, 8, 16))
    assert np.abs(np.asarray(keras_weights)).max() <= limit * (1 + 1e-6)
    with pytest.raises(TypeError, match="rng"):
        initializers.glorot_uniform((2, 2), 0)
    with pytest.raises(ValueError, match="shape must be"):
        initializers.glorot_uniform((4,), np.random.default_rng(0))


def test_relu_stack_statistics_follows_the_layers():
    x = np.random.default_rng(1).normal(size=(200, 16))
    spreads = practice.relu_stack_statistics(x, 3, 16, initializers.he_normal, np.random.default_rng(2))
    rng = np.random.default_rng(2)
    h = x
    expected = []
    for _ in range(3):
        h = activations.relu(h @ initializers.he_normal((h.shape[1], 16), rng, dtype="float64"))
        expected.append(h.std())
    np.testing.assert_allclose(spreads, expected, rtol=1e-12)
    # Glorot halves the second moment at every layer of equal fan-in and fan-out, He keeps it.
    deep = np.random.default_rng(3).normal(size=(2000, 64))
    he = practice.relu_stack_statistics(deep, 12, 64, initializers.he_normal, np.random.default_rng(4))
    glorot = practice.relu_stack_statistics(deep, 12, 64, initializers.glorot_uniform, np.random.default_rng(4))
    assert he[-1] / glorot[-1] > 0.2 * math.sqrt(2) ** 11
    with pytest.raises(ValueError, match=r"x must have shape \(N, D\)"):
        practice.relu_stack_statistics(np.zeros((2, 3, 4)), 2, 4, initializers.he_normal, np.random.default_rng(0))


def test_figures_have_one_line_per_curve():
    histories = {"a": {"accuracy": [0.1, 0.5], "val_accuracy": [0.2, 0.4]}, "b": {"accuracy": [0.3, 0.6], "val_accuracy": [0.3, 0.5]}}
    figure = practice.show_histories(histories, title="t")
    assert len(figure.axes[0].lines) == 4
    plt.close(figure)
    with pytest.raises(ValueError, match="lacks"):
        practice.show_histories({"a": {"accuracy": [0.1]}})
    figure = practice.show_schedules({"constant": lambda step: 0.1, "half": lambda step: 0.1 / (1 + step)}, 10, marks=[5])
    lines = figure.axes[0].lines
    np.testing.assert_allclose(lines[1].get_ydata(), [0.1 / (1 + step) for step in range(10)])
    plt.close(figure)
    figure = practice.show_layer_statistics({"He": np.array([1.0, 0.9]), "Glorot": np.array([1.0, 0.5])})
    assert len(figure.axes[0].lines) == 2 and figure.axes[0].get_yscale() == "log"
    plt.close(figure)


@pytest.mark.parametrize("kernel_size, c_in, c_out", [(3, 8, 16), (5, 3, 4), (1, 2, 2)])
def test_separable_costs_match_keras(kernel_size, c_in, c_out):
    layer = keras.layers.SeparableConv2D(c_out, kernel_size, padding="same")
    model = keras.Sequential([keras.Input((6, 6, c_in)), layer])
    assert practice.separable_conv_params(kernel_size, c_in, c_out) == model.count_params()
    assert practice.separable_conv_params(kernel_size, c_in, c_out, bias=False) == model.count_params() - c_out
    depthwise, pointwise = layer.get_weights()[:2]
    # MACs: one product per weight of each part at every output pixel.
    assert practice.separable_conv_macs(6, 6, kernel_size, c_in, c_out) == 36 * (depthwise.size + pointwise.size)


def test_separable_costs_refuse_bad_sizes():
    with pytest.raises(ValueError, match="kernel_size"):
        practice.separable_conv_params(0, 3, 4)
    with pytest.raises(TypeError):
        practice.separable_conv_macs(6.5, 6, 3, 3, 4)
