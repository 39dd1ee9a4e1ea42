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

From the chapter "Training CNNs in practice" on, ``BatchNormalization``
comes over too, with its moving statistics, and ``to_keras`` turns a model
with ``Residual`` blocks into a functional Keras model (a block's shortcut
cannot be in a ``keras.Sequential``). ``from_keras`` takes ``keras.Sequential``
models only.
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
    (layers.BatchNorm, "BatchNormalization", {"momentum": "momentum", "epsilon": "epsilon"}),
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
    if type(layer).__name__ == "BatchNormalization":
        rank = len(layer.input.shape)
        if config.get("axis", -1) not in (-1, rank - 1):
            _refuse(layer, f"normalization over axis {config['axis']!r}; only the last (channel) axis, -1, is supported")
        if config.get("renorm"):
            _refuse(layer, "batch renormalization (renorm=True) is not supported")
        if rank not in (2, 4):
            _refuse(layer, f"inputs of shape {tuple(layer.input.shape)}; only (N, H, W, C) and (N, D) are supported")


def _batch_norm_weights(config, weights):
    """Keras's BatchNormalization weights as ours: gamma ones where ``scale=False``, beta zeros where ``center=False``."""
    *trained, moving_mean, moving_variance = weights
    if not config.get("scale", True):
        trained.insert(0, np.ones_like(moving_mean))
    if not config.get("center", True):
        trained.append(np.zeros_like(moving_mean))
    return [*trained, moving_mean, moving_variance]


def from_keras(keras_model, dtype=None):
    """A :class:`cnn_course.model.Sequential` with the layers and weights of a Keras ``Sequential``.

    Parameters
    ----------
    keras_model : keras.Sequential
        A built model (it knows its input shape) made of the layers of
        :data:`CORRESPONDENCE`, ``Activation`` layers and
        :data:`AUGMENTATION_LAYERS`, channels-last. Only a ``keras.Sequential``:
        a functional model (residual connections) is refused.
        ``BatchNormalization`` over the last axis of ``(N, H, W, C)`` or
        ``(N, D)`` becomes a :class:`cnn_course.layers.BatchNorm` with its
        moving statistics, so that predictions (inference mode) agree; with
        ``scale=False`` or ``center=False`` its missing gamma or beta becomes
        ones or zeros. Options that act only while Keras trains (regularizers,
        constraints, ``trainable=False``, ``synchronized``) are not carried
        over; ``renorm=True`` and another ``axis`` are refused.
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
        if kind == "BatchNormalization":
            layer_weights = _batch_norm_weights(config, layer_weights)
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


def _keras_layer(keras, label, keras_name_of_layer, layer, dtype):
    """The Keras layer for one of ours (not a Residual block); ``label`` names it in errors."""
    if type(layer) not in _BY_OUR_CLASS:
        supported = ", ".join([*(ours.__name__ for ours in _BY_OUR_CLASS), "Residual"])
        raise ValueError(f"to_keras cannot convert layer {label!r} ({type(layer).__name__}); supported: {supported}")
    keras_name, settings = _BY_OUR_CLASS[type(layer)]
    config = {keras_key: getattr(layer, ours_key) for ours_key, keras_key in settings.items()}
    if not isinstance(config.get("padding", "valid"), str):
        raise ValueError(
            f"layer {label!r} pads by {config['padding']}, but Keras's {keras_name} takes only 'valid' or 'same'"
        )
    return getattr(keras.layers, keras_name)(**config, name=keras_name_of_layer, dtype=dtype)


def _apply(keras, name, layer, tensor, dtype, made, label=None):
    """Call the Keras counterpart of ``layer`` on the symbolic ``tensor``; a Residual block becomes
    its inner layers (named ``f"{name}_{inner name}"``), its projection and an ``Add``. Appends
    every ``(keras_layer, our_layer)`` pair to ``made`` and returns the output tensor."""
    label = name if label is None else label
    if isinstance(layer, layers.Residual):
        branch = tensor
        for inner_name, inner in zip(layer.names, layer.layers):
            branch = _apply(keras, f"{name}_{inner_name}", inner, branch, dtype, made, f"{label}/{inner_name}")
        shortcut = tensor
        if layer.projection is not None:
            shortcut = _apply(keras, f"{name}_projection", layer.projection, tensor, dtype, made, f"{label}/projection")
        return keras.layers.Add(name=f"{name}_add", dtype=dtype)([shortcut, branch])
    keras_layer = _keras_layer(keras, label, name, layer, dtype)
    made.append((keras_layer, layer))
    return keras_layer(tensor)


def to_keras(sequential, logits=False):
    """A Keras ``Sequential`` with the layers and weights of a :class:`cnn_course.model.Sequential`.

    A model with ``Residual`` blocks cannot be a ``keras.Sequential`` (a block
    adds its input to its output); it becomes a functional ``keras.Model``
    instead, the chain of its layers, where block ``residual1`` is its inner
    layers named ``residual1_conv1``, ``residual1_batch_norm1``, ..., its
    projection ``residual1_projection`` (if it has one) and
    ``keras.layers.Add(name="residual1_add")`` of the shortcut and the inner
    path. (``from_keras`` takes only a ``keras.Sequential``, so such a model
    does not come back.)

    Parameters
    ----------
    sequential : cnn_course.model.Sequential
    logits : bool, default False
        False: the Keras model outputs what ``sequential.predict`` returns,
        probabilities (a ``Softmax`` layer is added if the model ends in
        logits). True: it outputs the logits (a final ``Softmax`` is left out).

    Returns
    -------
    keras.Sequential or keras.Model
        Not compiled; same layer names, weights (BatchNorm's moving statistics
        too) and dtype. A functional ``keras.Model`` if there are residual blocks.

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
    if any(isinstance(layer, layers.Residual) for _, layer in pairs):
        inputs = keras.Input(sequential.input_shape, dtype=dtype)
        tensor, made = inputs, []
        for name, layer in pairs:
            tensor = _apply(keras, name, layer, tensor, dtype, made)
        if not logits and not ends_in_softmax:
            tensor = keras.layers.Softmax(name=f"{pairs[-1][0]}_softmax", dtype=dtype)(tensor)
        converted = keras.Model(inputs, tensor)
        for keras_layer, layer in made:
            keras_layer.set_weights(layer.get_weights())
        return converted
    keras_layers = [_keras_layer(keras, name, name, layer, dtype) for name, layer in pairs]
    if not logits and not ends_in_softmax:
        keras_layers.append(keras.layers.Softmax(name=f"{pairs[-1][0]}_softmax", dtype=dtype))
    converted = keras.Sequential([keras.Input(sequential.input_shape, dtype=dtype), *keras_layers])
    for keras_layer, (_, layer) in zip(converted.layers, pairs):
        keras_layer.set_weights(layer.get_weights())
    return converted
