"""Sequential of cnn_course.model: shapes, costs and forward against Keras (through to_keras),
gradients equal Keras's, training learns, inference keeps one batch's memory, errors name the layer."""

import copy
import sys
import tracemalloc
import types

import numpy as np
import pytest

from cnn_course import convolution, gradients, keras_interop, layers, lenet, losses, model, ops, optimizers, progress

from numerics import FLOAT64_TOLERANCE, U32, assert_float64_close, keras_float64_magnitudes

# --- forward only: a small CNN ending in Softmax, against the same network in Keras ------------

CONFIGURATIONS = {
    "valid": dict(input_shape=(28, 28, 1)),
    "same padding, stride 2": dict(input_shape=(17, 15, 1), conv={"padding": "same", "stride": 2}),
    "pools with same padding and stride 1": dict(input_shape=(13, 11, 1), pool={"padding": "same", "stride": 1}),
    # Our layers always have a bias (Keras's use_bias=False comes in as zeros: test_keras_interop.py).
    "zero biases, three channels": dict(input_shape=(16, 16, 3), random_biases=False),
    "tuple stride": dict(input_shape=(28, 14, 1), conv={"stride": (2, 1)}),
}


def forward_cnn(name, seed=0, dtype="float32", conv=None):
    """conv -> ReLU -> pool -> conv -> ReLU -> pool -> flatten -> dense -> softmax, He-initialised.

    Biases are random too (not zeros), so a bias that is dropped or misplaced shows.
    """
    config = CONFIGURATIONS[name]
    conv = config.get("conv", {}) if conv is None else conv
    pool = config.get("pool", {})
    net = model.Sequential(
        [
            layers.Conv2D(4, 3, **conv), layers.ReLU(), layers.MaxPool2D(2, **pool),
            layers.Conv2D(6, 3, **conv), layers.ReLU(), layers.MaxPool2D(2, **pool),
            layers.Flatten(), layers.Dense(10), layers.Softmax(),
        ],
        config["input_shape"],
        seed=seed,
        dtype=dtype,
    )
    if config.get("random_biases", True):
        rng = np.random.default_rng(seed)
        for key, value, _ in net.parameters():
            if key.endswith("/bias"):
                value[...] = rng.normal(0.0, 0.1, value.shape)
    return net


def as_float64(net, name):
    """The same network and weights in float64, to compare the mathematics."""
    twin = forward_cnn(name, dtype="float64")
    twin.set_weights(net.get_weights())
    return twin


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_shapes_and_parameter_counts_match_keras(keras, name):
    net = forward_cnn(name)
    keras_model = keras_interop.to_keras(net)  # ends in Softmax already: nothing is added
    records = net.describe()
    assert len(records) == len(keras_model.layers)
    for record, keras_layer in zip(records, keras_model.layers):
        assert record.name == keras_layer.name
        assert (None,) + record.output_shape == tuple(keras_layer.output.shape), record.name
        assert record.parameters == keras_layer.count_params(), record.name
    assert net.count_params() == keras_model.count_params()
    text = net.summary()
    assert text.splitlines()[-2] == f"Total params: {keras_model.count_params():,}"
    for record in records:
        assert str((None,) + record.output_shape) in text


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_forward_matches_keras_predictions(keras, name):
    net = forward_cnn(name)
    input_shape = CONFIGURATIONS[name]["input_shape"]
    x = np.random.default_rng(1).random((5,) + input_shape).astype("float32")
    probabilities = net.forward(x)
    assert probabilities.dtype == np.float32 and probabilities.shape == (5, 10)
    # float32: the softmax's sum, its division and this sum are (2 K - 1) roundings at most.
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=0, atol=2 * 10 * U32)
    # The mathematics in float64, against the same network in Keras in float64.
    net64, x64 = as_float64(net, name), x.astype(np.float64)
    keras_model = keras_interop.to_keras(net64)
    magnitude = keras_float64_magnitudes(keras_model, x64)[-1]
    assert_float64_close(net64.forward(x64), keras_model.predict(x64, verbose=0), magnitude)
    assert_float64_close(net64.predict(x64), keras_model.predict(x64, verbose=0), magnitude)


def test_every_intermediate_output_matches_keras(keras):
    net = as_float64(forward_cnn("valid"), "valid")  # the mathematics, in float64
    keras_model = keras_interop.to_keras(net)
    x = np.random.default_rng(2).random((3, 28, 28, 1))
    outputs = net.outputs(x)
    expected_names = ["conv1", "relu1", "max_pool1", "conv2", "relu2", "max_pool2", "flatten1", "dense1", "softmax1"]
    assert list(outputs) == expected_names == net.names
    keras_x = x
    magnitudes = keras_float64_magnitudes(keras_model, x)
    for (name, ours), keras_layer, magnitude in zip(outputs.items(), keras_model.layers, magnitudes):
        keras_x = keras_layer(keras_x).numpy()
        assert_float64_close(ours, keras_x, magnitude, err_msg=name)
    np.testing.assert_array_equal(outputs["softmax1"], net.forward(x))
    np.testing.assert_array_equal(outputs["dense1"], net.logits(x))


def test_forward_on_images_with_an_added_channel_axis(keras):
    # images[..., np.newaxis] gives the channel axis a stride of 0, which must not change the result.
    net = as_float64(forward_cnn("valid"), "valid")  # the mathematics, in float64
    keras_model = keras_interop.to_keras(net)
    images = np.random.default_rng(3).random((4, 28, 28))
    x = images[..., np.newaxis]
    assert x.strides[-1] == 0
    magnitude = keras_float64_magnitudes(keras_model, x)[-1]
    assert_float64_close(net.forward(x), keras_model.predict(x.copy(), verbose=0), magnitude)


@pytest.mark.parametrize("padding", [0, 1, 2, (1, 0)])
def test_describe_gives_the_shapes_forward_produces(padding):
    net = model.Sequential(
        [layers.Conv2D(4, 3, padding=padding), layers.ReLU(), layers.MaxPool2D(2), layers.Conv2D(6, 3, padding=padding),
         layers.ReLU(), layers.MaxPool2D(2), layers.Flatten(), layers.Dense(10), layers.Softmax()],
        (19, 12, 1), seed=4,
    )
    outputs = net.outputs(np.zeros((2, 19, 12, 1)))
    for record, (name, output) in zip(net.describe(), outputs.items()):
        assert record.name == name
        assert (2,) + record.output_shape == output.shape, name


def test_summary_table_layout():
    net = forward_cnn("valid")
    lines = net.summary().splitlines()
    assert lines[0].split() == ["Layer", "(type)", "Output", "shape", "Param", "#", "Activations", "MACs", "Receptive", "field"]
    assert set(lines[1]) == {"="} and set(lines[-3]) == {"="}
    # 26 x 26 x 3 x 3 x 1 x 4 = 24,336 MACs; 3 x 3 x 1 x 4 + 4 = 40 parameters.
    assert lines[2].split() == ["conv1", "(Conv2D)", "(None,", "26,", "26,", "4)", "40", "2,704", "24,336", "3", "x", "3"]
    assert lines[-4].split() == ["softmax1", "(Softmax)", "(None,", "10)", "0", "10", "0", "-"]
    assert len(lines) == 2 + len(net.layers) + 3
    total_macs = sum(record.macs for record in net.describe())
    assert lines[-2:] == [f"Total params: {net.count_params():,}", f"Total MACs per example: {total_macs:,}"]


def test_explicit_names_are_used():
    net = model.Sequential([layers.Flatten(name="to vector"), layers.Dense(2, name="scores")], (2, 2))
    assert net.names == ["to vector", "scores"]
    assert [record.name for record in net.describe()] == ["to vector", "scores"]
    assert list(net.outputs(np.ones((1, 2, 2)))) == ["to vector", "scores"]
    assert net.get_layer("scores") is net.layers[1]
    with pytest.raises(ValueError, match=r"no layer is called 'dense1'; the layers are \['to vector', 'scores'\]"):
        net.get_layer("dense1")


def test_get_weights_follows_keras_order(keras):
    net = forward_cnn("zero biases, three channels")
    keras_model = keras_interop.to_keras(net)
    weights = net.get_weights()
    assert [w.shape for w in weights] == [w.shape for w in keras_model.get_weights()]
    for ours, theirs in zip(weights, keras_model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    assert [key for key, _, _ in net.parameters()] == [
        "conv1/kernel", "conv1/bias", "conv2/kernel", "conv2/bias", "dense1/weights", "dense1/bias",
    ]
    for (_, value, _), weight in zip(net.parameters(), weights):
        assert value is weight


# --- describe: MACs and receptive fields by hand -----------------------------------------------


def test_describe_the_lenet_by_hand():
    records = lenet.build_lenet().describe()
    expected = [
        # name, kind, output shape, parameters (kh kw C_in C_out + C_out; D_in D_out + D_out),
        # activations (H' W' C'), MACs (H' W' kh kw C_in C_out; D_in D_out; 0 for the rest),
        # receptive field r <- r + (k - 1) j and jump j <- j s from r = j = 1, and start
        # (no padding: every field starts at pixel 0).
        ("conv1", "Conv2D", (24, 24, 16), 5 * 5 * 1 * 16 + 16, 24 * 24 * 16, 24 * 24 * 5 * 5 * 1 * 16, (5, 5), (1, 1), (0, 0)),
        ("relu1", "ReLU", (24, 24, 16), 0, 24 * 24 * 16, 0, (5, 5), (1, 1), (0, 0)),
        ("max_pool1", "MaxPool2D", (12, 12, 16), 0, 12 * 12 * 16, 0, (5 + 1 * 1, 5 + 1 * 1), (2, 2), (0, 0)),
        ("conv2", "Conv2D", (8, 8, 32), 5 * 5 * 16 * 32 + 32, 8 * 8 * 32, 8 * 8 * 5 * 5 * 16 * 32, (6 + 4 * 2, 6 + 4 * 2), (2, 2), (0, 0)),
        ("relu2", "ReLU", (8, 8, 32), 0, 8 * 8 * 32, 0, (14, 14), (2, 2), (0, 0)),
        ("max_pool2", "MaxPool2D", (4, 4, 32), 0, 4 * 4 * 32, 0, (14 + 1 * 2, 14 + 1 * 2), (4, 4), (0, 0)),
        ("flatten1", "Flatten", (512,), 0, 512, 0, None, None, None),
        ("dense1", "Dense", (10,), 512 * 10 + 10, 10, 512 * 10, None, None, None),
    ]
    assert [tuple(record) for record in records] == expected
    assert records[0]._fields == (
        "name", "kind", "output_shape", "parameters", "activations", "macs", "receptive_field", "jump", "start"
    )
    assert sum(record.parameters for record in records) == 18378


def test_describe_strided_same_and_non_square_windows():
    net = model.Sequential(
        [
            layers.Conv2D(4, 3, stride=2, padding="same"),  # ceil(9 / 2) = 5
            layers.Conv2D(2, (3, 1), stride=(1, 2)),  # (5 - 3) / 1 + 1 = 3 rows, (5 - 1) / 2 + 1 = 3 columns
            layers.AvgPool2D(2, stride=1, padding="same"),  # ceil(3 / 1) = 3
            layers.Dropout(0.5),
            layers.GlobalAvgPool2D(),
            layers.Dense(3),
            layers.Softmax(),
        ],
        (9, 9, 1),
    )
    rows = {record.name: record for record in net.describe()}
    assert rows["conv1"].output_shape == (5, 5, 4) and rows["conv1"].macs == 5 * 5 * 3 * 3 * 1 * 4
    assert (rows["conv1"].receptive_field, rows["conv1"].jump) == ((3, 3), (2, 2))
    assert rows["conv2"].output_shape == (3, 3, 2) and rows["conv2"].macs == 3 * 3 * 3 * 1 * 4 * 2
    # Rows: 3 + (3 - 1) * 2 = 7, jump 2 * 1; columns: 3 + (1 - 1) * 2 = 3, jump 2 * 2.
    assert (rows["conv2"].receptive_field, rows["conv2"].jump) == ((7, 3), (2, 4))
    # Rows: 7 + (2 - 1) * 2 = 9; columns: 3 + (2 - 1) * 4 = 7; stride 1 keeps the jump.
    assert (rows["avg_pool1"].receptive_field, rows["avg_pool1"].jump) == ((9, 7), (2, 4))
    assert (rows["avg_pool1"].output_shape, rows["avg_pool1"].macs) == ((3, 3, 2), 0)
    assert (rows["dropout1"].receptive_field, rows["dropout1"].jump) == ((9, 7), (2, 4))
    # Global pooling sees the whole input: no window any more.
    assert rows["global_avg_pool1"].output_shape == (2,)
    assert rows["global_avg_pool1"].receptive_field is None and rows["global_avg_pool1"].jump is None
    assert (rows["dense1"].macs, rows["dense1"].receptive_field) == (2 * 3, None)
    assert (rows["softmax1"].macs, rows["softmax1"].parameters) == (0, 0)


def test_summary_shows_macs_receptive_fields_and_totals():
    text = lenet.build_lenet().summary()
    lines = text.splitlines()
    assert "MACs" in lines[0] and "Receptive field" in lines[0]
    assert lines[2].split()[-4:] == ["230,400", "5", "x", "5"]
    row = next(line for line in lines if line.startswith("max_pool2"))
    assert row.split()[-3:] == ["16", "x", "16"]
    row = next(line for line in lines if line.startswith("dense1"))
    assert row.split()[-4:] == ["5,130", "10", "5,120", "-"]
    assert lines[-2] == "Total params: 18,378"
    assert lines[-1] == f"Total MACs per example: {230400 + 819200 + 5120:,}"


@pytest.mark.parametrize("row, column", [(0, 0), (1, 2), (1, 0)])
def test_receptive_window_is_what_the_output_cell_depends_on(row, column):
    """Perturb every input pixel: exactly those inside the window (and inside the image) move the cell."""
    net = model.Sequential(
        [layers.Conv2D(2, 3, stride=2, padding="same"), layers.AvgPool2D(2, stride=1),
         layers.Conv2D(2, (3, 2), padding=1, dilation=2), layers.AvgPool2D(2)],
        (14, 13, 1), seed=3, dtype="float64",
    )
    name = net.names[-1]
    (top, bottom), (left, right) = net.receptive_window(name, row, column)
    record = net.describe()[-1]
    assert (bottom - top, right - left) == record.receptive_field
    base = np.random.default_rng(0).normal(size=(1, 14, 13, 1))
    reference = net.forward(base)[0, row, column]
    moves = np.zeros((14, 13), dtype=bool)
    for i in range(14):
        for j in range(13):
            nudged = base.copy()
            nudged[0, i, j, 0] += 1.0
            moves[i, j] = np.abs(net.forward(nudged)[0, row, column] - reference).max() > 1e-9
    inside = np.zeros((14, 13), dtype=bool)
    inside[max(top, 0) : bottom, max(left, 0) : right] = True
    # A dilated kernel skips pixels, so the cell depends on a subset of its window, never on more.
    assert not (moves & ~inside).any()
    rows, columns = np.nonzero(moves)
    assert rows.min() == max(top, 0) and rows.max() == min(bottom, 14) - 1
    assert columns.min() == max(left, 0) and columns.max() == min(right, 13) - 1


def test_receptive_window_of_lenet_and_bad_requests():
    net = lenet.build_lenet()
    assert net.receptive_window("conv1", 0, 0) == ((0, 5), (0, 5))
    assert net.receptive_window("max_pool2", 3, 3) == ((12, 28), (12, 28))  # the last cell ends at the border
    with pytest.raises(ValueError, match="no layer is called 'conv9'"):
        net.receptive_window("conv9", 0, 0)
    with pytest.raises(ValueError, match="'dense1' outputs \\(10,\\), not an image"):
        net.receptive_window("dense1", 0, 0)
    with pytest.raises(ValueError, match="row must be below 24, the output's height, got 24"):
        net.receptive_window("conv1", 24, 0)
    with pytest.raises(ValueError, match="column must be at least 0"):
        net.receptive_window("conv1", 0, -1)


def test_describe_counts_activations_and_padding_starts():
    net = model.Sequential([layers.Conv2D(3, 5, padding="same"), layers.MaxPool2D(2, padding="same"), layers.Conv2D(2, 3, padding=1)], (7, 7, 1))
    records = net.describe()
    assert [record.activations for record in records] == [7 * 7 * 3, 4 * 4 * 3, 4 * 4 * 2]
    # "same" pads 2 above for the 5 x 5 kernel; the pooling pads nothing above; padding=1 at jump 2 moves 2 more.
    assert [record.start for record in records] == [(-2, -2), (-2, -2), (-4, -4)]


# --- names --------------------------------------------------------------------------------------


def test_sequential_names_by_kind_and_does_not_rename_the_layers():
    given = [
        layers.Conv2D(4, 3, padding="same"), layers.ReLU(), layers.MaxPool2D(2), layers.AvgPool2D(2, stride=1),
        layers.Conv2D(4, 3, padding="same"), layers.ReLU(), layers.GlobalAvgPool2D(), layers.Flatten(),
        layers.Dropout(0.2), layers.Dense(5), layers.ReLU(), layers.Dense(3), layers.Softmax(),
    ]
    net = model.Sequential(given, (8, 8, 1))
    assert net.names == [
        "conv1", "relu1", "max_pool1", "avg_pool1", "conv2", "relu2", "global_avg_pool1", "flatten1",
        "dropout1", "dense1", "relu3", "dense2", "softmax1",
    ]
    assert net.layers == given and all(layer.name is None for layer in given)
    assert [record.name for record in net.describe()] == net.names
    assert [key.split("/")[0] for key, _, _ in net.parameters()] == ["conv1", "conv1", "conv2", "conv2", "dense1", "dense1", "dense2", "dense2"]
    # A given name is kept, and the numbering of the others goes on by kind.
    net = model.Sequential([layers.Flatten(), layers.Dense(4, name="hidden"), layers.Dense(2)], (3, 3, 1))
    assert net.names == ["flatten1", "hidden", "dense2"]


@pytest.mark.parametrize(
    "layer_list, repeated",
    [
        ([layers.Flatten(name="a"), layers.Dense(2, name="a")], r"\['a'\]"),
        # A given name may not take the default name of another layer.
        ([layers.Flatten(), layers.Dense(4), layers.Dense(2, name="dense1")], r"\['dense1'\]"),
    ],
)
def test_duplicate_names_are_refused(layer_list, repeated):
    with pytest.raises(ValueError, match=rf"^layer names must be unique, got {repeated} more than once$"):
        model.Sequential(layer_list, (3, 3, 1))


def test_a_layer_belongs_to_one_model():
    dense = layers.Dense(2)
    first = model.Sequential([layers.Flatten(), dense], (3, 3, 1))
    with pytest.raises(ValueError, match=r"layer_list\[1\] \(Dense\) already belongs to a model; make a new layer"):
        model.Sequential([layers.Flatten(), dense], (3, 3, 1))
    assert first.layers[1] is dense and dense.input_shape == (9,)


# --- a final Softmax: forward gives probabilities, training the logits before it ----------------


def _classifier(softmax, dtype="float32"):
    last = [layers.Softmax()] if softmax else []
    return model.Sequential(
        [layers.Conv2D(3, 3), layers.ReLU(), layers.MaxPool2D(2), layers.Flatten(), layers.Dropout(0.1), layers.Dense(3), *last],
        (14, 14, 1), seed=5, dtype=dtype,
    )


def test_a_final_softmax_gives_probabilities_and_training_uses_the_logits():
    x, y = _toy_data(30)
    with_softmax, without = _classifier(True), _classifier(False)
    np.testing.assert_array_equal(with_softmax.logits(x), without.forward(x))
    np.testing.assert_array_equal(with_softmax.forward(x), ops.softmax(without.forward(x), axis=-1))
    np.testing.assert_array_equal(with_softmax.predict(x), without.predict(x))
    # The same steps: the loss is the softmax cross-entropy of the logits either way.
    first = with_softmax.fit(x, y, optimizers.Adam(0.01), epochs=2, batch_size=8, progress=False)
    second = without.fit(x, y, optimizers.Adam(0.01), epochs=2, batch_size=8, progress=False)
    assert first == second
    for ours, theirs in zip(with_softmax.get_weights(), without.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    assert with_softmax.evaluate(x, y) == without.evaluate(x, y)


def test_a_model_that_does_not_end_in_scores_runs_forward_but_does_not_classify():
    net = model.Sequential([layers.Conv2D(2, 3)], (6, 6, 1))
    assert net.output_shape == (4, 4, 2)
    assert net.forward(np.zeros((1, 6, 6, 1))).shape == (1, 4, 4, 2)
    message = r"the last layer must output logits of shape \(K,\) to train or predict classes, got \(4, 4, 2\)"
    with pytest.raises(ValueError, match=message):
        net.predict(np.zeros((1, 6, 6, 1)))
    with pytest.raises(ValueError, match=message):
        net.fit(np.zeros((1, 6, 6, 1)), np.zeros(1, int), optimizers.Adam(), progress=False)


# --- inference keeps the memory of one batch -----------------------------------------------------


def test_predict_on_many_images_keeps_the_memory_of_one_batch():
    """predict on 10,000 MNIST-sized float32 images never holds more than one batch's arrays.

    NumPy reports its allocations to tracemalloc. The bound, for the chapter's LeNet in
    float32 (4 bytes a number) and predict's batches of 500:

    - the largest activation of one batch is conv1's output (and relu1's),
      500 x 24 x 24 x 16 x 4 B = 18.4 MB; at most three arrays that size are alive at once
      (a layer's input, its output and one temporary): 3 x 18.4 MB = 55.3 MB;
    - ops.conv2d's im2col chunk, at most convolution._CHUNK_BYTES = 4 MiB = 4.2 MB;
    - the output: the logits of every batch, their concatenation, the softmax's exponentials
      and the probabilities, 4 x 10,000 x 10 x 4 B = 1.6 MB.

    About 61 MB in all. The im2col matrix of conv1 for the whole set would be
    10,000 x 24 x 24 x 5 x 5 x 4 B = 576 MB, and even one whole batch's (28.8 MB) on top
    of the two activations alive during a convolution goes past the bound.
    """
    net = lenet.build_lenet(seed=0)
    x = np.random.default_rng(0).random((10_000, 28, 28, 1), dtype=np.float32)
    batch = 500
    largest = max(batch * int(np.prod(layer.output_shape)) * 4 for layer in net.layers)
    assert largest == 500 * 24 * 24 * 16 * 4
    bound = 3 * largest + convolution._CHUNK_BYTES + 4 * x.shape[0] * 10 * 4
    net.predict(x[:10])  # warm up, outside the measurement
    tracemalloc.start()
    try:
        probabilities = net.predict(x, batch_size=batch)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert probabilities.shape == (10_000, 10) and probabilities.dtype == np.float32
    assert peak < bound, f"predict's peak memory {peak / 1e6:.1f} MB is above the bound {bound / 1e6:.1f} MB"
    # Inference keeps nothing for a backward pass.
    assert all(layer._cache is None for layer in net.layers)
    with pytest.raises(RuntimeError, match=r"backward called before forward; run forward\(x, training=True\) first"):
        net.backward(np.zeros((10_000, 10), dtype=np.float32))


def test_a_training_forward_keeps_what_backward_needs_and_inference_drops_it():
    net = _small_cnn(dropout=0.5)
    x, y = _toy_data(8)
    net.forward(x, training=True)
    assert all(layer._cache is not None for layer in net.layers)
    net.forward(x)
    assert all(layer._cache is None for layer in net.layers)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        net.backward(np.zeros((8, 3)))
    net.evaluate(x, y)
    assert all(layer._cache is None for layer in net.layers)


# --- training ------------------------------------------------------------------------------------


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
    assert net.names == [
        "conv1", "relu1", "max_pool1", "conv2", "relu2", "avg_pool1", "flatten1", "dropout1", "dense1",
    ]
    assert all(layer.name is None for layer in net.layers)
    text = net.summary()
    assert "conv1 (Conv2D)" in text and "(None, 14, 14, 4)" in text and "(None, 3, 3, 6)" in text
    # 3*3*1*4 + 4, 3*3*4*6 + 6, 24*3 + 3
    assert text.splitlines()[-2] == f"Total params: {40 + 222 + 75:,}"
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

    keras_model = keras_interop.to_keras(net, logits=True)  # the same layers and weights, float64
    loss_function = keras.losses.SparseCategoricalCrossentropy(from_logits=True, dtype="float64")
    with tf.GradientTape() as tape:
        keras_loss = loss_function(y, keras_model(x, training=False))
    keras_grads = tape.gradient(keras_loss, keras_model.trainable_variables)

    logits = net.logits(x, training=True)  # dropout rate 0: the same as at inference
    loss, probabilities = losses.softmax_cross_entropy(logits, y)
    net.backward(gradients.softmax_cross_entropy_backward(probabilities, y))
    np.testing.assert_allclose(loss, float(keras_loss), rtol=1e-10)
    # Float64 on both sides. For these seeded numbers the ReLU inputs are at least 8e-5 from 0
    # and the largest value of each max-pooling window, where positive, leads the next by at
    # least 8e-4 (ties at 0 pass no gradient through ReLU), far beyond rounding: both sides
    # use the same masks. Every gradient is then a sum of at most about 1100 products whose
    # absolute values add up to at most 5 (the backward pass of absolute values, for these
    # seeded numbers): each side is within 2 * 1100 * 2**-53 * 5 = 1.2e-12 of the exact
    # value, so 1e-10 times that magnitude is a safe tolerance.
    assert len(keras_grads) == len(net.parameters())
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
    return twin.logits(np.abs(x))


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
    top_two = np.sort(net.logits(x), axis=1)[:, -2:]
    assert np.min(top_two[:, 1] - top_two[:, 0]) > 2 * FLOAT64_TOLERANCE * magnitude
    assert accuracy == np.mean(probabilities.argmax(axis=1) == y)
    # Cross-entropy moves by at most twice the largest change of a logit.
    expected = -np.mean(np.log(probabilities[np.arange(25), y]))
    assert_float64_close(np.float64(loss), expected, magnitude=2 * magnitude)


# --- progress bars -----------------------------------------------------------------------------


def test_progress_bar_writes_to_stdout_without_timings(capsys):
    x, y = _toy_data(20)
    _small_cnn().fit(x, y, optimizers.Adam(), epochs=2, batch_size=8)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "epoch 1/2" in captured.out and "epoch 2/2" in captured.out and "3/3 batches" in captured.out
    assert "it/s" not in captured.out and "s/it" not in captured.out and "00:" not in captured.out
    assert progress.progress_stream() is sys.stdout  # outside a Jupyter kernel


def _fake_display(monkeypatch):
    """Replace IPython's display by one that records the text of its single updatable output."""
    from IPython import display

    shown = []

    class Handle:
        def update(self, content, raw):
            shown[-1] = content["text/plain"]

    def fake_display(content, raw, display_id):
        shown.append(content["text/plain"])
        return Handle()

    monkeypatch.setattr(display, "display", fake_display)
    return shown


def test_notebook_progress_output_keeps_only_the_last_redraw_of_each_bar(monkeypatch):
    shown = _fake_display(monkeypatch)
    lines = progress.NotebookLines()
    for text in ["\repoch 1/2   0%|    | 0/4 batches", "\repoch 1/2  50%|##  | 2/4 batches   ", "",
                 "\repoch 1/2 100%|####| 4/4 batches, loss 0.2000", "\n", "\repoch 2/2   0%|    | 0/4 batches"]:
        lines.write(text)
    lines.write("\repoch 2/2 100%|####| 4/4 batches, loss 0.1000")
    lines.write("\n")
    assert shown == ["epoch 1/2 100%|####| 4/4 batches, loss 0.2000\nepoch 2/2 100%|####| 4/4 batches, loss 0.1000"]


def test_fit_uses_one_updatable_output_in_a_notebook(monkeypatch):
    import IPython

    shown = _fake_display(monkeypatch)
    # Inside a Jupyter kernel, get_ipython() is a shell with a kernel.
    monkeypatch.setattr(IPython, "get_ipython", lambda: types.SimpleNamespace(kernel=object()))
    assert isinstance(progress.progress_stream(), progress.NotebookLines)
    x, y = _toy_data(20)
    _small_cnn().fit(x, y, optimizers.Adam(), epochs=2, batch_size=8)
    assert len(shown) == 1
    assert [line.split("|")[0] for line in shown[0].splitlines()] == ["epoch 1/2 100%", "epoch 2/2 100%"]
    assert "\r" not in shown[0]
    assert progress.PROGRESS_FORMAT.startswith("{desc} {percentage:3.0f}%|{bar:24}|")


# --- errors ------------------------------------------------------------------------------------


def test_model_rejects_bad_input():
    with pytest.raises(ValueError, match=r"layer 2 \('conv2'\): Conv2D layer cannot take inputs of shape \(2, 2, 4\)"):
        model.Sequential([layers.Conv2D(4, 3), layers.MaxPool2D(2), layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(2)], (6, 6, 1))
    with pytest.raises(ValueError, match=r"layer 1 \('dense1'\): Dense layer cannot take inputs of shape \(4, 4, 2\).*Flatten"):
        model.Sequential([layers.Conv2D(2, 3), layers.Dense(2)], (6, 6, 1))
    with pytest.raises(TypeError, match=r"layer_list\[1\] must be a layer of cnn_course.layers, got str"):
        model.Sequential([layers.Flatten(), "dense"], (6, 6, 1))
    with pytest.raises(ValueError, match=r"layer names must be unique, got \['a'\]"):
        model.Sequential([layers.Flatten(name="a"), layers.Dense(2, name="a")], (6, 6, 1))
    with pytest.raises(ValueError, match="layer_list must hold at least one layer"):
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
    with pytest.raises(RuntimeError, match=r"Dense layer: backward called before forward"):
        _small_cnn().backward(np.zeros((2, 3)))


def test_unknown_layer_is_named_with_its_index(keras):
    with pytest.raises(TypeError, match=r"^layer_list\[1\] must be a layer of cnn_course.layers, got ReLU$"):
        model.Sequential([layers.Conv2D(4, 3), keras.layers.ReLU(), layers.Flatten(), layers.Dense(2)], (8, 8, 1))
    with pytest.raises(TypeError, match=r"^layer_list\[0\] must be a layer of cnn_course.layers, got str$"):
        model.Sequential(["conv"], (8, 8, 1))
    with pytest.raises(TypeError, match=r"^layer_list\[0\] must be a layer of cnn_course.layers, got function$"):
        model.Sequential([ops.relu, layers.Flatten(), layers.Dense(2)], (8, 8, 1))


@pytest.mark.parametrize(
    "layer_list, error, message",
    [
        (layers.ReLU(), TypeError, r"layer_list must be a list of layers, got ReLU"),
        ([], ValueError, r"layer_list must hold at least one layer, got an empty list"),
        ([layers.ReLU(name="a"), layers.Softmax(name="a")], ValueError, r"layer names must be unique, got \['a'\]"),
    ],
)
def test_bad_layer_lists(layer_list, error, message):
    with pytest.raises(error, match=message):
        model.Sequential(layer_list, (4,))


def test_dense_without_flatten_names_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"^layer 6 \('dense1'\): Dense layer cannot take inputs of shape \(5, 5, 6\): "
                                         r"needs one example of shape \(D_in,\), got \(5, 5, 6\); put a Flatten layer before it$"):
        model.Sequential(
            [layers.Conv2D(4, 3), layers.ReLU(), layers.MaxPool2D(2), layers.Conv2D(6, 3), layers.ReLU(),
             layers.MaxPool2D(2), layers.Dense(10), layers.Softmax()],
            (28, 28, 1),
        )


def test_input_with_other_channels_is_refused():
    # A convolution is built for its input's channels; another number of channels is refused at once.
    net = forward_cnn("valid")
    with pytest.raises(ValueError, match=r"^x must have shape \(N, 28, 28, 1\) for this model, got shape \(2, 28, 28, 3\)$"):
        net.forward(np.zeros((2, 28, 28, 3)))
    with pytest.raises(ValueError, match=r"^layer 'conv1' \(Conv2D\) expects x of shape \(N, 28, 28, 1\), got shape \(2, 28, 28, 3\)$"):
        conv = layers.Conv2D(4, 3, name="conv1")
        conv.build((28, 28, 1), np.random.default_rng(0))
        conv.forward(np.zeros((2, 28, 28, 3)))


def test_conv_on_a_flat_input_is_refused():
    with pytest.raises(ValueError, match=r"^layer 0 \('conv1'\): Conv2D layer cannot take inputs of shape \(784,\): "
                                         r"needs one example of shape \(H, W, C\), got \(784,\)$"):
        model.Sequential([layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(2)], (784,))


def test_window_larger_than_its_input_names_the_layer():
    # 8 -> conv 3: 6 -> pool 2: 3 -> conv 3: 1 -> pool 2 does not fit.
    with pytest.raises(ValueError, match=r"^layer 5 \('max_pool2'\): MaxPool2D layer cannot take inputs of shape \(1, 1, 6\): "
                                         r"pool_size of height x width \(2, 2\) is larger than the input"):
        model.Sequential(
            [layers.Conv2D(4, 3), layers.ReLU(), layers.MaxPool2D(2), layers.Conv2D(6, 3), layers.ReLU(),
             layers.MaxPool2D(2), layers.Flatten(), layers.Dense(10)],
            (8, 8, 1),
        )


def test_set_weights_of_the_wrong_shape_names_the_layer():
    # A layer is built for the shape it receives; weights of another shape are refused.
    net = model.Sequential([layers.Flatten(), layers.Dense(3)], (2, 2))
    weights = net.get_weights()
    with pytest.raises(ValueError, match=r"^layer 'dense1': Dense layer: weights must have shape \(4, 3\), got shape \(5, 3\)$"):
        net.set_weights([np.zeros((5, 3)), weights[1]])
    with pytest.raises(ValueError, match=r"^set_weights needs 2 arrays \(kernel and bias of each layer\), got 1$"):
        net.set_weights(weights[:1])
    net.set_weights([np.ones((4, 3)), np.arange(3)])
    np.testing.assert_array_equal(net.forward(np.ones((1, 2, 2))), [[4.0, 5.0, 6.0]])


def test_shapes_are_checked_before_anything_is_computed(monkeypatch):
    calls = []
    for name in ("conv2d", "im2col", "max_pool2d"):
        monkeypatch.setattr(ops, name, lambda *arguments, **options: calls.append(1))
    with pytest.raises(ValueError, match="dense1"):
        model.Sequential([layers.Conv2D(4, 3), layers.MaxPool2D(2), layers.Dense(10)], (28, 28, 1))
    assert calls == []


@pytest.mark.parametrize(
    "input_shape",
    [
        (None, 28, 28, 1), (28, 0, 1), "28x28", (28.0, 28, 1), (28, True, 1), 28,
    ],
)
def test_bad_input_shape(input_shape):
    with pytest.raises(ValueError, match=r"input_shape must be a tuple of positive ints"):
        model.Sequential([layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(2)], input_shape)


def test_empty_input_shape_is_refused():
    with pytest.raises(ValueError, match=r"Conv2D layer cannot take inputs of shape \(\): needs one example of shape \(H, W, C\)"):
        model.Sequential([layers.Conv2D(4, 3), layers.Flatten(), layers.Dense(2)], ())


@pytest.mark.parametrize(
    "x, error, message",
    [
        (np.zeros(784), ValueError, r"x must have shape \(N, 28, 28, 1\) for this model, got shape \(784,\)"),
        ("digits", TypeError, r"x must be a numeric array, got str"),
    ],
)
def test_forward_rejects_bad_x(x, error, message):
    net = forward_cnn("valid")
    with pytest.raises(error, match=message):
        net.forward(x)


def test_backward_errors_name_the_layer():
    net = model.Sequential([layers.Flatten(), layers.Dense(3)], (2, 2, 1))
    with pytest.raises(RuntimeError, match=r"^layer 1 \('dense1'\): Dense layer: backward called before forward"):
        net.backward(np.zeros((4, 3)))
