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
cannot be in a ``keras.Sequential``), and ``from_keras`` reads such a
functional model back: a chain of layers and residual blocks, each block an
``Add`` of its input (or a 1 x 1 ``Conv2D`` of it) and a chain of layers from
it, becomes a ``Sequential`` with ``Residual`` layers; any other graph is
refused with the name of the layer where it stops being one.
"""

import numpy as np

from cnn_course import layers, model, quiet_tensorflow

__all__ = ["CORRESPONDENCE", "AUGMENTATION_LAYERS", "from_keras", "to_keras"]

CORRESPONDENCE = (
    # (our layer class, Keras's layer class name, {our setting: Keras's config key})
    (layers.Conv2D, "Conv2D", {"filters": "filters", "kernel_size": "kernel_size", "stride": "strides", "padding": "padding",
                               "dilation": "dilation_rate", "use_bias": "use_bias"}),
    (layers.Dense, "Dense", {"units": "units", "use_bias": "use_bias"}),
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


def _convert_layer(keras, keras_layer, name):
    """Our layers for one Keras layer (not an ``Add``), as ``(layer, weights)`` pairs named after ``name``.

    None for an augmentation layer or ``Activation("linear")``, two for a layer
    with an ``activation`` (the layer, then ``f"{name}_{activation}"``).
    """
    if isinstance(keras_layer, keras.Model):
        _refuse(keras_layer, "a model inside the model is not supported; build the outer model from its layers")
    kind = type(keras_layer).__name__
    if kind in AUGMENTATION_LAYERS:
        return []
    config = keras_layer.get_config()
    if kind == "Activation":
        layer = _activation_layer(keras_layer, config["activation"], name)
        return [] if layer is None else [(layer, [])]
    if kind not in _BY_KERAS_NAME:
        _refuse(keras_layer, f"no counterpart in cnn_course.layers; supported: {_supported()}")
    _check_keras_options(keras_layer, config)
    our_class, settings = _BY_KERAS_NAME[kind]
    arguments = {ours_key: config[keras_key] for ours_key, keras_key in settings.items()}
    arguments = {key: tuple(value) if isinstance(value, list) else value for key, value in arguments.items()}
    layer_weights = keras_layer.get_weights()
    if kind == "BatchNormalization":
        layer_weights = _batch_norm_weights(config, layer_weights)
    converted = [(our_class(**arguments, name=name), layer_weights)]
    activation = config.get("activation", "linear")
    layer = _activation_layer(keras_layer, activation, f"{name}_{activation}")
    if layer is not None:
        converted.append((layer, []))
    return converted


class _GraphReader:
    """Reads a functional Keras model backwards, from its output to its input, as a chain of layers
    and residual blocks.

    A piece of the chain is ``("layer", keras_layer)`` or ``("block", add, projection, inner_pieces)``
    (``projection`` the shortcut's Conv2D, or None for the identity). Keras has no public API for
    the graph: a tensor's ``_keras_history`` names the layer call (node) that made it, and the
    node's ``input_tensors`` are what it was called on.
    """

    def __init__(self, keras):
        self.keras = keras
        self.seen = set()

    def producer(self, tensor):
        """The layer that made ``tensor`` and the tensors it was called on; ``(None, [])`` for a ``keras.Input``."""
        operation, node_index, _ = tensor._keras_history
        if isinstance(operation, self.keras.layers.InputLayer):
            return None, []
        if not isinstance(operation, self.keras.layers.Layer):
            raise ValueError(
                f"from_keras cannot convert operation {operation.name!r} ({type(operation).__name__}): it is a "
                f"function of keras.ops, not a Keras layer; use a layer (such as keras.layers.Add) instead"
            )
        return operation, list(operation._inbound_nodes[node_index].input_tensors)

    def past_augmentation(self, tensor):
        """The tensor that the augmentation layers which made ``tensor`` pass on (at inference)."""
        layer, inputs = self.producer(tensor)
        while layer is not None and type(layer).__name__ in AUGMENTATION_LAYERS and len(inputs) == 1:
            tensor = inputs[0]
            layer, inputs = self.producer(tensor)
        return tensor

    def ancestors(self, tensor):
        """The ids of ``tensor`` and of every tensor it is computed from."""
        found, stack = set(), [tensor]
        while stack:
            current = stack.pop()
            if id(current) not in found:
                found.add(id(current))
                stack.extend(self.producer(current)[1])
        return found

    def visit(self, layer):
        if id(layer) in self.seen:
            _refuse(layer, "it is called more than once in the model (a shared layer); from_keras needs each layer once")
        self.seen.add(id(layer))

    def chain(self, end, start, add=None):
        """The pieces from tensor ``start`` to tensor ``end``, first first (inside the block of ``add``)."""
        pieces, tensor = [], end
        while tensor is not start:
            layer, inputs = self.producer(tensor)
            if layer is None:
                if add is None:
                    raise ValueError("keras_model's output is not computed from its input")
                _refuse(add, "its inner path does not lead back to the tensor its shortcut starts from (the block's "
                             "input); the layers between the two are not a chain")
            self.visit(layer)
            if isinstance(layer, self.keras.layers.Add):
                piece, tensor = self.block(layer, inputs)
            elif len(inputs) != 1:
                _refuse(layer, f"it takes {len(inputs)} inputs; but for the Add of a residual block, every layer "
                               f"must take one (a chain of layers)")
            else:
                piece, tensor = ("layer", layer), inputs[0]
            if type(layer).__name__ not in AUGMENTATION_LAYERS:  # the identity at inference: left out
                pieces.append(piece)
        return pieces[::-1]

    def block(self, add, inputs):
        """The residual block that ends in ``add``, as a piece, and the block's input tensor."""
        if len(inputs) != 2:
            _refuse(add, f"an Add of {len(inputs)} tensors; a residual block adds two, its shortcut and its inner path")
        first, second = (self.past_augmentation(tensor) for tensor in inputs)
        if first is second:
            _refuse(add, "it adds a tensor to itself; a residual block's inner path needs at least one layer")
        # The identity: one input is the block's input, and the other is computed from it.
        for shortcut, path in ((first, second), (second, first)):
            if id(shortcut) in self.ancestors(path):
                return ("block", add, None, self.chain(path, shortcut, add)), shortcut
        # A projection: one input is a Conv2D of the block's input, and the other is computed from that.
        candidates = []
        for shortcut, path in ((first, second), (second, first)):
            layer, layer_inputs = self.producer(shortcut)
            if layer is not None and type(layer).__name__ == "Conv2D" and len(layer_inputs) == 1:
                source = self.past_augmentation(layer_inputs[0])
                if id(source) in self.ancestors(path):
                    candidates.append((layer, source, path))
        if not candidates:
            made_by = [getattr(self.producer(tensor)[0], "name", "the input") for tensor in (first, second)]
            _refuse(add, f"its inputs (from {made_by[0]!r} and {made_by[1]!r}) are not the two branches of a residual "
                         f"block from one source: neither is computed from the other (the identity shortcut), nor is "
                         f"one a Conv2D of a tensor the other is computed from (a projection). "
                         f"A residual block adds its input x, or one 1 x 1 Conv2D of x (the projection), to the "
                         f"output of a chain of layers from x (a shortcut of more layers, such as a Conv2D and a "
                         f"BatchNormalization, is not supported)")
        # If both inputs are a Conv2D of the block's input, the shortcut is the 1 x 1 one, or the one
        # named "...projection", or the first (to_keras's order).
        candidates.sort(key=lambda c: (tuple(c[0].get_config()["kernel_size"]) != (1, 1), not c[0].name.endswith("projection")))
        projection, source, path = candidates[0]
        self.visit(projection)
        config = projection.get_config()
        _check_keras_options(projection, config)
        kernel_size = tuple(config["kernel_size"])
        if kernel_size != (1, 1):
            _refuse(projection, f"the shortcut of the residual block ending in {add.name!r} is a {kernel_size[0]} x "
                                f"{kernel_size[1]} convolution; a Residual's projection is a 1 x 1 Conv2D")
        if config.get("activation", "linear") != "linear":
            _refuse(projection, f"the projection of the residual block ending in {add.name!r} has activation "
                                f"{config['activation']!r}; a Residual's projection has none")
        return ("block", add, projection, self.chain(path, source, add)), source


def _piece_name(piece, keras_names):
    """The Keras side's name of a piece: the layer's, or for a block its Add's without ``_add``
    (``residual1_add`` is block ``residual1``, as to_keras writes it) unless a layer is called so."""
    name = piece[1].name
    if piece[0] == "block" and name.endswith("_add"):
        block_name = name[: -len("_add")]
        if block_name and block_name not in keras_names:
            return block_name
    return name


def _inner_names(names, block_name):
    """A block's inner names without the prefix ``f"{block_name}_"``, if all of them have it (and none becomes 'projection')."""
    prefix = f"{block_name}_"
    stripped = [name[len(prefix):] for name in names]
    if all(name.startswith(prefix) and len(name) > len(prefix) for name in names) and "projection" not in stripped:
        return stripped
    return list(names)


def _convert_pieces(keras, pieces, keras_side_names, our_names, keras_names, leaves, blocks):
    """Our layers for ``pieces``; every layer that is no block goes into ``leaves`` with its weights,
    every block into ``blocks`` as ``(residual, add, projection)``."""
    converted = []
    for piece, keras_side_name, our_name in zip(pieces, keras_side_names, our_names):
        if piece[0] == "layer":
            for layer, layer_weights in _convert_layer(keras, piece[1], our_name):
                converted.append(layer)
                leaves.append((layer, layer_weights))
            continue
        _, add, projection, inner = piece
        inner_keras_names = [_piece_name(p, keras_names) for p in inner]
        inner_layers = _convert_pieces(keras, inner, inner_keras_names, _inner_names(inner_keras_names, keras_side_name),
                                       keras_names, leaves, blocks)
        if not inner_layers:
            _refuse(add, "its inner path has no layer to convert (only augmentation layers or Activation('linear'))")
        residual = layers.Residual(inner_layers, projection="auto", name=our_name)
        blocks.append((residual, add, projection))
        converted.append(residual)
    return converted


def _check_projection(residual, add, projection):
    """Refuse a built ``residual`` without a projection where Keras's block has one, or the other way round, or with another one."""
    if projection is None:
        if residual.projection is not None:
            _refuse(add, f"its shortcut is the identity, but its inner path changes the shape from {residual.input_shape} "
                         f"to {residual.output_shape} (Keras broadcasts the sum); a Residual needs a 1 x 1 Conv2D there")
        return
    if residual.projection is None:
        _refuse(projection, f"a projection on the shortcut of the residual block ending in {add.name!r}, whose inner "
                            f"path keeps the shape {residual.output_shape}; a Residual has a projection only where "
                            f"its inner path changes the shape")
    config = projection.get_config()
    strides, ours = tuple(config["strides"]), residual.projection
    if strides != ours.stride or config["filters"] != ours.filters:
        _refuse(projection, f"a projection with strides {strides} and {config['filters']} filters, while the inner path "
                            f"of the residual block ending in {add.name!r} has an overall stride of {ours.stride} and "
                            f"{ours.filters} channels, which a Residual's projection takes")


def from_keras(keras_model, dtype=None):
    """A :class:`cnn_course.model.Sequential` with the layers and weights of a Keras model.

    Parameters
    ----------
    keras_model : keras.Sequential or keras.Model
        A built model (it knows its input shape) made of the layers of
        :data:`CORRESPONDENCE`, ``Activation`` layers and
        :data:`AUGMENTATION_LAYERS` (left out), channels-last: a
        ``keras.Sequential``, or a functional ``keras.Model`` with one input
        and one output whose graph is a chain of such layers and residual
        blocks. A residual block is a ``keras.layers.Add`` of two tensors that
        both come from one tensor ``x``, the block's input: one is ``x``
        itself (the identity) or one 1 x 1 ``Conv2D`` of ``x`` with no
        activation, with or without bias (the projection), the other is
        ``F(x)``, a chain of layers from ``x`` (residual blocks too). It
        becomes a :class:`cnn_course.layers.Residual` of ``F``'s layers, which
        makes its own projection where ``F`` changes the shape: Keras's
        projection must be there, with ``F``'s overall stride and channels,
        and only there. A block whose ``Add`` is ``residual1_add`` is called
        ``residual1`` (else it takes the ``Add``'s name), and its inner layers
        lose the prefix of the block's name and ``_`` if they all have it (as
        :func:`to_keras` writes blocks, so that ``from_keras(to_keras(s))``
        has the names of ``s``); the projection is always ``projection``. Layers after the ``Add`` (a
        ``ReLU``) belong to the outer chain. Refused: any other branching
        (a layer used by two layers that are not the two branches of a block,
        an ``Add`` whose inputs do not share a source, other layers that take
        several inputs), a shortcut of more layers (``Conv2D`` then
        ``BatchNormalization``), shared layers, models nested as layers,
        ``keras.ops`` functions, several inputs or outputs.

        ``BatchNormalization`` over the last axis of ``(N, H, W, C)`` or
        ``(N, D)`` becomes a :class:`cnn_course.layers.BatchNorm` with its
        moving statistics, so that predictions (inference mode) agree; with
        ``scale=False`` or ``center=False`` its missing gamma or beta becomes
        ones or zeros. A ``Conv2D`` or ``Dense`` without bias
        (``use_bias=False``) stays without; a projection without bias gets a
        zero bias. Options that act only while Keras trains (regularizers,
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
        If ``keras_model`` is neither a ``keras.Sequential`` nor a functional
        ``keras.Model`` (a subclassed model has no graph to read).
    ValueError
        For any layer, activation, option or connection that has no
        counterpart here; the message names the layer and says what is supported.
    """
    _, keras = quiet_tensorflow.import_tensorflow()
    if not isinstance(keras_model, keras.Model):
        raise TypeError(f"keras_model must be a keras.Sequential or a functional keras.Model, got {type(keras_model).__name__}")
    leaves, blocks = [], []
    if isinstance(keras_model, keras.Sequential):
        if not keras_model.built or not keras_model.inputs:
            raise ValueError("keras_model must be built with a known input shape (start it with keras.Input(shape))")
        ours = []
        for keras_layer in keras_model.layers:
            for layer, layer_weights in _convert_layer(keras, keras_layer, keras_layer.name):
                ours.append(layer)
                leaves.append((layer, layer_weights))
    else:
        inputs, outputs = getattr(keras_model, "inputs", None), getattr(keras_model, "outputs", None)
        if not isinstance(inputs, list) or not isinstance(outputs, list):
            raise TypeError(
                f"keras_model must be a keras.Sequential or a functional keras.Model (made by calling layers on "
                f"keras.Input), got {type(keras_model).__name__}, a subclassed model with no graph of layers"
            )
        if len(inputs) != 1 or len(outputs) != 1:
            raise ValueError(f"keras_model must have one input and one output, got {len(inputs)} inputs and {len(outputs)} outputs")
        pieces = _GraphReader(keras).chain(outputs[0], inputs[0])
        keras_names = {layer.name for layer in keras_model.layers}
        names = [_piece_name(piece, keras_names) for piece in pieces]
        ours = _convert_pieces(keras, pieces, names, names, keras_names, leaves, blocks)
    if not ours:
        raise ValueError("keras_model has no layer to convert (augmentation layers and Activation('linear') are left out)")
    if dtype is None:
        dtype = next((layer.dtype for layer in keras_model.layers if layer.weights), "float32")
    converted = model.Sequential(ours, tuple(keras_model.inputs[0].shape[1:]), dtype=dtype)
    for residual, add, projection in blocks:  # before any weights, which a block of another shape would not fit
        _check_projection(residual, add, projection)
    for layer, layer_weights in leaves:
        layer.set_weights(layer_weights)
    for residual, _, projection in blocks:
        if projection is not None:
            weights = projection.get_weights()
            if not projection.get_config().get("use_bias", True):
                weights.append(np.zeros(weights[0].shape[-1], dtype=weights[0].dtype))
            residual.projection.set_weights(weights)
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
    path. :func:`from_keras` reads such a model back into the same blocks,
    names and weights (``from_keras(to_keras(s, logits=True))`` is ``s`` again).

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
