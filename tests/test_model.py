"""Sequential of cnn_course.model: gradients equal Keras's, training learns, errors name the layer."""

import copy
import sys

import numpy as np
import pytest

from cnn_course import gradients, layers, model, optimizers

from numerics import FLOAT64_TOLERANCE, assert_float64_close


def _small_cnn(seed=0, dtype="float32", dropout=0.0):
    return model.Sequential(
        [
            layers.Conv2D(4, 3, padding="same"),
            layers.ReLU(),
            layers.MaxPool2D(2),
            layers.Conv2D(6, 3, stride=2),
            layers.ReLU(),
            layers.AvgPool2D(2, padding="same"),
            layers.Flatten(),
            layers.Dropout(dropout),
            layers.Dense(3, weight_scale=0.5),
        ],
        input_shape=(14, 14, 1),
        seed=seed,
        dtype=dtype,
    )


def _toy_data(count=60, seed=0):
    """Three easy classes: a bright top half, a bright left half, or a bright centre."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=count)
    x = rng.uniform(0.0, 0.3, size=(count, 14, 14, 1)).astype(np.float32)
    x[y == 0, :7] += 0.7
    x[y == 1, :, :7] += 0.7
    x[y == 2, 4:10, 4:10] += 0.7
    return x, y


def test_names_and_summary():
    net = _small_cnn()
    assert [layer.name for layer in net.layers] == [
        "conv1", "relu1", "max_pool1", "conv2", "relu2", "avg_pool1", "flatten1", "dropout1", "dense1",
    ]
    text = net.summary()
    assert "conv1 (Conv2D)" in text and "(None, 14, 14, 4)" in text and "(None, 3, 3, 6)" in text
    # 3*3*1*4 + 4, 3*3*4*6 + 6, 24*3 + 3
    assert text.endswith(f"Total params: {40 + 222 + 75:,}")
    assert [key for key, _, _ in net.parameters()] == [
        "conv1/kernel", "conv1/bias", "conv2/kernel", "conv2/bias", "dense1/weights", "dense1/bias",
    ]


def test_whole_model_gradients_match_keras(tf, keras):
    net = _small_cnn(dtype="float64")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 14, 14, 1))
    y = np.array([0, 2, 1, 1, 0])
    for _, value, _ in net.parameters():
        value += rng.normal(scale=0.05, size=value.shape)  # non-zero biases too

    keras_model = keras.Sequential(
        [
            keras.Input((14, 14, 1), dtype="float64"),
            keras.layers.Conv2D(4, 3, padding="same", activation="relu", dtype="float64"),
            keras.layers.MaxPooling2D(2, dtype="float64"),
            keras.layers.Conv2D(6, 3, strides=2, activation="relu", dtype="float64"),
            keras.layers.AveragePooling2D(2, padding="same", dtype="float64"),
            keras.layers.Flatten(dtype="float64"),
            keras.layers.Dense(3, dtype="float64"),
        ]
    )
    keras_model.set_weights([value for _, value, _ in net.parameters()])
    loss_function = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")
    with tf.GradientTape() as tape:
        keras_loss = loss_function(y, keras_model(x))
    keras_grads = tape.gradient(keras_loss, keras_model.trainable_variables)

    logits = net.forward(x, training=True)
    loss, probabilities = gradients.softmax_cross_entropy(logits, y)
    net.backward(gradients.softmax_cross_entropy_backward(probabilities, y))
    np.testing.assert_allclose(loss, float(keras_loss), rtol=1e-10)
    # Float64 on both sides. For these seeded numbers the ReLU inputs are at least 8e-5 from 0
    # and the largest value of each max-pooling window, where positive, leads the next by at
    # least 8e-4 (ties at 0 pass no gradient through ReLU), far beyond rounding: both sides
    # use the same masks. Every gradient is then a sum of at most about 1100 products whose
    # absolute values add up to at most 5 (the backward pass of absolute values, for these
    # seeded numbers): each side is within 2 * 1100 * 2**-53 * 5 = 1.2e-12 of the exact
    # value, so 1e-10 times that magnitude is a safe tolerance.
    for (key, _, grad), expected in zip(net.parameters(), keras_grads):
        assert_float64_close(grad, expected.numpy(), magnitude=5.0, err_msg=key)


def test_fit_learns_and_is_reproducible():
    x, y = _toy_data()
    x_val, y_val = _toy_data(30, seed=1)
    histories, weights = [], []
    for _ in range(2):
        net = _small_cnn(seed=3, dropout=0.2)
        history = net.fit(x, y, optimizers.Adam(0.01), epochs=8, batch_size=16, validation_data=(x_val, y_val), progress=False)
        histories.append(history)
        weights.append([value.copy() for _, value, _ in net.parameters()])
    history = histories[0]
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy", "batch_loss"}
    assert all(len(history[key]) == 8 for key in ("loss", "accuracy", "val_loss", "val_accuracy"))
    assert len(history["batch_loss"]) == 8 * 4  # 60 examples in batches of 16
    # An epoch's loss is the mean of its batch losses, weighted by batch size.
    np.testing.assert_allclose(history["loss"][0], np.average(history["batch_loss"][:4], weights=[16, 16, 16, 12]))
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["val_accuracy"][-1] >= 0.9
    assert histories[0] == histories[1]
    for first, second in zip(*weights):
        np.testing.assert_array_equal(first, second)
    loss, accuracy = net.evaluate(x_val, y_val)
    assert (loss, accuracy) == (history["val_loss"][-1], history["val_accuracy"][-1])


def test_sgd_with_momentum_trains_too():
    x, y = _toy_data()
    net = _small_cnn(seed=4)
    initial_loss, _ = net.evaluate(x, y)
    history = net.fit(x, y, optimizers.SGD(0.1, momentum=0.9), epochs=10, batch_size=10, progress=False)
    assert history["loss"][-1] < 0.5 * initial_loss
    assert "val_loss" not in history


def _abs_forward(net, x):
    """Logits of |x| through |weights| and |biases|: for every logit, a bound on the size of
    the products it is made of (ReLU and pooling pass it on)."""
    twin = copy.deepcopy(net)
    for _, value, _ in twin.parameters():
        np.abs(value, out=value)
    return twin.forward(np.abs(x))


def test_predict_and_evaluate_agree():
    x, y = _toy_data(25)
    # float64: evaluate (batches of 4) and predict (batches of 7) compute the same logits with
    # different rounding, at most 1e-10 of their magnitude apart (numerics.py).
    net = _small_cnn(dtype="float64")
    probabilities = net.predict(x, batch_size=7)
    assert probabilities.shape == (25, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    loss, accuracy = net.evaluate(x, y, batch_size=4)
    magnitude = _abs_forward(net, x).max()
    # The argmaxes agree because no two top logits are within rounding of each other.
    top_two = np.sort(net.forward(x), axis=1)[:, -2:]
    assert np.min(top_two[:, 1] - top_two[:, 0]) > 2 * FLOAT64_TOLERANCE * magnitude
    assert accuracy == np.mean(probabilities.argmax(axis=1) == y)
    # Cross-entropy moves by at most twice the largest change of a logit.
    expected = -np.mean(np.log(probabilities[np.arange(25), y]))
    assert_float64_close(np.float64(loss), expected, magnitude=2 * magnitude)


def test_progress_bar_writes_to_stdout_without_timings(capsys):
    x, y = _toy_data(20)
    _small_cnn().fit(x, y, optimizers.Adam(), epochs=2, batch_size=8)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "epoch 1/2" in captured.out and "epoch 2/2" in captured.out and "3/3 batches" in captured.out
    assert "it/s" not in captured.out and "s/it" not in captured.out and "00:" not in captured.out
    assert model._progress_file() is sys.stdout  # outside a Jupyter kernel


def test_notebook_progress_output_keeps_only_the_last_redraw_of_each_bar(monkeypatch):
    from IPython import display

    shown = []

    class Handle:
        def update(self, content, raw):
            shown[-1] = content["text/plain"]

    def fake_display(content, raw, display_id):
        shown.append(content["text/plain"])
        return Handle()

    monkeypatch.setattr(display, "display", fake_display)
    lines = model._NotebookLines()
    for text in ["\repoch 1/2   0%|    | 0/4 batches", "\repoch 1/2  50%|##  | 2/4 batches   ", "",
                 "\repoch 1/2 100%|####| 4/4 batches, loss 0.2000", "\n", "\repoch 2/2   0%|    | 0/4 batches"]:
        lines.write(text)
    lines.write("\repoch 2/2 100%|####| 4/4 batches, loss 0.1000")
    lines.write("\n")
    assert shown == ["epoch 1/2 100%|####| 4/4 batches, loss 0.2000\nepoch 2/2 100%|####| 4/4 batches, loss 0.1000"]


def test_fit_uses_one_updatable_output_in_a_notebook(monkeypatch):
    shown = []

    class Handle:
        def update(self, content, raw):
            shown[-1] = content["text/plain"]

    from IPython import display

    monkeypatch.setattr(display, "display", lambda content, raw, display_id: shown.append(content["text/plain"]) or Handle())
    monkeypatch.setattr(model, "_progress_file", model._NotebookLines)
    x, y = _toy_data(20)
    _small_cnn().fit(x, y, optimizers.Adam(), epochs=2, batch_size=8)
    assert len(shown) == 1
    assert [line.split("|")[0] for line in shown[0].splitlines()] == ["epoch 1/2 100%", "epoch 2/2 100%"]
    assert "\r" not in shown[0]


def test_model_rejects_bad_input():
    with pytest.raises(ValueError, match=r"layer 'conv2' \(Conv2D\) cannot take inputs of shape \(2, 2, 4\)"):
        model.Sequential([layers.Conv2D(4, 3), layers.MaxPool2D(2), layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(2)], (6, 6, 1))
    with pytest.raises(ValueError, match=r"layer 'dense1' \(Dense\) cannot take inputs of shape \(4, 4, 2\).*Flatten"):
        model.Sequential([layers.Conv2D(2, 3), layers.Dense(2)], (6, 6, 1))
    with pytest.raises(ValueError, match=r"the last layer must output logits of shape \(K,\), got \(4, 4, 2\)"):
        model.Sequential([layers.Conv2D(2, 3)], (6, 6, 1))
    with pytest.raises(TypeError, match=r"layer_list\[1\] must be a layer of cnn_course.layers, got str"):
        model.Sequential([layers.Flatten(), "dense"], (6, 6, 1))
    with pytest.raises(ValueError, match=r"layer names must be unique, got \['a'\]"):
        model.Sequential([layers.Flatten(name="a"), layers.Dense(2, name="a")], (6, 6, 1))
    with pytest.raises(ValueError, match="layer_list must be a non-empty list"):
        model.Sequential([], (6, 6, 1))

    net = _small_cnn()
    x, y = _toy_data(8)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 14, 14, 1\) for this model, got shape \(8, 14, 14\)"):
        net.fit(x[..., 0], y, optimizers.Adam(), progress=False)
    with pytest.raises(ValueError, match=r"y must be integer class labels of shape \(N,\) = \(8,\), got int64 labels of shape \(7,\)"):
        net.fit(x, y[:7].astype(np.int64), optimizers.Adam(), progress=False)
    with pytest.raises(ValueError, match="y must be integer class labels"):
        net.evaluate(x, y.astype(float))
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        net.fit(x, y, optimizers.Adam(), epochs=0)
    with pytest.raises(ValueError, match=r"validation_data must be a pair \(x_val, y_val\)"):
        net.fit(x, y, optimizers.Adam(), validation_data=x, progress=False)
    with pytest.raises(ValueError, match="x must hold at least one example"):
        net.predict(x[:0])
    with pytest.raises(RuntimeError, match=r"layer 'dense1' \(Dense\): backward called before forward"):
        _small_cnn().backward(np.zeros((2, 3)))
