"""A trainable sequential model: forward, backward, fit, evaluate, predict.

Introduced in the chapter "Learning from scratch". ``Sequential`` chains the
layers of ``cnn_course.layers``; its last layer gives logits, and the loss is
the softmax cross-entropy of those logits (like Keras's
``SparseCategoricalCrossentropy(from_logits=True)``). Training is mini-batch
gradient descent with an optimizer of ``cnn_course.optimizers``.
"""

import collections
import math
import sys

import numpy as np
import tqdm

from cnn_course import gradients, layers, ops, validation

__all__ = ["Sequential", "PROGRESS_FORMAT"]

# No elapsed time, remaining time or rate: outputs must not depend on the machine.
PROGRESS_FORMAT = "{desc} {percentage:3.0f}%|{bar:24}| {n_fmt}/{total_fmt} batches{postfix}"

_DEFAULT_NAMES = {
    layers.Conv2D: "conv",
    layers.MaxPool2D: "max_pool",
    layers.AvgPool2D: "avg_pool",
    layers.ReLU: "relu",
    layers.Flatten: "flatten",
    layers.Dense: "dense",
    layers.Dropout: "dropout",
}


class _NotebookLines:
    """A file for tqdm that shows its bars as one output updated in place.

    tqdm redraws a bar by writing ``"\\r"`` and the new text. A terminal
    overwrites the line, but a notebook stores every redraw as separate text,
    and a rendered page shows them all. Here the finished bars (one per
    epoch) and the current one form a single display output, replaced at
    every redraw, so only the final state is kept.
    """

    encoding = "utf-8"

    def __init__(self):
        self._finished = []
        self._current = ""
        self._handle = None

    def write(self, text):
        for index, piece in enumerate(text.split("\n")):
            if index > 0 and self._current.strip():
                # A newline ends the current bar: tqdm writes one when a bar is closed.
                self._finished.append(self._current.rstrip())
                self._current = ""
            if "\r" in piece:
                self._current = piece.rsplit("\r", 1)[1]
            else:
                self._current += piece
        lines = self._finished + ([self._current.rstrip()] if self._current.strip() else [])
        if not lines:
            return
        from IPython import display

        content = {"text/plain": "\n".join(lines)}
        if self._handle is None:
            self._handle = display.display(content, raw=True, display_id=True)
        else:
            self._handle.update(content, raw=True)

    def flush(self):
        pass


def _progress_file():
    """Standard output in a terminal; one updatable output line in a Jupyter kernel."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        return _NotebookLines()
    return sys.stdout


class Sequential:
    """Layers applied one after the other, trained end to end by backpropagation.

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    layer_list : list of cnn_course.layers.Layer
        The layers, first first. The last one must output ``(K,)`` logits.
    input_shape : tuple of int
        One example's shape without the batch axis, e.g. ``(28, 28, 1)``.
    seed : int, default 0
        Seeds the generator of the initial weights and of dropout masks.
    dtype : str or numpy.dtype, default "float32"
        The parameters' type; float32 is about twice as fast as float64.

    Raises
    ------
    ValueError
        If a layer cannot take the shape the layer before it gives (the
        message names the layer and the shape).
    """

    def __init__(self, layer_list, input_shape, seed=0, dtype="float32"):
        if not isinstance(layer_list, (list, tuple)) or not layer_list:
            raise ValueError(f"layer_list must be a non-empty list of layers, got {layer_list!r}")
        counts = collections.Counter()
        for index, layer in enumerate(layer_list):
            if not isinstance(layer, layers.Layer):
                raise TypeError(f"layer_list[{index}] must be a layer of cnn_course.layers, got {type(layer).__name__}")
            counts[type(layer)] += 1
            if layer.name is None:
                layer.name = f"{_DEFAULT_NAMES.get(type(layer), type(layer).__name__.lower())}{counts[type(layer)]}"
        names = [layer.name for layer in layer_list]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"layer names must be unique, got {repeated} more than once")
        self.layers = list(layer_list)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        shape = tuple(input_shape)
        self.input_shape = shape
        for layer in self.layers:
            shape = layer.build(shape, rng, self.dtype)
        if len(shape) != 1:
            raise ValueError(f"the last layer must output logits of shape (K,), got {shape}; end with a Dense layer")
        self.output_shape = shape

    def summary(self):
        """A table of the layers like Keras's ``model.summary()``, as a string."""
        rows = [("Layer (type)", "Output shape", "Param #")]
        for layer in self.layers:
            count = sum(value.size for value in layer.params.values())
            rows.append((f"{layer.name} ({type(layer).__name__})", str((None,) + layer.output_shape), f"{count:,}"))
        widths = [max(len(row[column]) for row in rows) + 3 for column in range(3)]
        lines = [row[0].ljust(widths[0]) + row[1].ljust(widths[1]) + row[2].rjust(widths[2]) for row in rows]
        total = sum(value.size for _, value, _ in self.parameters())
        rule = "=" * len(lines[0])
        return "\n".join([lines[0], rule, *lines[1:], rule, f"Total params: {total:,}"])

    def parameters(self):
        """Every trainable array with its gradient.

        Returns
        -------
        list of (str, ndarray, ndarray)
            ``(key, value, gradient)`` with keys like ``"conv1/kernel"``; the
            arrays are the layers' own, so updating ``value`` in place trains.
        """
        return [
            (f"{layer.name}/{key}", layer.params[key], layer.grads[key]) for layer in self.layers for key in layer.params
        ]

    def forward(self, x, training=False):
        """Logits of a batch, shape (N, K); every layer keeps what backward needs."""
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, grad_logits):
        """Backpropagate the gradient of the loss with respect to the logits through every layer.

        Fills each layer's ``grads``. The first layer skips the gradient with
        respect to the images, which nothing uses.
        """
        grad = grad_logits
        for index in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[index].backward(grad, need_grad_input=index > 0)

    def _check_data(self, x, y, x_name, y_name):
        x = validation.as_float_array(x, x_name).astype(self.dtype, copy=False)
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
        logits = self.forward(x, training=True)
        loss, probabilities = gradients.softmax_cross_entropy(logits, y)
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
        x, y = self._check_data(x, y, "x", "y")
        epochs = validation.check_int(epochs, "epochs", 1)
        batch_size = validation.check_int(batch_size, "batch_size", 1)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (x_val, y_val)")
            x_val, y_val = self._check_data(*validation_data, "validation_data[0]", "validation_data[1]")
        history = {"loss": [], "accuracy": [], "batch_loss": []}
        if validation_data is not None:
            history.update(val_loss=[], val_accuracy=[])
        rng = np.random.default_rng(seed)
        stream = _progress_file() if progress else sys.stdout
        count = x.shape[0]
        batches = math.ceil(count / batch_size)
        for epoch in range(epochs):
            order = rng.permutation(count) if shuffle else np.arange(count)
            bar = tqdm.tqdm(
                total=batches, desc=f"epoch {epoch + 1}/{epochs}", bar_format=PROGRESS_FORMAT,
                file=stream, disable=not progress, mininterval=1.0,
                ascii=False,
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

    def predict(self, x, batch_size=1000):
        """Class probabilities for every example, shape (N, K), in batches to bound memory."""
        x, _ = self._check_data(x, None, "x", None)
        batch_size = validation.check_int(batch_size, "batch_size", 1)
        logits = [self.forward(x[start : start + batch_size]) for start in range(0, x.shape[0], batch_size)]
        if not logits:
            raise ValueError(f"x must hold at least one example, got shape {x.shape}")
        return ops.softmax(np.concatenate(logits), axis=1)

    def evaluate(self, x, y, batch_size=1000):
        """Mean loss and accuracy on a data set, with dropout off.

        Parameters
        ----------
        x : ndarray of shape (N, *input_shape)
        y : ndarray of int, shape (N,)
        batch_size : int, default 1000

        Returns
        -------
        loss : float
        accuracy : float
            The fraction of examples whose most probable class is the label.
        """
        x, y = self._check_data(x, y, "x", "y")
        batch_size = validation.check_int(batch_size, "batch_size", 1)
        if x.shape[0] == 0:
            raise ValueError(f"x must hold at least one example, got shape {x.shape}")
        total_loss, correct = 0.0, 0
        for start in range(0, x.shape[0], batch_size):
            logits = self.forward(x[start : start + batch_size])
            labels = y[start : start + batch_size]
            loss, _ = gradients.softmax_cross_entropy(logits, labels)
            total_loss += loss * len(labels)
            correct += int(np.count_nonzero(logits.argmax(axis=1) == labels))
        return total_loss / x.shape[0], correct / x.shape[0]
