"""The Keras models of the MNIST chapter, and how they are trained.

Introduced in the chapter "MNIST: from one Dense layer to a CNN". The chapter
and ``benchmarks/mnist_cnn_training.py`` (which measures the training time)
both call these functions, so what is timed is exactly what the chapter runs.
"""

import math

import numpy as np

from cnn_course import quiet_tensorflow

_, keras = quiet_tensorflow.import_tensorflow()

__all__ = [
    "EpochLogger",
    "build_dense_baseline",
    "build_cnn",
    "build_residual_cnn",
    "batches_per_epoch",
    "train_cnn",
    "CNN_RECIPE",
]

# The CNN's training settings, in one place for the chapter, the benchmark and the tests.
CNN_RECIPE = {
    "epochs": 6,
    "batch_size": 128,
    "learning_rate": 3e-3,
    "validation_split": 0.1,
    "shift": 0.1,
    "dropout": 0.5,
    "hidden_units": 128,
}


class EpochLogger(keras.callbacks.Callback):
    """Print one line of metrics per epoch, without the timings of Keras's own progress bar.

    Keras's ``verbose=1`` and ``verbose=2`` print seconds per step, which change
    on every run; this prints only the metrics, e.g.
    ``epoch 3/6  accuracy 0.9871  loss 0.0412  val_accuracy 0.9912  val_loss 0.0301``.
    """

    def on_epoch_end(self, epoch, logs=None):
        metrics = "  ".join(f"{name} {value:.4f}" for name, value in (logs or {}).items() if name != "learning_rate")
        print(f"epoch {epoch + 1}/{self.params['epochs']}  {metrics}", flush=True)


def build_dense_baseline(activation="sigmoid"):
    """The single-Dense-layer model readers often meet first: 784 pixels to 10 outputs.

    Parameters
    ----------
    activation : {"sigmoid", "softmax"}, default "sigmoid"
        ``"sigmoid"`` gives ten independent yes/no scores; ``"softmax"`` one
        probability distribution over the ten digits.

    Returns
    -------
    keras.Sequential
        Input of shape (N, 784), output of shape (N, 10).
    """
    if activation not in ("sigmoid", "softmax"):
        raise ValueError(f"activation must be 'sigmoid' or 'softmax', got {activation!r}")
    return keras.Sequential(
        [keras.Input((784,)), keras.layers.Dense(10, activation=activation, name="dense")],
        name=f"dense_{activation}",
    )


def build_cnn(shift=CNN_RECIPE["shift"], dropout=CNN_RECIPE["dropout"], hidden_units=CNN_RECIPE["hidden_units"]):
    """Two conv -> ReLU -> pool blocks, then dropout, a hidden Dense layer, dropout and softmax.

    Sizes through the network ("valid" convolutions, output size
    ``size - kernel_size + 1``, then 2 x 2 pooling): 28 x 28 x 1 -> conv1
    24 x 24 x 32 -> pool1 12 x 12 x 32 -> conv2 8 x 8 x 64 -> pool2
    4 x 4 x 64 -> flatten 1024 -> hidden ``hidden_units`` -> 10.

    Parameters
    ----------
    shift : float, default 0.1
        Largest random shift of a training image, as a fraction of its size
        (``RandomTranslation``; it does nothing at inference).
    dropout : float, default 0.5
        Dropout rate before the last layer; the flattened features get half of it.
    hidden_units : int, default 128
        Width of the hidden ReLU ``Dense`` layer.

    Returns
    -------
    keras.Sequential
        Input of shape (N, 28, 28, 1), output of shape (N, 10): probabilities.
    """
    layers = keras.layers
    # "valid" convolutions: the padded border of "same" costs two to three times the
    # time on a CPU here (larger maps) and gained nothing measurable in accuracy.
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.RandomTranslation(shift, shift, fill_mode="constant", name="random_shift"),
            layers.Conv2D(32, 5, activation="relu", name="conv1"),
            layers.MaxPooling2D(2, name="pool1"),
            layers.Conv2D(64, 5, activation="relu", name="conv2"),
            layers.MaxPooling2D(2, name="pool2"),
            layers.Flatten(name="flatten"),
            layers.Dropout(dropout / 2, name="dropout1"),
            layers.Dense(hidden_units, activation="relu", name="hidden"),
            layers.Dropout(dropout, name="dropout2"),
            layers.Dense(10, activation="softmax", name="probabilities"),
        ],
        name="mnist_cnn",
    )


def _conv_bn_relu(x, filters, name, relu=True):
    """A 3 x 3 "same" convolution without bias (the batch norm's beta replaces it), batch norm, ReLU."""
    layers = keras.layers
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=name + "_bn")(x)
    return layers.ReLU(name=name + "_relu")(x) if relu else x


def _residual_block(x, filters, name):
    """``relu(shortcut(x) + F(x))``, F two conv-BN layers; the shortcut is a 1 x 1 convolution when the channels change."""
    layers = keras.layers
    shortcut = x if x.shape[-1] == filters else layers.Conv2D(filters, 1, name=name + "_projection")(x)
    y = _conv_bn_relu(x, filters, name + "_conv1")
    y = _conv_bn_relu(y, filters, name + "_conv2", relu=False)
    return layers.ReLU(name=name + "_relu")(layers.Add(name=name + "_add")([shortcut, y]))


def build_residual_cnn(shift=CNN_RECIPE["shift"], width=32):
    """A small ResNet for MNIST: batch normalization, three residual blocks, global average pooling.

    Introduced in the chapter "Training CNNs in practice". Sizes through the
    network ("same" 3 x 3 convolutions, 2 x 2 pooling): 28 x 28 x 1 -> stem
    28 x 28 x ``width`` -> pool 14 x 14 -> block1 14 x 14 x ``width`` -> pool
    7 x 7 -> block2 7 x 7 x ``2 width`` (1 x 1 projection on the shortcut) ->
    block3 7 x 7 x ``2 width`` -> global average 2 ``width`` -> 10. Each block
    is ``relu(x + F(x))`` with ``F`` = conv, batch norm, ReLU, conv, batch norm.
    With ``width=32`` it has 151,914 parameters, fewer than :func:`build_cnn`'s
    184,586, and no dropout: batch normalization and the shifts regularise it.

    Parameters
    ----------
    shift : float, default 0.1
        Largest random shift of a training image (``RandomTranslation``), as in :func:`build_cnn`.
    width : int, default 32
        Channels of the stem and of the first block; the later blocks have twice as many.

    Returns
    -------
    keras.Model
        A functional model: input of shape (N, 28, 28, 1), output of shape (N, 10): probabilities.
    """
    layers = keras.layers
    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.RandomTranslation(shift, shift, fill_mode="constant", name="random_shift")(inputs)
    x = _conv_bn_relu(x, width, "stem")
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = _residual_block(x, width, "block1")
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = _residual_block(x, 2 * width, "block2")
    x = _residual_block(x, 2 * width, "block3")
    x = layers.GlobalAveragePooling2D(name="global_average")(x)
    outputs = layers.Dense(10, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="mnist_residual_cnn")


def batches_per_epoch(image_count, batch_size=CNN_RECIPE["batch_size"],
                      validation_split=CNN_RECIPE["validation_split"]):
    """How many batches one epoch of ``train_cnn`` takes from ``image_count`` images.

    ``ceil(image_count * (1 - validation_split) / batch_size)``: the held-out
    images are not trained on, and the last batch may be smaller.
    """
    return math.ceil(image_count * (1 - validation_split) / batch_size)


def train_cnn(images, labels, seed, epochs=CNN_RECIPE["epochs"], batch_size=CNN_RECIPE["batch_size"],
              learning_rate=CNN_RECIPE["learning_rate"], validation_split=CNN_RECIPE["validation_split"],
              log=True, shift=CNN_RECIPE["shift"], build=build_cnn):
    """Build and train the CNN (or another model) with Adam and a cosine-decayed learning rate.

    Parameters
    ----------
    images : ndarray of shape (N, 28, 28, 1)
        Training images scaled to [0, 1], float32.
    labels : ndarray of shape (N,)
        Their digits.
    seed : int
        Seeds Python, NumPy and TensorFlow (weights, shuffling, shifts, dropout).
    epochs, batch_size, learning_rate, validation_split
        See :data:`CNN_RECIPE`; the last ``validation_split`` of the images is
        held out to draw the validation curve.
    log : bool, default True
        Print one line per epoch (:class:`EpochLogger`).
    shift : float, default 0.1
        The augmentation of :func:`build_cnn`; 0.0 trains on the digits as they are
        (the chapter's shift exercise compares the two).
    build : callable, default :func:`build_cnn`
        ``build(shift=...)`` returns the untrained Keras model; the chapter
        "Training CNNs in practice" passes :func:`build_residual_cnn`.

    Returns
    -------
    tuple of (keras.Model, dict)
        The trained model and its per-epoch history.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 4 or images.shape[1:] != (28, 28, 1):
        raise ValueError(
            f"images must have shape (N, 28, 28, 1), got shape {images.shape}; "
            "add the channel axis with images[..., np.newaxis]"
        )
    if images.dtype.kind != "f" or (images.size and images.max() > 1.0):
        raise ValueError(
            f"images must be floats scaled to [0, 1], got dtype {images.dtype} with maximum "
            f"{images.max() if images.size else None}; divide the uint8 pixels by 255"
        )
    if labels.shape != images.shape[:1]:
        raise ValueError(f"labels must have shape ({len(images)},) to match images, got shape {labels.shape}")
    if labels.dtype.kind not in "iu" or (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise ValueError(f"labels must be integer digits 0 to 9, got dtype {labels.dtype}")
    keras.utils.set_random_seed(seed)
    model = build(shift=shift)
    steps = batches_per_epoch(len(images), batch_size, validation_split) * epochs
    # Cosine decay: large steps early, then ever smaller ones to settle into a minimum.
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"],
        # Keras's default, jit_compile="auto", compiles with XLA, which trained these small
        # convolutional networks 1.5 to 2 times slower on this CPU than TensorFlow's own kernels.
        jit_compile=False,
    )
    history = model.fit(
        images, labels, batch_size=batch_size, epochs=epochs, validation_split=validation_split,
        verbose=0, callbacks=[EpochLogger()] if log else [],
    )
    return model, history.history
