"""Keras models into the course's ``Sequential`` and back, with their weights.

``to_keras`` is introduced in the chapter "Putting it together", which checks
its network against the same network in Keras, and used again in "Learning
from scratch"; ``from_keras`` in the chapter "MNIST: from one Dense layer to a
CNN", where a trained Keras CNN is rerun in NumPy. The
course's arrays are channels-last like Keras's, so weights move with no
transpose. One table, :data:`CORRESPONDENCE`, says which of our layers is
which Keras layer and what each setting is called on both sides; both
directions read it.

Keras's ``Conv2D`` and ``Dense`` take an ``activation``; here the activation
is a layer of its own (``conv1`` with ``activation="relu"`` becomes
``conv1`` and ``conv1_relu``). Data-augmentation layers do nothing at
inference, so ``from_keras`` leaves them out, as Keras's ``predict`` does.
"""

import numpy as np

from cnn_course import layers, model, quiet_tensorflow

__all__ = ["CORRESPONDENCE", "AUGMENTATION_LAYERS", "from_keras", "to_keras"]

CORRESPONDENCE = (
    # (our layer class, Keras's layer class name, {our setting: Keras's config key})
    (layers.Conv2D, "Conv2D", {"filters": "filters", "kernel_size": "kernel_size", "stride": "strides", "padding": "padding",
                               "dilation": "dilation_rate"}),
    (layers.Dense, "Dense", {"units": "units"}),
    (layers.MaxPool2D, "MaxPooling2D", {"pool_size": "pool_size", "stride": "strides", "padding": "padding"}),
    (layers.AvgPool2D, "AveragePooling2D", {"pool_size": "pool_size", "stride": "strides", "padding": "padding"}),
    (layers.GlobalAvgPool2D, "GlobalAveragePooling2D", {}),
    (layers.Flatten, "Flatten", {}),
    (layers.Dropout, "Dropout", {"rate": "rate"}),
    (layers.ReLU, "ReLU", {}),
    (layers.Softmax, "Softmax", {}),
)

AUGMENTATION_LAYERS = (
    # Keras layers that change images only while training; at inference they pass them through.
    "RandomTranslation", "RandomRotation", "RandomZoom", "RandomFlip", "RandomContrast", "RandomBrightness",
)

# Keras's activation names (of Activation layers and of the `activation` setting) and our layer for each.
_ACTIVATIONS = {"linear": None, "relu": layers.ReLU, "softmax": layers.Softmax}

_BY_KERAS_NAME = {keras_name: (ours, settings) for ours, keras_name, settings in CORRESPONDENCE}
_BY_OUR_CLASS = {ours: (keras_name, settings) for ours, keras_name, settings in CORRESPONDENCE}


def _supported():
    return ", ".join([*_BY_KERAS_NAME, "Activation", *AUGMENTATION_LAYERS])


def _refuse(layer, why):
    raise ValueError(f"from_keras cannot convert layer {layer.name!r} ({type(layer).__name__}): {why}")


def _activation_layer(keras_layer, activation, name):
    """Our layer for a Keras activation name, or None for "linear"."""
    if activation not in _ACTIVATIONS:
        _refuse(keras_layer, f"activation {activation!r} is not supported; supported: {', '.join(_ACTIVATIONS)}")
    kind = _ACTIVATIONS[activation]
    return None if kind is None else kind(name=name)


def _check_keras_options(layer, config):
    """Refuse the Keras options that have no counterpart here (the message names the layer)."""
    if config.get("data_format", "channels_last") != "channels_last":
        _refuse(layer, f"data_format={config['data_format']!r}; only channels_last is supported")
    if config.get("groups", 1) != 1:
        _refuse(layer, "grouped convolution is not supported")
    if type(layer).__name__ == "ReLU" and (
        config.get("max_value") is not None or float(config.get("negative_slope", 0)) or float(config.get("threshold", 0))
    ):
        _refuse(layer, "only ReLU() with its default options is supported")
    if type(layer).__name__ == "Softmax" and config.get("axis", -1) not in (-1, [-1]):
        _refuse(layer, f"softmax over axis {config['axis']!r}; only the last axis is supported")


def from_keras(keras_model, dtype=None):
    """A :class:`cnn_course.model.Sequential` with the layers and weights of a Keras ``Sequential``.

    Parameters
    ----------
    keras_model : keras.Sequential
        A built model (it knows its input shape) made of the layers of
        :data:`CORRESPONDENCE`, ``Activation`` layers and
        :data:`AUGMENTATION_LAYERS`, channels-last.
    dtype : str, optional
        The new model's dtype; by default the Keras model's (float32 as a rule).

    Returns
    -------
    cnn_course.model.Sequential
        Same layer names, same weights; its ``predict`` returns what
        ``keras_model.predict`` returns for a model ending in softmax (and
        the softmax of it for a model ending in logits).

    Raises
    ------
    TypeError
        If ``keras_model`` is not a ``keras.Sequential``.
    ValueError
        For any layer, activation or option that has no counterpart here; the
        message names the layer and lists what is supported.
    """
    _, keras = quiet_tensorflow.import_tensorflow()
    if not isinstance(keras_model, keras.Sequential):
        raise TypeError(f"keras_model must be a keras.Sequential, got {type(keras_model).__name__}")
    if not keras_model.built or not keras_model.inputs:
        raise ValueError("keras_model must be built with a known input shape (start it with keras.Input(shape))")
    ours, weights = [], []
    for keras_layer in keras_model.layers:
        kind = type(keras_layer).__name__
        if kind in AUGMENTATION_LAYERS:
            continue
        config = keras_layer.get_config()
        if kind == "Activation":
            layer = _activation_layer(keras_layer, config["activation"], keras_layer.name)
            if layer is not None:
                ours.append(layer)
                weights.append([])
            continue
        if kind not in _BY_KERAS_NAME:
            _refuse(keras_layer, f"no counterpart in cnn_course.layers; supported: {_supported()}")
        _check_keras_options(keras_layer, config)
        our_class, settings = _BY_KERAS_NAME[kind]
        arguments = {ours_key: config[keras_key] for ours_key, keras_key in settings.items()}
        arguments = {key: tuple(value) if isinstance(value, list) else value for key, value in arguments.items()}
        ours.append(our_class(**arguments, name=keras_layer.name))
        layer_weights = keras_layer.get_weights()
        if config.get("use_bias") is False:
            layer_weights.append(np.zeros(layer_weights[0].shape[-1], dtype=layer_weights[0].dtype))
        weights.append(layer_weights)
        activation = config.get("activation", "linear")
        layer = _activation_layer(keras_layer, activation, f"{keras_layer.name}_{activation}")
        if layer is not None:
            ours.append(layer)
            weights.append([])
    if dtype is None:
        dtype = next((layer.dtype for layer in keras_model.layers if layer.weights), "float32")
    converted = model.Sequential(ours, tuple(keras_model.inputs[0].shape[1:]), dtype=dtype)
    for layer, layer_weights in zip(converted.layers, weights):
        layer.set_weights(layer_weights)
    return converted


def to_keras(sequential, logits=False):
    """A Keras ``Sequential`` with the layers and weights of a :class:`cnn_course.model.Sequential`.

    Parameters
    ----------
    sequential : cnn_course.model.Sequential
    logits : bool, default False
        False: the Keras model outputs what ``sequential.predict`` returns,
        probabilities (a ``Softmax`` layer is added if the model ends in
        logits). True: it outputs the logits (a final ``Softmax`` is left out).

    Returns
    -------
    keras.Sequential
        Not compiled; same layer names, weights and dtype.

    Raises
    ------
    ValueError
        For an explicit padding amount, which Keras's layers do not take.
    """
    _, keras = quiet_tensorflow.import_tensorflow()
    if not isinstance(sequential, model.Sequential):
        raise TypeError(f"sequential must be a cnn_course.model.Sequential, got {type(sequential).__name__}")
    dtype = sequential.dtype.name
    pairs = list(zip(sequential.names, sequential.layers))
    ends_in_softmax = isinstance(sequential.layers[-1], layers.Softmax)
    if logits and ends_in_softmax:
        pairs = pairs[:-1]
    keras_layers = []
    for name, layer in pairs:
        if type(layer) not in _BY_OUR_CLASS:
            supported = ", ".join(ours.__name__ for ours in _BY_OUR_CLASS)
            raise ValueError(f"to_keras cannot convert layer {name!r} ({type(layer).__name__}); supported: {supported}")
        keras_name, settings = _BY_OUR_CLASS[type(layer)]
        config = {keras_key: getattr(layer, ours_key) for ours_key, keras_key in settings.items()}
        if not isinstance(config.get("padding", "valid"), str):
            raise ValueError(
                f"layer {name!r} pads by {config['padding']}, but Keras's {keras_name} takes only 'valid' or 'same'"
            )
        keras_layers.append(getattr(keras.layers, keras_name)(**config, name=name, dtype=dtype))
    if not logits and not ends_in_softmax:
        keras_layers.append(keras.layers.Softmax(name=f"{pairs[-1][0]}_softmax", dtype=dtype))
    converted = keras.Sequential([keras.Input(sequential.input_shape, dtype=dtype), *keras_layers])
    for keras_layer, (_, layer) in zip(converted.layers, pairs):
        keras_layer.set_weights(layer.get_weights())
    return converted
