"""A small CNN as a list of layers: its forward pass and its summary table.

Introduced in the chapter "Putting it together". A network here is a plain
Python list of layer objects (:class:`Conv2D`, :class:`ReLU`,
:class:`MaxPool2D`, :class:`Flatten`, :class:`Dense`, :class:`Softmax`), each
holding its own weights. :func:`forward` runs a batch through them with the
functions of ``cnn_course.ops``; :func:`summary` prints the table that Keras's
``model.summary()`` prints. Arrays are channels-last like Keras: images
``(N, H, W, C)``, kernels ``(kh, kw, C_in, C_out)``, dense weights
``(D_in, D_out)``.
"""

import collections
import dataclasses
import math

import numpy as np

from cnn_course import convolution, ops, validation

__all__ = [
    "Conv2D",
    "ReLU",
    "MaxPool2D",
    "Flatten",
    "Dense",
    "Softmax",
    "LayerInfo",
    "he_normal",
    "get_weights",
    "describe",
    "summary",
    "apply_layer",
    "forward",
]


def _check_name(name):
    if name is not None and (not isinstance(name, str) or not name):
        raise TypeError(f"name must be a non-empty str or None, got {name!r}")


def _check_bias(bias, size, layout):
    """Return ``bias`` as a float array of shape ``(size,)``, or None."""
    if bias is None:
        return None
    bias = validation.as_float_array(bias, "bias")
    if bias.shape != (size,):
        raise ValueError(f"bias must have shape {layout} = ({size},), got shape {bias.shape}")
    return bias


@dataclasses.dataclass(eq=False)
class Conv2D:
    """A convolution layer: :func:`cnn_course.ops.conv2d` with its own weights.

    Parameters
    ----------
    kernel : ndarray of shape (kh, kw, C_in, C_out)
        One ``(kh, kw, C_in)`` filter per output channel (Keras's layout).
    bias : ndarray of shape (C_out,), optional
    stride : int or tuple of (int, int), default 1
    padding : {"valid", "same"}, int or tuple of (int, int), default "valid"
    name : str, optional
        Shown by :func:`summary`; ``"conv1"``, ``"conv2"``, ... by default.
    """

    kernel: np.ndarray = dataclasses.field(repr=False)
    bias: np.ndarray | None = dataclasses.field(default=None, repr=False)
    stride: int | tuple = 1
    padding: str | int | tuple = "valid"
    name: str | None = None

    def __post_init__(self):
        self.kernel = validation.as_float_array(self.kernel, "kernel")
        validation.check_rank(self.kernel, 4, "kernel", "(kh, kw, C_in, C_out)")
        if min(self.kernel.shape) < 1:
            raise ValueError(f"kernel must have every dimension at least 1, got shape {self.kernel.shape}")
        self.bias = _check_bias(self.bias, self.kernel.shape[3], "(C_out,)")
        validation.check_positive_pair(self.stride, "stride")
        if isinstance(self.padding, str):
            if self.padding not in validation.PADDING_WORDS:
                raise ValueError(f"padding must be 'valid', 'same' or an int, got {self.padding!r}")
        else:
            validation.check_padding_amount(self.padding)
        _check_name(self.name)


@dataclasses.dataclass(eq=False)
class ReLU:
    """The activation ``max(0, x)``, element by element; no parameters.

    Parameters
    ----------
    name : str, optional
        ``"relu1"``, ``"relu2"``, ... by default.
    """

    name: str | None = None

    def __post_init__(self):
        _check_name(self.name)


@dataclasses.dataclass(eq=False)
class MaxPool2D:
    """Max pooling: :func:`cnn_course.ops.max_pool2d`; no parameters.

    Parameters
    ----------
    pool_size : int or tuple of (int, int), default 2
    stride : int or tuple of (int, int), optional
        Defaults to ``pool_size``, as in Keras.
    padding : {"valid", "same"}, default "valid"
    name : str, optional
        ``"pool1"``, ``"pool2"``, ... by default.
    """

    pool_size: int | tuple = 2
    stride: int | tuple | None = None
    padding: str = "valid"
    name: str | None = None

    def __post_init__(self):
        validation.check_positive_pair(self.pool_size, "pool_size")
        if self.stride is not None:
            validation.check_positive_pair(self.stride, "stride")
        if self.padding not in validation.PADDING_WORDS:
            raise ValueError(f"padding must be 'valid' or 'same' for pooling, got {self.padding!r}")
        _check_name(self.name)


@dataclasses.dataclass(eq=False)
class Flatten:
    """Flatten each example into a vector, in ``(H, W, C)`` order as Keras does.

    Parameters
    ----------
    name : str, optional
        ``"flatten1"`` by default.
    """

    name: str | None = None

    def __post_init__(self):
        _check_name(self.name)


@dataclasses.dataclass(eq=False)
class Dense:
    """A fully connected layer, ``x @ weights + bias``.

    Parameters
    ----------
    weights : ndarray of shape (D_in, D_out)
        Keras's ``Dense`` kernel layout.
    bias : ndarray of shape (D_out,), optional
    name : str, optional
        ``"dense1"``, ``"dense2"``, ... by default.
    """

    weights: np.ndarray = dataclasses.field(repr=False)
    bias: np.ndarray | None = dataclasses.field(default=None, repr=False)
    name: str | None = None

    def __post_init__(self):
        self.weights = validation.as_float_array(self.weights, "weights")
        validation.check_rank(self.weights, 2, "weights", "(D_in, D_out)")
        if min(self.weights.shape) < 1:
            raise ValueError(
                f"weights must have D_in and D_out of at least 1, got shape {self.weights.shape}"
            )
        self.bias = _check_bias(self.bias, self.weights.shape[1], "(D_out,)")
        _check_name(self.name)


@dataclasses.dataclass(eq=False)
class Softmax:
    """Softmax over the last axis: scores become probabilities; no parameters.

    Parameters
    ----------
    name : str, optional
        ``"softmax1"`` by default.
    """

    name: str | None = None

    def __post_init__(self):
        _check_name(self.name)


# The default name of each kind of layer, numbered from 1 in the network: conv1, relu1, pool1, conv2, ...
_DEFAULT_NAMES = {
    Conv2D: "conv",
    ReLU: "relu",
    MaxPool2D: "pool",
    Flatten: "flatten",
    Dense: "dense",
    Softmax: "softmax",
}

LayerInfo = collections.namedtuple("LayerInfo", ["name", "kind", "output_shape", "parameters"])
LayerInfo.__doc__ = """One row of the summary: the layer's name, its class name, the shape of
one example's output (no batch axis) and its number of parameters."""


def he_normal(shape, rng, dtype="float32"):
    """Random weights for a layer followed by ReLU (He initialisation).

    Draws from a normal distribution with mean 0 and standard deviation
    ``sqrt(2 / fan_in)``, where ``fan_in`` is the number of inputs of one
    output unit: ``kh * kw * C_in`` for a kernel, ``D_in`` for dense weights.
    This keeps the size of the activations about the same from layer to layer.
    (Keras's ``HeNormal`` draws from a *truncated* normal; the idea is the same.)

    Introduced in the chapter "Putting it together".

    Parameters
    ----------
    shape : tuple of int
        ``(kh, kw, C_in, C_out)`` for a kernel or ``(D_in, D_out)`` for dense weights.
    rng : numpy.random.Generator
        Pass a seeded one, ``np.random.default_rng(0)``, for reproducible weights.
    dtype : str or numpy.dtype, default "float32"

    Returns
    -------
    ndarray of shape ``shape``
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"shape must be (kh, kw, C_in, C_out) or (D_in, D_out), got {shape}")
    for size in shape:
        validation.check_int(size, "every size in shape", 1)
    fan_in = math.prod(shape[:-1])
    return rng.normal(0.0, math.sqrt(2.0 / fan_in), size=shape).astype(dtype)


def _check_layers(layers):
    """Return the layers' names, refusing anything that is not a known layer."""
    if not isinstance(layers, (list, tuple)):
        raise TypeError(f"layers must be a list of layers, got {type(layers).__name__}")
    if not layers:
        raise ValueError("layers must hold at least one layer, got an empty list")
    counts = collections.Counter()
    names = []
    for index, layer in enumerate(layers):
        if type(layer) not in _DEFAULT_NAMES:
            known = ", ".join(kind.__name__ for kind in _DEFAULT_NAMES)
            raise TypeError(
                f"layers[{index}] must be one of {known} from cnn_course.network, "
                f"got {type(layer).__name__}"
            )
        counts[type(layer)] += 1
        names.append(layer.name or f"{_DEFAULT_NAMES[type(layer)]}{counts[type(layer)]}")
    repeated = sorted(name for name, count in collections.Counter(names).items() if count > 1)
    if repeated:
        raise ValueError(f"layer names must be unique, got {repeated} more than once")
    return names


def get_weights(layers):
    """Return every layer's parameters in the order of Keras's ``model.get_weights()``.

    Kernel then bias (when there is one) for each Conv2D and Dense layer, so
    ``keras_model.set_weights(get_weights(layers))`` copies them into the
    equivalent Keras model.

    Parameters
    ----------
    layers : list of layer
        The network.

    Returns
    -------
    list of ndarray
    """
    _check_layers(layers)
    weights = []
    for layer in layers:
        if isinstance(layer, Conv2D):
            weights.append(layer.kernel)
        elif isinstance(layer, Dense):
            weights.append(layer.weights)
        else:
            continue
        if layer.bias is not None:
            weights.append(layer.bias)
    return weights


def _output_shape(layer, shape):
    """Shape of one example after ``layer``, or ValueError saying what it needed."""
    if isinstance(layer, (Conv2D, MaxPool2D)):
        if len(shape) != 3:
            raise ValueError(f"needs an input of shape (H, W, C), got {shape}")
        if isinstance(layer, Conv2D):
            window, channels = layer.kernel.shape[:2], layer.kernel.shape[2]
            if shape[2] != channels:
                raise ValueError(
                    f"has a kernel of shape {layer.kernel.shape}, which needs an input of shape "
                    f"(H, W, {channels}), got {shape}"
                )
            stride, out_channels = layer.stride, layer.kernel.shape[3]
        else:
            window = validation.check_positive_pair(layer.pool_size, "pool_size")
            stride, out_channels = (window if layer.stride is None else layer.stride), shape[2]
        strides = validation.check_positive_pair(stride, "stride")
        paddings = layer.padding if isinstance(layer.padding, (tuple, list)) else (layer.padding,) * 2
        try:
            # floor((n + 2p - k) / s) + 1, or ceil(n / s) for "same", along height and width.
            height, width = (
                convolution.conv_output_size(size, length, step, pad)
                for size, length, step, pad in zip(shape[:2], window, strides, paddings)
            )
        except ValueError as error:
            raise ValueError(
                f"has a window of height x width {tuple(window)} that does not fit its input of "
                f"shape {shape} ({error})"
            ) from error
        return (height, width, out_channels)
    if isinstance(layer, Flatten):
        return (math.prod(shape),)
    if isinstance(layer, Dense):
        d_in = layer.weights.shape[0]
        if shape != (d_in,):
            hint = "; put a Flatten layer before it" if len(shape) > 1 else ""
            raise ValueError(
                f"has weights of shape {layer.weights.shape}, which need an input of shape ({d_in},), "
                f"got {shape}{hint}"
            )
        return (layer.weights.shape[1],)
    return shape  # ReLU and Softmax keep the shape


def describe(layers, input_shape):
    """Name, output shape and parameter count of every layer, checking that the shapes fit.

    Introduced in the chapter "Putting it together".

    Parameters
    ----------
    layers : list of layer
        The network, first layer first.
    input_shape : tuple of int
        The shape of *one* example, without the batch axis: ``(28, 28, 1)``
        for an MNIST digit.

    Returns
    -------
    list of LayerInfo
        One ``(name, kind, output_shape, parameters)`` row per layer;
        ``output_shape`` has no batch axis.

    Raises
    ------
    TypeError
        If an entry of ``layers`` is not a layer of this module.
    ValueError
        If a layer does not accept the output of the layer before it; the
        message names the layer and both shapes.
    """
    names = _check_layers(layers)
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else None
    whole = all(isinstance(size, (int, np.integer)) and not isinstance(size, bool) for size in shape or ())
    if not shape or not whole or min(shape) < 1:
        raise ValueError(
            f"input_shape must be the shape of one example without the batch axis, such as "
            f"(28, 28, 1), got {input_shape!r}"
        )
    shape = tuple(int(size) for size in shape)
    rows = []
    for index, (layer, name) in enumerate(zip(layers, names)):
        try:
            shape = _output_shape(layer, shape)
        except ValueError as error:
            raise ValueError(f"layer {index} {name!r} ({type(layer).__name__}) {error}") from error
        parameters = sum(array.size for array in get_weights([layer]))
        rows.append(LayerInfo(name, type(layer).__name__, shape, parameters))
    return rows


def summary(layers, input_shape):
    """A table of the layers like Keras's ``model.summary()``, as a string.

    One row per layer: its name and type, its output shape with ``None`` for
    the batch axis, and its number of parameters; then the total.

    Introduced in the chapter "Putting it together".

    Parameters
    ----------
    layers : list of layer
    input_shape : tuple of int
        The shape of one example, without the batch axis, e.g. ``(28, 28, 1)``.

    Returns
    -------
    str
    """
    rows = [("Layer (type)", "Output shape", "Param #")]
    rows += [(f"{r.name} ({r.kind})", str((None,) + r.output_shape), f"{r.parameters:,}")
             for r in describe(layers, input_shape)]
    widths = [max(len(row[column]) for row in rows) + 3 for column in range(3)]
    lines = [row[0].ljust(widths[0]) + row[1].ljust(widths[1]) + row[2].rjust(widths[2]) for row in rows]
    rule = "=" * len(lines[0])
    total = sum(array.size for array in get_weights(layers))
    return "\n".join([lines[0], rule, *lines[1:], rule, f"Total params: {total:,}"])


def apply_layer(layer, x):
    """Run one layer on a batch with the matching function of ``cnn_course.ops``.

    Introduced in the chapter "Putting it together".

    Parameters
    ----------
    layer : Conv2D, ReLU, MaxPool2D, Flatten, Dense or Softmax
    x : ndarray of shape (N, ...)
        The batch the layer receives.

    Returns
    -------
    ndarray of shape (N, ...)
    """
    if isinstance(layer, Conv2D):
        return ops.conv2d(x, layer.kernel, layer.bias, stride=layer.stride, padding=layer.padding)
    if isinstance(layer, ReLU):
        return ops.relu(x)
    if isinstance(layer, MaxPool2D):
        return ops.max_pool2d(x, layer.pool_size, stride=layer.stride, padding=layer.padding)
    if isinstance(layer, Flatten):
        return ops.flatten(x)
    if isinstance(layer, Dense):
        return ops.dense(x, layer.weights, layer.bias)
    if isinstance(layer, Softmax):
        return ops.softmax(x, axis=-1)
    raise TypeError(f"layer must be a layer of cnn_course.network, got {type(layer).__name__}")


def forward(layers, x, return_all=False):
    """Run a batch through the network, layer after layer.

    Introduced in the chapter "Putting it together".

    Parameters
    ----------
    layers : list of layer
        The network, first layer first.
    x : ndarray of shape (N, H, W, C)
        A batch of channels-last images (or of whatever the first layer takes).
    return_all : bool, default False
        Also keep every layer's output, to look inside the network.

    Returns
    -------
    ndarray of shape (N, ...) or dict of str to ndarray
        The last layer's output, such as ``(N, 10)`` probabilities; with
        ``return_all=True``, a dict from each layer's name to its output, in
        order.

    Raises
    ------
    TypeError, ValueError
        If a layer is unknown or does not accept the shape it receives
        (checked for every layer before anything is computed).
    """
    x = validation.as_float_array(x, "x")
    if x.ndim < 2:
        raise ValueError(
            f"x must be a batch of shape (N, H, W, C) with a batch axis first, got shape {x.shape}"
        )
    # Check every layer's shapes first, so a mistake in the last layer is reported at once.
    rows = describe(layers, x.shape[1:])
    outputs = {}
    for layer, row in zip(layers, rows):
        x = apply_layer(layer, x)
        outputs[row.name] = x
    return outputs if return_all else x
