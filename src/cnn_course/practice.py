"""The small experiments of the chapter "Training CNNs in practice".

Introduced in the chapter "Training CNNs in practice". It holds what that
chapter builds to keep its experiments short and alike:

- :func:`split_subset`: a small training set and a separate validation set;
- :func:`build_small_cnn`: the CNN that overfits 1,000 images, with optional
  dropout, augmentation and weight decay (L2);
- :func:`build_deep_dense`: a deep stack of dense ReLU layers, with or without
  batch normalization;
- :func:`build_deep_cnn`: a deep stack of 3 x 3 convolutions, plain or
  residual, with or without batch normalization, on downsampled digits;
- :func:`train_on_subset`: one Keras training run with fixed seeds;
- :func:`recompute_batch_norm_statistics`: a trained network's batch
  normalization statistics measured afresh over some training images;
- :func:`relu_stack_statistics`: the standard
  deviation of the activations of a deep ReLU stack at initialisation;
- :func:`show_histories`, :func:`show_schedules` and :func:`show_layer_statistics`: the
  chapter's figures;
- :func:`separable_conv_params` and :func:`separable_conv_macs`: the costs of a
  depthwise-separable convolution by formula.

Arrays are channels-last, like Keras's: images ``(N, H, W, C)``.
"""


import matplotlib.pyplot as plt
import numpy as np

from cnn_course import activations, checks, initializers
from cnn_course.quiet_tensorflow import import_tensorflow

__all__ = [
    "split_subset",
    "build_small_cnn",
    "build_deep_dense",
    "build_deep_cnn",
    "train_on_subset",
    "recompute_batch_norm_statistics",
    "relu_stack_statistics",
    "show_histories",
    "show_schedules",
    "show_layer_statistics",
    "separable_conv_params",
    "separable_conv_macs",
]


def split_subset(images, labels, train_count, validation_count, seed=0):
    """Draw a small training set and a separate validation set, without overlap.

    Parameters
    ----------
    images : ndarray of shape (N, ...)
    labels : ndarray of shape (N,)
    train_count, validation_count : int
        How many examples each set gets; together at most N.
    seed : int, default 0
        Seeds the random permutation.

    Returns
    -------
    (x_train, y_train), (x_validation, y_validation) : tuples of ndarray
        ``train_count`` and ``validation_count`` examples, in random order.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if labels.shape != images.shape[:1]:
        raise ValueError(f"labels must have shape ({len(images)},) to match images of shape {images.shape}, got shape {labels.shape}")
    train_count = checks.check_int(train_count, "train_count", 1)
    validation_count = checks.check_int(validation_count, "validation_count", 1)
    if train_count + validation_count > len(images):
        raise ValueError(
            f"train_count + validation_count must be at most the {len(images)} images, got {train_count} + {validation_count}"
        )
    order = np.random.default_rng(seed).permutation(len(images))
    train, validation = order[:train_count], order[train_count:train_count + validation_count]
    return (images[train], labels[train]), (images[validation], labels[validation])


def build_small_cnn(dropout=0.0, shift=0.0, weight_decay=0.0, filters=(16, 32), hidden_units=64):
    """A small Keras CNN for 28 x 28 digits, with the three regularisers of the chapter as options.

    ``[RandomTranslation] -> Conv2D 3x3 -> ReLU -> MaxPool 2 -> Conv2D 3x3 ->
    ReLU -> MaxPool 2 -> Flatten -> [Dropout] -> Dense ReLU -> [Dropout] ->
    Dense softmax``, "valid" convolutions. Each regulariser is off at its
    default of 0.

    Parameters
    ----------
    dropout : float, default 0.0
        Rate of the two dropout layers (none when 0).
    shift : float, default 0.0
        Largest random shift of a training image, a fraction of its size
        (``RandomTranslation``; none when 0): data augmentation.
    weight_decay : float, default 0.0
        L2 penalty ``weight_decay * sum(w ** 2)`` on every kernel, added to the loss.
    filters : tuple of (int, int), default (16, 32)
    hidden_units : int, default 64

    Returns
    -------
    keras.Model
        Input (N, 28, 28, 1), output (N, 10) probabilities.
    """
    for name, value in (("dropout", dropout), ("shift", shift), ("weight_decay", weight_decay)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    _, keras = import_tensorflow()
    layers = keras.layers
    regularizer = keras.regularizers.L2(weight_decay) if weight_decay else None
    stack = [keras.Input((28, 28, 1), name="image")]
    if shift:
        stack.append(layers.RandomTranslation(shift, shift, fill_mode="constant", name="random_shift"))
    stack += [
        layers.Conv2D(filters[0], 3, activation="relu", kernel_regularizer=regularizer, name="conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Conv2D(filters[1], 3, activation="relu", kernel_regularizer=regularizer, name="conv2"),
        layers.MaxPooling2D(2, name="pool2"),
        layers.Flatten(name="flatten"),
    ]
    if dropout:
        stack.append(layers.Dropout(dropout, name="dropout1"))
    stack.append(layers.Dense(hidden_units, activation="relu", kernel_regularizer=regularizer, name="hidden"))
    if dropout:
        stack.append(layers.Dropout(dropout, name="dropout2"))
    stack.append(layers.Dense(10, activation="softmax", kernel_regularizer=regularizer, name="probabilities"))
    return keras.Sequential(stack, name="small_cnn")


def build_deep_dense(depth, width=64, batch_norm=False, initializer="he_normal", momentum=0.99):
    """A deep stack of dense ReLU layers on the flattened digit, with or without batch normalization.

    Flatten (784) -> ``depth`` times [Dense(width) -> (BatchNormalization) ->
    ReLU] -> Dense(10, softmax): the plain deep network of the chapter's
    initialisation and batch-normalization experiments.

    Parameters
    ----------
    depth : int
        Number of hidden layers, at least 1.
    width : int, default 64
    batch_norm : bool, default False
        A ``BatchNormalization`` after every hidden Dense layer (whose bias is then dropped).
    initializer : str, default "he_normal"
        Keras's name of the kernels' initializer, e.g. ``"glorot_uniform"``.
    momentum : float, default 0.99
        The batch-normalization layers' momentum (Keras's default); a short
        run needs a smaller one for its running statistics to catch up.

    Returns
    -------
    keras.Model
        Input (N, 28, 28, 1), output (N, 10) probabilities.
    """
    depth = checks.check_int(depth, "depth", 1)
    width = checks.check_int(width, "width", 1)
    _, keras = import_tensorflow()
    layers = keras.layers
    stack = [keras.Input((28, 28, 1), name="image"), layers.Flatten(name="flatten")]
    for index in range(1, depth + 1):
        stack.append(layers.Dense(width, use_bias=not batch_norm, kernel_initializer=initializer, name=f"dense{index}"))
        if batch_norm:
            stack.append(layers.BatchNormalization(momentum=momentum, name=f"bn{index}"))
        stack.append(layers.ReLU(name=f"relu{index}"))
    stack.append(layers.Dense(10, activation="softmax", kernel_initializer=initializer, name="probabilities"))
    return keras.Sequential(stack, name=f"deep_dense{'_bn' if batch_norm else ''}_{depth}")


def build_deep_cnn(depth, width=16, batch_norm=False, residual=False, initializer="he_normal", pool=2):
    """A deep stack of 3 x 3 convolutions on downsampled digits: plain or residual, with or without batch norm.

    ``AveragePooling2D(pool)`` (28 x 28 -> 28 / pool) -> ``depth`` times
    [Conv2D(width, 3, "same") -> (BatchNormalization) -> ReLU] ->
    GlobalAveragePooling2D -> Dense(10, softmax). With ``residual=True`` the
    convolutions after the first come in pairs, each pair ``F`` wrapped as
    ``relu(x + F(x))`` (identity shortcut), so ``depth`` must then be odd.

    Parameters
    ----------
    depth : int
        Number of convolutions, at least 1.
    width : int, default 16
        Channels of every convolution.
    batch_norm : bool, default False
        A ``BatchNormalization`` after every convolution (whose bias is then dropped).
    residual : bool, default False
    initializer : str, default "he_normal"
        Keras's name of the kernels' initializer, e.g. ``"glorot_uniform"``.
    pool : int, default 2
        The downsampling of the input, to keep the experiments fast.

    Returns
    -------
    keras.Model
        Input (N, 28, 28, 1), output (N, 10) probabilities.
    """
    depth = checks.check_int(depth, "depth", 1)
    if residual and depth % 2 == 0:
        raise ValueError(f"depth must be odd with residual=True (a first convolution, then pairs), got {depth}")
    _, keras = import_tensorflow()
    layers = keras.layers

    def conv(x, index, relu=True):
        x = layers.Conv2D(width, 3, padding="same", use_bias=not batch_norm,
                          kernel_initializer=initializer, name=f"conv{index}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"bn{index}")(x)
        return layers.ReLU(name=f"relu{index}")(x) if relu else x

    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.AveragePooling2D(pool, name="downsample")(inputs)
    x = conv(x, 1)
    index = 1
    while index < depth:
        if residual:
            inner = conv(conv(x, index + 1), index + 2, relu=False)
            x = layers.ReLU(name=f"block{index // 2 + 1}_relu")(layers.Add(name=f"block{index // 2 + 1}_add")([x, inner]))
            index += 2
        else:
            x = conv(x, index + 1)
            index += 1
    x = layers.GlobalAveragePooling2D(name="global_average")(x)
    outputs = layers.Dense(10, activation="softmax", kernel_initializer=initializer, name="probabilities")(x)
    kind = ("residual" if residual else "plain") + ("_bn" if batch_norm else "")
    return keras.Model(inputs, outputs, name=f"deep_{kind}_{depth}")


def train_on_subset(build, train, validation, epochs, optimizer, seed=0, batch_size=64):
    """Build a Keras model with fixed seeds and train it; return its per-epoch history.

    Parameters
    ----------
    build : callable
        ``build()`` returns the untrained model (called after the seeds are set,
        so the initial weights are the seed's).
    train, validation : tuple of (ndarray of shape (N, 28, 28, 1), ndarray of shape (N,))
        Images scaled to [0, 1] and their digits.
    epochs : int
    optimizer : callable
        ``optimizer()`` returns a fresh Keras optimizer, e.g.
        ``lambda: keras.optimizers.Adam(1e-3)``.
    seed : int, default 0
        Seeds Python, NumPy and TensorFlow (weights, shuffling, augmentation, dropout).
    batch_size : int, default 64

    Returns
    -------
    dict of str to list of float
        ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` per epoch.
    """
    epochs = checks.check_int(epochs, "epochs", 1)
    _, keras = import_tensorflow()
    keras.utils.set_random_seed(seed)
    model = build()
    model.compile(optimizer=optimizer(), loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=False)
    history = model.fit(*train, validation_data=validation, epochs=epochs, batch_size=batch_size, verbose=0)
    return {key: [float(value) for value in values] for key, values in history.history.items()}


def recompute_batch_norm_statistics(keras_model, images, batch_size=500):
    """Set each ``BatchNormalization``'s running statistics to the mean and variance of its inputs over ``images``.

    After a short training, the running statistics (an average of the
    batches' statistics that keeps ``momentum`` = 0.99 of its old value at
    each step) still remember their starting values 0 and 1 and the early
    weights. This measures them afresh, at inference: layer by layer in the
    model's order, so each layer sees the earlier ones with their new
    statistics; over every image and pixel, per channel, accumulated in float64.
    The trained weights (gamma, beta and the rest) do not change.

    Parameters
    ----------
    keras_model : keras.Model
        A trained model with at least one ``BatchNormalization`` layer.
    images : ndarray of shape (N, *input_shape)
        Inputs as the model takes them (training images, not test images).
    batch_size : int, default 500
        Images per forward pass.

    Returns
    -------
    dict of str to tuple of (ndarray of shape (C,), ndarray of shape (C,))
        For each layer's name, its old running variance and the new one.
    """
    _, keras = import_tensorflow()
    if not isinstance(keras_model, keras.Model):
        raise TypeError(f"keras_model must be a keras.Model, got {type(keras_model).__name__}")
    norms = [layer for layer in keras_model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    if not norms:
        raise ValueError(f"keras_model {keras_model.name!r} has no BatchNormalization layer")
    images = np.asarray(images)
    needed = tuple(keras_model.inputs[0].shape[1:])
    if images.ndim != len(needed) + 1 or images.shape[1:] != needed or not len(images):
        raise ValueError(f"images must have shape (N, {', '.join(map(str, needed))}) with N >= 1, got shape {images.shape}")
    batch_size = checks.check_int(batch_size, "batch_size", 1)
    changed = {}
    for layer in norms:
        inputs_of = keras.Model(keras_model.input, layer.input)  # the network up to this layer
        count, sums, squares = 0, 0.0, 0.0
        for start in range(0, len(images), batch_size):
            x = np.asarray(inputs_of(images[start : start + batch_size], training=False), dtype=np.float64)
            x = x.reshape(-1, x.shape[-1])  # every pixel of every image, per channel
            count, sums, squares = count + len(x), sums + x.sum(axis=0), squares + (x**2).sum(axis=0)
        mean = sums / count
        variance = np.maximum(squares / count - mean**2, 0.0)
        changed[layer.name] = (np.array(layer.moving_variance.numpy(), dtype=np.float64), variance)
        layer.moving_mean.assign(mean.astype(layer.moving_mean.dtype))
        layer.moving_variance.assign(variance.astype(layer.moving_variance.dtype))
    return changed


def relu_stack_statistics(x, depth, width, initializer, rng):
    """The standard deviation of every layer's output in a deep stack of dense ReLU layers, at initialisation.

    Each layer is ``relu(h @ W)`` (biases 0, as Keras starts them) with
    ``W`` of shape ``(D_in, width)`` drawn by ``initializer``.

    Parameters
    ----------
    x : ndarray of shape (N, D)
        The input batch.
    depth : int
        Number of layers.
    width : int
        Units of every layer.
    initializer : callable
        ``initializer(shape, rng)``, e.g. :func:`cnn_course.initializers.he_normal` or
        :func:`cnn_course.initializers.glorot_uniform`.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of shape (depth,)
        The standard deviation of layer 1's, 2's, ... outputs over the batch and the units.
    """
    x = checks.as_float_array(x, "x")
    if x.ndim != 2:
        raise ValueError(f"x must have shape (N, D), got shape {x.shape}")
    depth = checks.check_int(depth, "depth", 1)
    width = checks.check_int(width, "width", 1)
    spreads = []
    for _ in range(depth):
        x = activations.relu(x @ initializer((x.shape[1], width), rng, dtype="float64"))
        spreads.append(x.std())
    return np.array(spreads)


def show_histories(histories, metric="accuracy", title=None):
    """Training (solid) and validation (dashed) curves of several runs, one colour per run, one panel.

    Parameters
    ----------
    histories : dict of str to dict
        Run name -> Keras ``History.history`` dict with ``metric`` and ``"val_" + metric``.
    metric : str, default "accuracy"
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not histories:
        raise ValueError("histories must hold at least one run, got an empty dict")
    figure, axis = plt.subplots(figsize=(7, 4))
    for index, (name, history) in enumerate(histories.items()):
        missing = [key for key in (metric, f"val_{metric}") if key not in history]
        if missing:
            raise ValueError(f"run {name!r} lacks {missing}; it has {sorted(history)}")
        colour = f"C{index}"
        epochs = np.arange(1, len(history[metric]) + 1)
        axis.plot(epochs, history[metric], "-", color=colour, label=f"{name}: training")
        axis.plot(epochs, history[f"val_{metric}"], "--", color=colour, label=f"{name}: validation")
    axis.set_xlabel("epoch")
    axis.set_ylabel(metric)
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small", ncol=2)
    if title:
        axis.set_title(title)
    figure.tight_layout()
    return figure


def show_schedules(schedules, steps, marks=()):
    """The learning rate of each schedule, step by step.

    Parameters
    ----------
    schedules : dict of str to callable
        Name -> schedule: ``schedule(step)`` returns the learning rate, as a
        ``keras.optimizers.schedules.LearningRateSchedule`` does.
    steps : int
        Plot steps 0 to ``steps - 1``.
    marks : sequence of int, default ()
        Steps to mark with a vertical dotted line (epoch boundaries).

    Returns
    -------
    matplotlib.figure.Figure
    """
    steps = checks.check_int(steps, "steps", 1)
    figure, axis = plt.subplots(figsize=(7, 3.5))
    step_numbers = np.arange(steps)
    for name, schedule in schedules.items():
        axis.plot(step_numbers, [float(schedule(int(step))) for step in step_numbers], label=name)
    for mark in marks:
        axis.axvline(mark, color="grey", linestyle=":", linewidth=1)
    axis.set_xlabel("training step (batch)")
    axis.set_ylabel("learning rate")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    return figure


def show_layer_statistics(statistics, ylabel="standard deviation of the layer's output"):
    """One line per initialiser: a statistic of each layer, on a logarithmic scale.

    Parameters
    ----------
    statistics : dict of str to ndarray of shape (depth,)
        Name -> one value per layer, e.g. from :func:`relu_stack_statistics`.
    ylabel : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    figure, axis = plt.subplots(figsize=(7, 3.5))
    for marker, (name, values) in zip("os^v", statistics.items()):
        axis.semilogy(np.arange(1, len(values) + 1), values, marker + "-", label=name)
    axis.set_xlabel("layer")
    axis.set_ylabel(ylabel)
    axis.grid(alpha=0.3, which="both")
    axis.legend()
    figure.tight_layout()
    return figure


def separable_conv_params(kernel_size, in_channels, out_channels, bias=True):
    """Parameters of a depthwise-separable convolution (Keras's ``SeparableConv2D``).

    A depthwise ``kernel_size`` x ``kernel_size`` convolution, one filter per
    input channel (``k k C_in`` weights), then a pointwise 1 x 1 convolution
    (``C_in C_out`` weights), and ``C_out`` biases.

    Parameters
    ----------
    kernel_size, in_channels, out_channels : int
    bias : bool, default True

    Returns
    -------
    int
    """
    k = checks.check_int(kernel_size, "kernel_size", 1)
    c_in = checks.check_int(in_channels, "in_channels", 1)
    c_out = checks.check_int(out_channels, "out_channels", 1)
    return k * k * c_in + c_in * c_out + (c_out if bias else 0)


def separable_conv_macs(height, width, kernel_size, in_channels, out_channels):
    """Multiply-accumulates of a depthwise-separable convolution for one example.

    ``H' W' (k k C_in + C_in C_out)`` for an output of ``H' x W'`` pixels:
    the depthwise part's ``k k`` per input channel and pixel, the pointwise
    part's ``C_in C_out`` per pixel; a full convolution needs
    ``H' W' k k C_in C_out``.

    Parameters
    ----------
    height, width : int
        The output's size.
    kernel_size, in_channels, out_channels : int

    Returns
    -------
    int
    """
    height = checks.check_int(height, "height", 1)
    width = checks.check_int(width, "width", 1)
    k = checks.check_int(kernel_size, "kernel_size", 1)
    c_in = checks.check_int(in_channels, "in_channels", 1)
    c_out = checks.check_int(out_channels, "out_channels", 1)
    return height * width * (k * k * c_in + c_in * c_out)
