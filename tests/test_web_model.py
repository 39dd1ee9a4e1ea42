"""cnn_course.web_model: the files the page "Draw a digit" runs, written and read back; the committed ones."""

import json
import pathlib

import numpy as np
import pytest

from cnn_course import data, layers, model, web_model

COMMITTED = pathlib.Path(__file__).resolve().parent.parent / "_static" / "draw"


def small_network():
    """Every kind of layer the format takes, with random weights and statistics."""
    net = model.Sequential(
        [layers.Conv2D(3, 3, padding="same", use_bias=False, name="conv"), layers.BatchNorm(name="norm"),
         layers.ReLU(name="relu"), layers.MaxPool2D(2, name="pool"), layers.Conv2D(4, (2, 3), stride=(1, 2), name="conv2"),
         layers.AvgPool2D(2, padding="same", name="average"), layers.Flatten(name="flatten"), layers.Dropout(0.3, name="dropout"),
         layers.Dense(5, name="dense"), layers.Softmax(name="softmax")],
        input_shape=(8, 9, 2),
    )
    rng = np.random.default_rng(0)
    for layer in net.layers:
        for value in [*layer.params.values(), *layer.state.values()]:
            value[...] = rng.uniform(0.5, 1.5, value.shape)
    return net


def test_save_and_load_keep_layers_weights_and_predictions(tmp_path):
    net = small_network()
    manifest = web_model.save(net, tmp_path / "out")
    assert manifest == json.loads((tmp_path / "out" / "model.json").read_text())
    again = web_model.load(tmp_path / "out")
    assert again.names == net.names and [type(layer) for layer in again.layers] == [type(layer) for layer in net.layers]
    for mine, theirs in zip(again.get_weights(), net.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)  # float32 in, float32 out: exact
    assert not again.get_layer("conv").use_bias and again.get_layer("conv2").stride == (1, 2)
    assert again.get_layer("dropout").rate == pytest.approx(0.3) and again.get_layer("average").padding == "same"
    x = np.random.default_rng(1).uniform(0, 1, (4, 8, 9, 2)).astype(np.float32)
    np.testing.assert_array_equal(again.predict(x), net.predict(x))


def test_float16_halves_the_file_and_rounds_each_weight(tmp_path):
    net = small_network()
    web_model.save(net, tmp_path / "half", dtype="float16")
    web_model.save(net, tmp_path / "full")
    assert (tmp_path / "half" / "model.bin").stat().st_size * 2 == (tmp_path / "full" / "model.bin").stat().st_size
    again = web_model.load(tmp_path / "half")
    for mine, theirs in zip(again.get_weights(), net.get_weights(), strict=True):
        assert mine.dtype == np.float32
        np.testing.assert_array_equal(mine, theirs.astype(np.float16).astype(np.float32))
        np.testing.assert_allclose(mine, theirs, rtol=2.0**-11, atol=0)
    with pytest.raises(ValueError, match="dtype must be one of float32, float16, got 'float64'"):
        web_model.save(net, tmp_path, dtype="float64")


def test_manifest_holds_describe_numbers_and_contiguous_offsets(tmp_path):
    net = small_network()
    manifest = web_model.save(net, tmp_path)
    assert (manifest["format"], manifest["version"], manifest["input_shape"]) == ("cnn-course-model", 1, [8, 9, 2])
    offset = 0
    for entry, record, layer in zip(manifest["layers"], net.describe(), net.layers, strict=True):
        assert entry["output_shape"] == list(record.output_shape)
        for key in ("receptive_field", "jump", "start"):
            value = getattr(record, key)
            assert entry[key] == (None if value is None else list(value))
        for weight, value in zip(entry["weights"], layer.get_weights(), strict=True):
            assert weight["offset"] == offset and weight["shape"] == list(value.shape)
            offset += value.size
    assert (tmp_path / "model.bin").stat().st_size == 4 * offset == 4 * (net.count_params() + net.count_state())
    # Little-endian float32, C order: the first numbers are the first kernel's, last axis fastest.
    first = np.frombuffer((tmp_path / "model.bin").read_bytes()[:12], dtype="<f4")
    np.testing.assert_array_equal(first, net.layers[0].params["kernel"].reshape(-1)[:3])


def test_save_refuses_what_the_format_cannot_hold(tmp_path):
    with pytest.raises(TypeError, match="sequential must be a cnn_course.model.Sequential, got list"):
        web_model.save([layers.ReLU()], tmp_path)
    block = model.Sequential([layers.Residual([layers.Conv2D(2, 3, padding="same")], name="block")], input_shape=(4, 4, 2))
    with pytest.raises(ValueError, match=r"layer 'block' \(Residual\) cannot be saved; supported: Conv2D, Dense"):
        web_model.save(block, tmp_path)


def test_load_refuses_other_formats_and_damaged_files(tmp_path):
    web_model.save(small_network(), tmp_path)
    manifest = json.loads((tmp_path / "model.json").read_text())
    numbers = (tmp_path / "model.bin").read_bytes()
    (tmp_path / "model.bin").write_bytes(numbers[:-4])
    with pytest.raises(ValueError, match=r"model.bin holds \d+ float32 numbers, the manifest needs \d+"):
        web_model.load(tmp_path)
    (tmp_path / "model.bin").write_bytes(numbers)
    (tmp_path / "model.json").write_text(json.dumps({**manifest, "dtype": "int8"}))
    with pytest.raises(ValueError, match="dtype must be one of float32, float16 and byte_order 'little', got 'int8' and 'little'"):
        web_model.load(tmp_path)
    (tmp_path / "model.json").write_text(json.dumps({**manifest, "version": 2}))
    with pytest.raises(ValueError, match="is not a cnn-course-model manifest of version 1: got format 'cnn-course-model', version 2"):
        web_model.load(tmp_path)
    manifest["layers"][2]["type"] = "Swish"
    (tmp_path / "model.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="layer 'relu' has unknown type 'Swish'"):
        web_model.load(tmp_path)


# --- the committed files of the page "Draw a digit" ---------------------------------------


def test_committed_network_is_chapter_10s_cnn():
    assert json.loads((COMMITTED / "model.json").read_text())["dtype"] == "float16"  # the page's size limit
    net = web_model.load(COMMITTED)
    assert [type(layer).__name__ for layer in net.layers] == [
        "Conv2D", "ReLU", "MaxPool2D", "Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dropout", "Dense", "ReLU", "Dropout",
        "Dense", "Softmax",
    ]
    assert net.count_params() == 184_586  # chapter 10's count


def test_committed_network_reads_mnist_at_chapter_10s_accuracy(mnist_path):
    """A stale or damaged file fails here: the chapter's CNN (its weights in float16) scores 99.3% or more."""
    net = web_model.load(COMMITTED)
    _, (x_test, y_test) = data.load_mnist(mnist_path)
    predicted = net.predict((x_test.astype(np.float32) / 255.0)[..., np.newaxis], batch_size=1000).argmax(axis=1)
    assert np.mean(predicted == y_test) >= 0.993


def test_committed_digits_are_mnist_test_digits(mnist_path):
    digits = json.loads((COMMITTED / "digits.json").read_text())
    _, (x_test, y_test) = data.load_mnist(mnist_path)
    assert len(digits["indices"]) == len(digits["labels"]) == len(digits["pixels"]) == 40
    assert sorted(digits["labels"]) == sorted(list(range(10)) * 4)
    for index, label, pixels in zip(digits["indices"], digits["labels"], digits["pixels"]):
        assert label == y_test[index]
        np.testing.assert_array_equal(np.asarray(pixels, dtype=np.float32), x_test[index].reshape(-1) / np.float32(255))
