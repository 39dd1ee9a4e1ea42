"""A sequential model: layers applied one after the other, for the forward pass and for training.

Introduced in the chapter "Putting it together" (``forward``, ``describe``,
``summary``) and trained from the chapter "Learning from scratch" on
(``fit``, ``evaluate``, ``predict``). ``Sequential`` chains the layers of
``cnn_course.layers``. Its last layer gives logits, or probabilities when it
is a ``Softmax``; either way the loss is the softmax cross-entropy of the
logits (like Keras's ``SparseCategoricalCrossentropy(from_logits=True)``),
and training is mini-batch gradient descent with an optimizer of
``cnn_course.optimizers``.
"""

import collections
import math
import sys

import numpy as np
import tqdm

from cnn_course import checks, gradients, layers, losses, ops
from cnn_course.progress import PROGRESS_FORMAT, progress_stream

__all__ = ["Sequential", "LayerRecord"]

LayerRecord = collections.namedtuple(
    "LayerRecord",
    ["name", "kind", "output_shape", "parameters", "activations", "macs", "receptive_field", "jump", "start"],
)
LayerRecord.__doc__ = """One row of ``Sequential.describe()``.

name, kind : str
    The layer's name and class name.
output_shape : tuple of int
    One example's output, no batch axis.
parameters : int
    Trainable numbers (not BatchNorm's moving statistics, which
    ``summary`` counts as non-trainable params).
activations : int
    The numbers the layer outputs for one example (the product of
    ``output_shape``); times the batch size and the bytes per number it is
    the memory the output takes.
macs : int
    Multiply-accumulates for one example: ``H' W' kh kw C_in C_out`` for a
    convolution, ``D_in D_out`` for a dense layer, one per output number for
    a ``BatchNorm`` (its cost at inference), the sum of its layers' for a
    ``Residual`` block, 0 for every other layer.
receptive_field, jump : tuple of (int, int) or None
    The input pixels (rows, columns) one output cell sees, and the input
    pixels between two neighbouring output cells, by ``r <- r + (k - 1) j``
    and ``j <- j s`` (``k`` the span of the window, ``d (k - 1) + 1`` when
    dilated); None once the output is not spatial.
start : tuple of (int, int) or None
    The input pixel (row, column) at the top-left corner of output cell
    ``(0, 0)``'s receptive field, by ``start <- start - p j`` with ``p`` the
    zeros padded above/left: negative when the field reaches into padding.
    Output cell ``(i, j)`` sees input rows ``start[0] + i jump[0]`` to
    ``start[0] + i jump[0] + receptive_field[0] - 1`` (and so for columns).
"""


class Sequential:
    """Layers applied one after the other, run forward and trained end to end by backpropagation.

    Parameters
    ----------
    layer_list : list of cnn_course.layers.Layer
        The layers, first first. To train or predict classes the last one
        must output ``(K,)``: logits, or probabilities from a final ``Softmax``.
    input_shape : tuple of int
        One example's shape without the batch axis, e.g. ``(28, 28, 1)``.
    seed : int, default 0
        Seeds the generator of the initial weights and of dropout masks.
    dtype : str or numpy.dtype, default "float32"
        The parameters' type; float32 is about twice as fast as float64.

    Attributes
    ----------
    layers : list of Layer
        The caller's layer objects, built here (their ``name`` is left as given).
    names : list of str
        Each layer's name: the one it was given, or its ``default_name`` and
        its number among the layers of its kind (``conv1``, ``relu1``,
        ``max_pool1``, ``conv2``, ...).

    Raises
    ------
    ValueError
        If a layer cannot take the shape the layer before it gives (the
        message names the layer and the shape).
    """

    def __init__(self, layer_list, input_shape, seed=0, dtype="float32"):
        if not isinstance(layer_list, (list, tuple)):
            raise TypeError(f"layer_list must be a list of layers, got {type(layer_list).__name__}")
        if not layer_list:
            raise ValueError("layer_list must hold at least one layer, got an empty list")
        if not isinstance(input_shape, (tuple, list)):
            raise ValueError(f"input_shape must be a tuple of positive ints, one example's shape such as (28, 28, 1), got {input_shape!r}")
        counts = collections.Counter()
        names = []
        for index, layer in enumerate(layer_list):
            if not isinstance(layer, layers.Layer):
                raise TypeError(f"layer_list[{index}] must be a layer of cnn_course.layers, got {type(layer).__name__}")
            if layer.input_shape is not None:
                # Building it again would silently replace the weights of the model that holds it.
                raise ValueError(f"layer_list[{index}] ({type(layer).__name__}) already belongs to a model; make a new layer")
            counts[type(layer)] += 1
            names.append(layer.name or f"{layer.default_name}{counts[type(layer)]}")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"layer names must be unique, got {repeated} more than once")
        self.layers, self.names = list(layer_list), names
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        shape = tuple(input_shape)
        self.input_shape = shape
        for index, (layer, name) in enumerate(zip(self.layers, names)):
            try:
                shape = layer.build(shape, rng, self.dtype)
            except ValueError as error:
                raise ValueError(f"layer {index} ({name!r}): {error}") from error
        self.output_shape = shape

    def _check_classifier(self):
        """Training, predict and evaluate need ``(K,)`` scores per example (a classifier)."""
        if len(self.output_shape) != 1:
            raise ValueError(
                f"the last layer must output logits of shape (K,) to train or predict classes, got "
                f"{self.output_shape}; end with a Dense layer"
            )

    # The layers that compute the logits: all but a final Softmax.
    def _logit_layers(self):
        return self.layers[:-1] if isinstance(self.layers[-1], layers.Softmax) else self.layers

    def get_layer(self, name):
        """The layer called ``name`` (see ``names``)."""
        if name not in self.names:
            raise ValueError(f"no layer is called {name!r}; the layers are {self.names}")
        return self.layers[self.names.index(name)]

    def describe(self):
        """One :class:`LayerRecord` per layer: shape, parameters, activations, MACs and receptive field.

        Returns
        -------
        list of LayerRecord
        """
        records = []
        field, jump, start = (1, 1), (1, 1), (0, 0)
        for name, layer in zip(self.names, self.layers):
            window = layer.window() if field is not None else None
            if window is None:
                field = jump = start = None
            else:
                (kh, kw), (sh, sw) = window
                top, left = layer.padding_before()
                field = (field[0] + (kh - 1) * jump[0], field[1] + (kw - 1) * jump[1])
                start = (start[0] - top * jump[0], start[1] - left * jump[1])
                jump = (jump[0] * sh, jump[1] * sw)
            records.append(LayerRecord(
                name, type(layer).__name__, layer.output_shape, layer.count_params(),
                math.prod(layer.output_shape), layer.macs(), field, jump, start,
            ))
        return records

    def receptive_window(self, name, row, column):
        """The input pixels that output cell ``(row, column)`` of layer ``name`` depends on.

        Introduced in the chapter "Putting it together", from the recurrence
        of "Padding and stride".

        Parameters
        ----------
        name : str
            A layer with a spatial output (see ``names``).
        row, column : int
            An output cell of that layer.

        Returns
        -------
        rows, columns : tuple of (int, int)
            ``(first, last + 1)`` input rows and columns, like a slice. They
            may reach outside the image (``first < 0`` or ``last >= H``) where
            the layers pad: those pixels are padding zeros.
        """
        records = {record.name: record for record in self.describe()}
        if name not in records:
            raise ValueError(f"no layer is called {name!r}; the layers are {self.names}")
        record = records[name]
        if record.receptive_field is None:
            raise ValueError(f"layer {name!r} outputs {record.output_shape}, not an image: its cells have no window")
        spans = []
        for axis, index in (("row", row), ("column", column)):
            limit = record.output_shape[0 if axis == "row" else 1]
            index = checks.check_int(index, axis, 0)
            if index >= limit:
                raise ValueError(f"{axis} must be below {limit}, the output's {'height' if axis == 'row' else 'width'}, got {index}")
            a = 0 if axis == "row" else 1
            first = record.start[a] + index * record.jump[a]
            spans.append((first, first + record.receptive_field[a]))
        return tuple(spans)

    def summary(self):
        """A table of the layers like Keras's ``model.summary()``, with activations, MACs and receptive fields, as a string.

        The "Param #" column counts trainable numbers. A model with
        non-trainable numbers (BatchNorm's moving statistics) ends as Keras's
        summary does, with "Total params" (all of them), "Trainable params"
        and "Non-trainable params"; a model without ends with "Total params"
        alone. A ``Residual`` block is one row.
        """
        records = self.describe()
        rows = [("Layer (type)", "Output shape", "Param #", "Activations", "MACs", "Receptive field")]
        for record in records:
            field = f"{record.receptive_field[0]} x {record.receptive_field[1]}" if record.receptive_field else "-"
            rows.append((f"{record.name} ({record.kind})", str((None,) + record.output_shape),
                         f"{record.parameters:,}", f"{record.activations:,}", f"{record.macs:,}", field))
        widths = [max(len(row[column]) for row in rows) + 3 for column in range(len(rows[0]))]
        lines = [row[0].ljust(widths[0]) + row[1].ljust(widths[1]) + "".join(cell.rjust(width) for cell, width in zip(row[2:], widths[2:]))
                 for row in rows]
        rule = "=" * len(lines[0])
        trainable, kept = sum(r.parameters for r in records), self.count_state()
        totals = [f"Total params: {trainable + kept:,}"]
        if kept:
            totals += [f"Trainable params: {trainable:,}", f"Non-trainable params: {kept:,}"]
        totals.append(f"Total MACs per example: {sum(r.macs for r in records):,}")
        return "\n".join([lines[0], rule, *lines[1:], rule, *totals])

    def count_params(self):
        """The number of trainable numbers in all layers."""
        return sum(layer.count_params() for layer in self.layers)

    def count_state(self):
        """The number of numbers kept but not trained in all layers (BatchNorm's moving statistics)."""
        return sum(layer.count_state() for layer in self.layers)

    def parameters(self):
        """Every trainable array with its gradient.

        Returns
        -------
        list of (str, ndarray, ndarray)
            ``(key, value, gradient)`` with keys like ``"conv1/kernel"`` (and
            ``"residual1/conv1/kernel"`` inside a ``Residual`` block); the
            arrays are the layers' own, so updating ``value`` in place trains.
            BatchNorm's moving statistics are not among them: they are not
            trained, a training forward pass updates them.
        """
        return [
            (f"{name}/{key}", layer.params[key], layer.grads[key])
            for name, layer in zip(self.names, self.layers)
            for key in layer.params
        ]

    def get_weights(self):
        """Every parameter, layer after layer, in the order of Keras's ``model.get_weights()``.

        A ``BatchNorm`` gives its moving statistics too, after its gamma and
        beta, as Keras does; a ``Residual`` block its inner layers' arrays.
        """
        return [value for layer in self.layers for value in layer.get_weights()]

    def set_weights(self, weights):
        """Copy ``weights`` (in ``get_weights`` order, as Keras's ``set_weights``) into the layers, in place."""
        weights = list(weights)
        counts = [len(layer.get_weights()) for layer in self.layers]
        if len(weights) != sum(counts):
            what = "kernel and bias of each layer" if not self.count_state() else "each layer's get_weights(), moving statistics included"
            raise ValueError(f"set_weights needs {sum(counts)} arrays ({what}), got {len(weights)}")
        start = 0
        for name, layer, count in zip(self.names, self.layers, counts):
            try:
                layer.set_weights(weights[start : start + count])
            except ValueError as error:
                raise ValueError(f"layer {name!r}: {error}") from error
            start += count

    def _check_data(self, x, y, x_name, y_name):
        x = checks.as_float_array(x, x_name).astype(self.dtype, copy=False)
        if x.ndim < 1 or x.shape[1:] != self.input_shape:
            raise ValueError(
                f"{x_name} must have shape (N, {', '.join(map(str, self.input_shape))}) for this model, got shape {x.shape}"
            )
        if y is not None:
            y = np.asarray(y)
            if y.shape != (x.shape[0],) or y.dtype.kind not in "iu":
                raise ValueError(
                    f"{y_name} must be integer class labels of shape (N,) = ({x.shape[0]},), "
                    f"got {y.dtype} labels of shape {y.shape}"
                )
        return x, y

    def forward(self, x, training=False):
        """The last layer's output for a batch, shape (N, K): logits, or probabilities after a Softmax.

        With ``training=True`` dropout is active and every layer keeps what
        ``backward`` needs.
        """
        x, _ = self._check_data(x, None, "x", None)
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def outputs(self, x):
        """Every layer's output for a batch, at inference: a dict from layer name to array, in order."""
        x, _ = self._check_data(x, None, "x", None)
        found = {}
        for name, layer in zip(self.names, self.layers):
            x = layer.forward(x)
            found[name] = x
        return found

    def logits(self, x, training=False):
        """The logits for a batch, shape (N, K): the output before a final Softmax, if there is one."""
        x, _ = self._check_data(x, None, "x", None)
        for layer in self._logit_layers():
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad_logits):
        """Backpropagate the gradient of the loss with respect to the logits through every layer.

        Needs a ``logits(x, training=True)`` (or ``forward``) pass first. Fills
        each layer's ``grads``. The first layer skips the gradient with respect
        to the images, which nothing uses.
        """
        logit_layers = self._logit_layers()
        grad = grad_logits
        for index in range(len(logit_layers) - 1, -1, -1):
            try:
                grad = logit_layers[index].backward(grad, need_grad_input=index > 0)
            except (RuntimeError, ValueError) as error:
                raise type(error)(f"layer {index} ({self.names[index]!r}): {error}") from error

    def train_step(self, x, y, optimizer):
        """One gradient step on one batch.

        Parameters
        ----------
        x : ndarray of shape (N, *input_shape)
        y : ndarray of int, shape (N,)
        optimizer : cnn_course.optimizers.Optimizer

        Returns
        -------
        loss : float
            The batch's mean loss *before* the step.
        correct : int
            How many of the batch's predictions were right before the step.
        """
        self._check_classifier()
        logits = self.logits(x, training=True)
        loss, probabilities = losses.softmax_cross_entropy(logits, y)
        self.backward(gradients.softmax_cross_entropy_backward(probabilities, y))
        optimizer.step(self.parameters())
        return loss, int(np.count_nonzero(logits.argmax(axis=1) == y))

    def fit(self, x, y, optimizer, epochs=1, batch_size=32, validation_data=None, shuffle=True, seed=0, progress=True):
        """Train with mini-batches for a number of epochs, like Keras's ``model.fit``.

        Parameters
        ----------
        x : ndarray of shape (N, *input_shape)
        y : ndarray of int, shape (N,)
        optimizer : cnn_course.optimizers.Optimizer
        epochs : int, default 1
            Passes over the whole training set.
        batch_size : int, default 32
            Examples per gradient step; the last batch may be smaller.
        validation_data : tuple of (ndarray, ndarray), optional
            ``(x_val, y_val)``, evaluated after every epoch.
        shuffle : bool, default True
            Visit the examples in a new random order every epoch.
        seed : int, default 0
            Seeds the shuffling, so a run can be repeated exactly.
        progress : bool, default True
            Show a progress bar per epoch (tqdm, on standard output).

        Returns
        -------
        dict of str to list of float
            Per epoch: ``"loss"`` and ``"accuracy"`` (means over the epoch's
            batches, measured while the weights were still changing, as Keras
            reports them), and ``"val_loss"`` and ``"val_accuracy"`` with
            ``validation_data``. Per batch, for a finer learning curve:
            ``"batch_loss"``, the loss of every batch of every epoch.
        """
        self._check_classifier()
        x, y = self._check_data(x, y, "x", "y")
        epochs = checks.check_int(epochs, "epochs", 1)
        batch_size = checks.check_int(batch_size, "batch_size", 1)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (x_val, y_val)")
            x_val, y_val = self._check_data(*validation_data, "validation_data[0]", "validation_data[1]")
        history = {"loss": [], "accuracy": [], "batch_loss": []}
        if validation_data is not None:
            history.update(val_loss=[], val_accuracy=[])
        rng = np.random.default_rng(seed)
        stream = progress_stream() if progress else sys.stdout
        count = x.shape[0]
        batches = math.ceil(count / batch_size)
        for epoch in range(epochs):
            order = rng.permutation(count) if shuffle else np.arange(count)
            bar = tqdm.tqdm(
                total=batches, desc=f"epoch {epoch + 1}/{epochs}", bar_format=PROGRESS_FORMAT,
                file=stream, disable=not progress, mininterval=1.0, ascii=False,
            )
            total_loss, correct = 0.0, 0
            for batch in range(batches):
                index = order[batch * batch_size : (batch + 1) * batch_size]
                loss, right = self.train_step(x[index], y[index], optimizer)
                history["batch_loss"].append(loss)
                total_loss += loss * len(index)
                correct += right
                seen = min((batch + 1) * batch_size, count)
                bar.set_postfix_str(f"loss {total_loss / seen:.4f}, accuracy {correct / seen:.4f}", refresh=False)
                bar.update(1)
            history["loss"].append(total_loss / count)
            history["accuracy"].append(correct / count)
            summary = f"loss {history['loss'][-1]:.4f}, accuracy {history['accuracy'][-1]:.4f}"
            if validation_data is not None:
                val_loss, val_accuracy = self.evaluate(x_val, y_val)
                history["val_loss"].append(val_loss)
                history["val_accuracy"].append(val_accuracy)
                summary += f", val_loss {val_loss:.4f}, val_accuracy {val_accuracy:.4f}"
            bar.set_postfix_str(summary, refresh=False)
            bar.close()
        return history

    def _batched_logits(self, x, batch_size):
        """Logits of every example, a batch at a time so memory stays that of one batch."""
        self._check_classifier()
        batch_size = checks.check_int(batch_size, "batch_size", 1)
        if x.shape[0] == 0:
            raise ValueError(f"x must hold at least one example, got shape {x.shape}")
        return np.concatenate([self.logits(x[start : start + batch_size]) for start in range(0, x.shape[0], batch_size)])

    def predict(self, x, batch_size=500):
        """Class probabilities for every example, shape (N, K), at inference (dropout off).

        Parameters
        ----------
        x : ndarray of shape (N, *input_shape)
        batch_size : int, default 500
            Examples per step; bounds the memory (one batch's activations).

        Returns
        -------
        ndarray of shape (N, K)
        """
        x, _ = self._check_data(x, None, "x", None)
        return ops.softmax(self._batched_logits(x, batch_size), axis=1)

    def evaluate(self, x, y, batch_size=500):
        """Mean loss and accuracy on a data set, with dropout off.

        Parameters
        ----------
        x : ndarray of shape (N, *input_shape)
        y : ndarray of int, shape (N,)
        batch_size : int, default 500

        Returns
        -------
        loss : float
        accuracy : float
            The fraction of examples whose most probable class is the label.
        """
        x, y = self._check_data(x, y, "x", "y")
        logits = self._batched_logits(x, batch_size)
        loss, _ = losses.softmax_cross_entropy(logits, y)
        return loss, float(np.mean(logits.argmax(axis=1) == y))
