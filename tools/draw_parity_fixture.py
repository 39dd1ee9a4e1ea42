"""What the browser test of the page "Draw a digit" compares the page's JavaScript with.

Loads the network the built page loads (``HTML_DIR/_static/draw``) into a NumPy
``Sequential`` in float64 (the mathematics, rule 7 of the developers' guide),
runs it on the first ``--count`` MNIST test digits and writes
``draw_parity.json``: the digits (float32 values in [0, 1], as the page takes
them), their labels and NumPy's probabilities. ``make browser-test`` runs it
before ``tests/browser/check_site.mjs``:

    python tools/draw_parity_fixture.py _build/html _build/browser/draw_parity.json
"""

import argparse
import json
import pathlib

import numpy as np

from cnn_course import data, web_model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", type=pathlib.Path, help="the built site (normally _build/html)")
    parser.add_argument("output", type=pathlib.Path, help="the JSON file to write")
    parser.add_argument("--count", type=int, default=200, help="how many test digits (default 200)")
    arguments = parser.parse_args()
    network = web_model.load(arguments.html_dir / "_static" / "draw", dtype="float64")
    _, (x_test, y_test) = data.load_mnist()
    images = x_test[: arguments.count].astype(np.float32) / np.float32(255)
    probabilities = network.predict(images[..., np.newaxis].astype(np.float64))
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps({
        "source": "MNIST test set, the first digits",
        "labels": y_test[: arguments.count].tolist(),
        "images": [image.reshape(-1).tolist() for image in images],
        "probabilities": probabilities.tolist(),
    }))
    accuracy = np.mean(probabilities.argmax(axis=1) == y_test[: arguments.count])
    print(f"draw parity fixture: {arguments.count} test digits, NumPy reads {accuracy:.1%} of them right -> {arguments.output}")


if __name__ == "__main__":
    main()
