"""Train chapter 10's CNN with the chapter's own function and seed, and write it for the page "Draw a digit".

Writes ``_static/draw/model.json`` and ``_static/draw/model.bin`` (the format of
``cnn_course.web_model``, the weights rounded to float16) and ``_static/draw/digits.json``: a few dozen MNIST
test digits the page offers to load, four of each class, the first in the
test set's order. The committed files are what this script writes:

    MNIST_NPZ=path/to/mnist.npz .venv/bin/python tools/export_web_model.py

Training takes a few minutes on a two-core laptop. It prints the test accuracy
of the NumPy network it saved (loaded back from the files).
"""

import json
import pathlib

import numpy as np

from cnn_course import data, keras_interop, mnist_models, web_model

OUTPUT = pathlib.Path(__file__).resolve().parent.parent / "_static" / "draw"
SEED = 42  # chapter 10's
DIGITS_PER_CLASS = 4


def write_digits(x_test, y_test):
    """Write ``digits.json``: the first ``DIGITS_PER_CLASS`` test digits of each class, in the test set's order."""
    chosen = sorted(index for digit in range(10) for index in np.flatnonzero(y_test == digit)[:DIGITS_PER_CLASS])
    # Pixels as float32 values in [0, 1] (uint8 / 255), each written with the fewest digits that
    # read back as the same float32, zeros as 0: one digit per line.
    pixels = [
        "[" + ",".join("0" if value == 0 else np.format_float_positional(value, unique=True, trim="-") for value in
                       (x_test[i].reshape(-1).astype(np.float32) / np.float32(255))) + "]"
        for i in chosen
    ]
    header = {"source": "MNIST test set", "indices": [int(i) for i in chosen], "labels": [int(y_test[i]) for i in chosen]}
    text = json.dumps(header, separators=(",", ":"))[:-1] + ',"pixels":[\n' + ",\n".join(pixels) + "\n]}\n"
    assert json.loads(text)["labels"] == header["labels"]
    (OUTPUT / "digits.json").write_text(text)
    print(f"wrote {len(chosen)} test digits")


def main():
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    x_train = (x_train.astype("float32") / 255.0)[..., np.newaxis]
    keras_model, _ = mnist_models.train_cnn(x_train, y_train, seed=SEED)
    # float16 halves the download (the page must stay under 1.5 MB); the test accuracy below is the rounded network's.
    manifest = web_model.save(keras_interop.from_keras(keras_model), OUTPUT, dtype="float16")
    saved = web_model.load(OUTPUT)
    predicted = saved.predict((x_test.astype("float32") / 255.0)[..., np.newaxis], batch_size=500).argmax(axis=1)
    print(f"saved {len(manifest['layers'])} layers, {saved.count_params():,} parameters; "
          f"test accuracy of the saved network: {np.mean(predicted == y_test):.2%}")
    write_digits(x_test, y_test)


if __name__ == "__main__":
    main()
