"""A trained ``Sequential`` as two files a web page can read: a JSON manifest and the raw weights.

Introduced with the page "Draw a digit", whose JavaScript runs the network
that the chapter "MNIST: from one Dense layer to a CNN" trains. The format,
version 1:

- ``model.bin``: every weight array of every layer, in the layers' order and
  each layer's ``get_weights()`` order, as float32 or float16 (the manifest's
  ``dtype``), little-endian, C order
  (the last axis fastest: a kernel ``(kh, kw, C_in, C_out)`` runs through
  its output channels first), one after another with nothing between them.
- ``model.json``: ``{"format": "cnn-course-model", "version": 1, "dtype":
  "float16" or "float32", "byte_order": "little", "input_shape": [28, 28, 1],
  "layers": [...]}``. Each layer is ``{"name", "type", "config",
  "output_shape", "receptive_field", "jump", "start", "weights"}``: its
  ``cnn_course.layers`` class name and constructor settings, the numbers of
  :meth:`cnn_course.model.Sequential.describe` (receptive field, jump and
  start, or None after a Flatten), and for each weight array its ``name``,
  ``shape`` and ``offset``, counted in numbers (not bytes) from the start of
  ``model.bin``.

float16 halves the file (the page "Draw a digit" uses it to stay under its
size limit): each weight is rounded to 11 significant bits, a relative change
of at most 2**-11, and the loaded network is the rounded one, in float32.

:func:`save` writes the pair and :func:`load` reads it back into a
``Sequential``; the course's tests load the committed files and measure
their test accuracy, so a stale or damaged file fails.
"""

import json
import math
import pathlib

import numpy as np

from cnn_course import keras_interop, model

__all__ = ["FORMAT", "VERSION", "DTYPES", "save", "load"]

FORMAT = "cnn-course-model"
VERSION = 1
# The dtypes model.bin can hold, and their little-endian NumPy codes.
DTYPES = {"float32": "<f4", "float16": "<f2"}

# Our layer classes by name, with the settings that rebuild each (the table keras_interop uses).
_SETTINGS = {ours.__name__: (ours, list(settings)) for ours, _, settings in keras_interop.CORRESPONDENCE}


def _json_value(value):
    return list(value) if isinstance(value, tuple) else value


def save(sequential, directory, dtype="float32"):
    """Write ``sequential`` as ``model.json`` and ``model.bin`` in ``directory`` (made if missing).

    Parameters
    ----------
    sequential : cnn_course.model.Sequential
        Made of the layers of ``keras_interop.CORRESPONDENCE`` (no ``Residual``
        block).
    directory : str or pathlib.Path
    dtype : {"float32", "float16"}, default "float32"
        How the weights are stored (float16 rounds them).

    Returns
    -------
    dict
        The manifest, as written to ``model.json``.
    """
    if not isinstance(sequential, model.Sequential):
        raise TypeError(f"sequential must be a cnn_course.model.Sequential, got {type(sequential).__name__}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    directory = pathlib.Path(directory)
    records = sequential.describe()
    entries, arrays, offset = [], [], 0
    for name, layer, record in zip(sequential.names, sequential.layers, records):
        kind = type(layer).__name__
        if kind not in _SETTINGS:
            raise ValueError(f"layer {name!r} ({kind}) cannot be saved; supported: {', '.join(_SETTINGS)}")
        weights = []
        for key, value in zip([*layer.params, *layer.state], layer.get_weights()):
            value = np.ascontiguousarray(value, dtype=DTYPES[dtype])
            weights.append({"name": key, "shape": list(value.shape), "offset": offset})
            arrays.append(value)
            offset += value.size
        entries.append({
            "name": name,
            "type": kind,
            "config": {key: _json_value(getattr(layer, key)) for key in _SETTINGS[kind][1]},
            "output_shape": list(record.output_shape),
            **{key: _json_value(getattr(record, key)) for key in ("receptive_field", "jump", "start")},
            "weights": weights,
        })
    manifest = {"format": FORMAT, "version": VERSION, "dtype": dtype, "byte_order": "little",
                "input_shape": list(sequential.input_shape), "layers": entries}
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "model.bin", "wb") as file:
        for value in arrays:
            file.write(value.tobytes())
    (directory / "model.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def load(directory, dtype="float32"):
    """Read ``model.json`` and ``model.bin`` from ``directory`` into a new ``Sequential``.

    Parameters
    ----------
    directory : str or pathlib.Path
    dtype : str, default "float32"
        The new model's dtype (float16 weights are widened exactly).

    Returns
    -------
    cnn_course.model.Sequential

    Raises
    ------
    ValueError
        If the manifest is not this format's version, names an unknown layer,
        or the weights file is not as long as the manifest says.
    """
    directory = pathlib.Path(directory)
    manifest = json.loads((directory / "model.json").read_text())
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ValueError(
            f"{directory / 'model.json'} is not a {FORMAT} manifest of version {VERSION}: "
            f"got format {manifest.get('format')!r}, version {manifest.get('version')!r}"
        )
    if manifest.get("dtype") not in DTYPES or manifest.get("byte_order") != "little":
        raise ValueError(
            f"{directory / 'model.json'}: dtype must be one of {', '.join(DTYPES)} and byte_order 'little', "
            f"got {manifest.get('dtype')!r} and {manifest.get('byte_order')!r}"
        )
    numbers = np.fromfile(directory / "model.bin", dtype=DTYPES[manifest["dtype"]])
    needed = sum(math.prod(weight["shape"]) for entry in manifest["layers"] for weight in entry["weights"])
    if numbers.size != needed:
        raise ValueError(f"{directory / 'model.bin'} holds {numbers.size} {manifest['dtype']} numbers, the manifest needs {needed}")
    built = []
    for entry in manifest["layers"]:
        if entry["type"] not in _SETTINGS:
            raise ValueError(f"layer {entry['name']!r} has unknown type {entry['type']!r}; known: {', '.join(_SETTINGS)}")
        our_class, _ = _SETTINGS[entry["type"]]
        config = {key: tuple(value) if isinstance(value, list) else value for key, value in entry["config"].items()}
        built.append(our_class(**config, name=entry["name"]))
    sequential = model.Sequential(built, tuple(manifest["input_shape"]), dtype=dtype)
    for layer, entry in zip(sequential.layers, manifest["layers"]):
        layer.set_weights([
            numbers[weight["offset"] : weight["offset"] + math.prod(weight["shape"])].reshape(weight["shape"])
            for weight in entry["weights"]
        ])
    return sequential
