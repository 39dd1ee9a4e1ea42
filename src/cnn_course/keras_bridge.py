"""Run a trained Keras ``Sequential`` model through the course's own NumPy ops.

Introduced in the chapter "MNIST: from one Dense layer to a CNN". Nothing here
trains: the weights come from Keras (``layer.get_weights()``), and because the
course's arrays are channels-last like Keras's, they are used with no transpose.
"""

import numpy as np

from cnn_course import ops, quiet_tensorflow, validation

__all__ = ["numpy_forward", "layer_forward", "SUPPORTED_LAYERS"]

SUPPORTED_LAYERS = (
    "Conv2D",
    "MaxPooling2D",
    "AveragePooling2D",
    "Flatten",
    "Dropout",
    "Dense",
    "Activation",
    "ReLU",
    "Softmax",
    "RandomTranslation",
    "RandomRotation",
    "RandomZoom",
)

# Data augmentation layers change images only while training; at inference they pass
# their input through unchanged, as in Keras.
_AUGMENTATION_LAYERS = ("RandomTranslation", "RandomRotation", "RandomZoom")

_ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": ops.relu,
    "softmax": ops.softmax,
    "sigmoid": ops.sigmoid,
    "tanh": ops.tanh,
}


def _activation(layer, name):
    """Our version of the activation called ``name`` that ``layer`` applies."""
    if name not in _ACTIVATIONS:
        raise ValueError(
            f"layer {layer.name!r} uses the activation {name!r}, which numpy_forward does not support; "
            f"supported: {sorted(_ACTIVATIONS)}"
        )
    return _ACTIVATIONS[name]


def _check_channels_last(layer):
    if getattr(layer, "data_format", "channels_last") != "channels_last":
        raise ValueError(f"layer {layer.name!r} uses data_format={layer.data_format!r}; only channels_last is supported")


def layer_forward(layer, x):
    """Apply one Keras layer to ``x`` with ``cnn_course.ops``, as at inference time.

    Parameters
    ----------
    layer : keras.layers.Layer
        One of :data:`SUPPORTED_LAYERS`, channels-last.
    x : ndarray of shape (N, ...)
        The layer's input.

    Returns
    -------
    ndarray of shape (N, ...)
        The layer's output.

    Raises
    ------
    ValueError
        For a layer type, activation or option that the course's ops do not cover,
        with the layer's name in the message.
    """
    kind = type(layer).__name__
    if kind == "Conv2D":
        _check_channels_last(layer)
        if tuple(layer.dilation_rate) != (1, 1) or getattr(layer, "groups", 1) != 1:
            raise ValueError(f"layer {layer.name!r}: dilated or grouped convolution is not supported")
        weights = layer.get_weights()
        bias = weights[1] if layer.use_bias else None
        out = ops.conv2d(x, weights[0], bias, stride=tuple(layer.strides), padding=layer.padding)
        return _activation(layer, layer.activation.__name__)(out)
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        _check_channels_last(layer)
        pool = ops.max_pool2d if kind == "MaxPooling2D" else ops.avg_pool2d
        return pool(x, tuple(layer.pool_size), stride=tuple(layer.strides), padding=layer.padding)
    if kind == "Flatten":
        return ops.flatten(x)
    if kind == "Dropout" or kind in _AUGMENTATION_LAYERS:
        return x  # dropout and augmentation do nothing at inference
    if kind == "Dense":
        if x.ndim != 2:
            raise ValueError(f"layer {layer.name!r} (Dense) needs input of shape (N, D_in), got shape {x.shape}")
        weights = layer.get_weights()
        bias = weights[1] if layer.use_bias else None
        return _activation(layer, layer.activation.__name__)(ops.dense(x, weights[0], bias))
    if kind == "Activation":
        return _activation(layer, layer.activation.__name__)(x)
    if kind == "ReLU":
        if layer.max_value is not None or float(layer.negative_slope) != 0.0 or float(layer.threshold) != 0.0:
            raise ValueError(f"layer {layer.name!r}: only ReLU() with default options is supported")
        return ops.relu(x)
    if kind == "Softmax":
        return ops.softmax(x, axis=layer.axis if isinstance(layer.axis, int) else layer.axis[0])
    raise ValueError(
        f"numpy_forward does not support layer {layer.name!r} of type {kind}; supported: {', '.join(SUPPORTED_LAYERS)}"
    )


def numpy_forward(model, x, batch_size=500):
    """The output of a Keras ``Sequential`` model, computed by ``cnn_course.ops`` alone.

    Parameters
    ----------
    model : keras.Sequential
        A built model made only of :data:`SUPPORTED_LAYERS`.
    x : ndarray of shape (N, ...)
        Inputs in the model's input shape (for MNIST CNNs ``(N, 28, 28, 1)``).
    batch_size : int, default 500
        Images per step; bounds the memory of the im2col matrices.

    Returns
    -------
    ndarray of shape (N, ...)
        What ``model.predict(x)`` returns, up to floating-point rounding.

    Raises
    ------
    TypeError
        If ``model`` is not a ``keras.Sequential``.
    ValueError
        If a layer is not supported (the message names it), or ``x`` has the wrong shape.
    """
    _, keras = quiet_tensorflow.import_tensorflow()
    if not isinstance(model, keras.Sequential):
        raise TypeError(f"model must be a keras.Sequential, got {type(model).__name__}")
    batch_size = validation.check_int(batch_size, "batch_size", 1)
    x = validation.as_float_array(x, "x")
    expected = tuple(model.inputs[0].shape[1:]) if model.inputs else None
    if expected is not None and x.shape[1:] != expected:
        raise ValueError(f"x must have shape (N, {', '.join(map(str, expected))}) for this model, got shape {x.shape}")
    for layer in model.layers:  # refuse an unsupported layer before any work is done
        if type(layer).__name__ not in SUPPORTED_LAYERS:
            layer_forward(layer, x[:0])
    outputs = []
    for start in range(0, len(x), batch_size):
        batch = x[start : start + batch_size]
        for layer in model.layers:
            batch = layer_forward(layer, batch)
        outputs.append(batch)
    return np.concatenate(outputs) if outputs else np.zeros((0,) + tuple(model.outputs[0].shape[1:]))
