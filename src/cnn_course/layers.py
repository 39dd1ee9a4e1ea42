"""The layers of a CNN: one family for the forward pass and for training.

Introduced in the chapter "Putting it together", which runs them forward
only, and trained from the chapter "Learning from scratch" on. A layer is
built once for the shape of one example (``build``), which creates its
parameters; then

- ``forward(x, training=False)`` computes the output of a batch. With
  ``training=True`` it also keeps what the backward pass will need (its
  input, the dropout mask); at inference it keeps nothing. A convolution
  and a max pooling run ``cnn_course.fast``'s versions of ``ops.conv2d``,
  ``ops.max_pool2d`` and their gradients (the same results, faster).
- ``backward(grad_output)`` takes the gradient of the loss with respect to
  the output of the last training forward pass, stores the gradients of the
  layer's parameters in ``grads`` and returns the gradient with respect to
  the layer's input.

A layer may also keep arrays that are not trained, in ``state``: the
running statistics of ``BatchNorm`` (chapter "Training CNNs in practice"),
which a training forward pass updates. ``get_weights`` and ``set_weights``
carry them after the parameters, in Keras's order; optimizers never see them.
``Residual`` holds layers of its own and shows their parameters and state
under prefixed keys (``"conv1/kernel"``).

Every layer also states what it costs and what it sees, for
``Sequential.describe``: ``macs()``, the multiply-accumulates for one
example, and ``window()``, the window size and stride along height and width
that the receptive field grows by.

The computations are the functions of ``cnn_course.ops`` and
``cnn_course.gradients``; this module only keeps the bookkeeping. Arrays are
channels-last like Keras: images ``(N, H, W, C)``, kernels
``(kh, kw, C_in, C_out)``, dense weights ``(D_in, D_out)``.
"""

import math

import numpy as np

from cnn_course import checks, convolution, fast, gradients, initializers, normalization, ops

__all__ = [
    "Layer",
    "Conv2D",
    "MaxPool2D",
    "AvgPool2D",
    "GlobalAvgPool2D",
    "ReLU",
    "Softmax",
    "Flatten",
    "Dense",
    "Dropout",
    "BatchNorm",
    "Residual",
]


class Layer:
    """What every layer shares: building, shape checks, the forward cache and clear errors.

    Subclasses set ``default_name`` and implement ``_build``, ``_forward`` and
    ``_backward`` (and ``macs`` and ``window`` where they differ from the
    defaults).

    Attributes
    ----------
    name : str or None
        The name given to the constructor; a ``Sequential`` shows unnamed
        layers as ``default_name`` and a number (``conv1``, ``max_pool2``, ...).
    params : dict of str to ndarray
        The trainable arrays, in Keras's ``get_weights()`` order (empty for
        layers without parameters).
    grads : dict of str to ndarray
        Their gradients from the last ``backward``, same keys and shapes.
    state : dict of str to ndarray
        Arrays that are kept but not trained (the running statistics of
        ``BatchNorm``), in Keras's ``get_weights()`` order after ``params``;
        empty for most layers.
    input_shape, output_shape : tuple of int or None
        The shape of one example in and out (no batch axis), set by ``build``.
    """

    default_name = "layer"

    def __init__(self, name=None):
        self.name = checks.check_name(name)
        self.params = {}
        self.grads = {}
        self.state = {}
        self.input_shape = None
        self.output_shape = None
        self._cache = None
        self._cached_output_shape = None
        self._pads = None  # ((top, bottom), (left, right)) zeros, for the layers that pad

    def _label(self):
        kind = type(self).__name__
        return f"layer {self.name!r} ({kind})" if self.name else f"{kind} layer"

    def build(self, input_shape, rng=None, dtype="float32"):
        """Create the parameters for inputs of one example's shape ``input_shape``.

        Parameters
        ----------
        input_shape : tuple of int
            One example's shape, without the batch axis, e.g. ``(28, 28, 1)``.
        rng : numpy.random.Generator, optional
            For the initial weights (and dropout masks); pass a seeded one.
        dtype : str or numpy.dtype, default "float32"
            The parameters' type (float64 to compare the mathematics).

        Returns
        -------
        tuple of int
            One example's output shape.
        """
        if not isinstance(input_shape, (tuple, list)) or not all(
            isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size >= 1 for size in input_shape
        ):
            raise ValueError(f"{self._label()}: input_shape must be a tuple of positive ints, got {input_shape!r}")
        rng = np.random.default_rng() if rng is None else rng
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"{self._label()}: rng must be a numpy.random.Generator, got {type(rng).__name__}")
        input_shape = tuple(int(size) for size in input_shape)
        try:
            output_shape = self._build(input_shape, rng, np.dtype(dtype))
        except ValueError as error:
            raise ValueError(f"{self._label()} cannot take inputs of shape {input_shape}: {error}") from error
        self.input_shape, self.output_shape = input_shape, tuple(output_shape)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        self._cache = None
        return self.output_shape

    def forward(self, x, training=False):
        """Output of the layer for a batch ``x``.

        Parameters
        ----------
        x : ndarray of shape (N, *input_shape)
        training : bool, default False
            True while training: dropout is active, and the layer keeps what
            ``backward`` needs.

        Returns
        -------
        ndarray of shape (N, *output_shape)
        """
        if self.input_shape is None:
            raise RuntimeError(f"{self._label()} is not built: call build(input_shape, rng) or put it in a Sequential")
        x = checks.as_float_array(x, "x")
        if x.ndim < 1 or x.shape[1:] != self.input_shape:
            raise ValueError(
                f"{self._label()} expects x of shape (N, {', '.join(map(str, self.input_shape))}), "
                f"got shape {x.shape}"
            )
        training = bool(training)
        output, cache = self._forward(x, training)
        # Only a training pass is followed by backward; inference keeps no memory.
        self._cache = cache if training else None
        self._cached_output_shape = output.shape if training else None
        return output

    def backward(self, grad_output, need_grad_input=True):
        """Gradient with respect to the input of the last training ``forward``; fills ``grads``.

        Parameters
        ----------
        grad_output : ndarray of the shape of the last forward's output
            Gradient of the loss with respect to this layer's output.
        need_grad_input : bool, default True
            False lets the first layer of a network skip the gradient with
            respect to the images, which nothing uses (it may return None).

        Returns
        -------
        ndarray of the shape of the last forward's input, or None
        """
        if self._cache is None:
            raise RuntimeError(f"{self._label()}: backward called before forward; run forward(x, training=True) first")
        grad_output = checks.as_float_array(grad_output, "grad_output")
        if grad_output.shape != self._cached_output_shape:
            raise ValueError(
                f"{self._label()}: grad_output must have the shape of the last forward's output, "
                f"{self._cached_output_shape}, got shape {grad_output.shape}"
            )
        return self._backward(grad_output, need_grad_input)

    def get_weights(self):
        """The layer's parameters, then its ``state``, as a list in Keras's ``layer.get_weights()`` order."""
        return [*self.params.values(), *self.state.values()]

    def set_weights(self, weights):
        """Copy ``weights`` (a list in ``get_weights`` order) into the parameters and the state, in place.

        Each array is cast to the layer's dtype; a wrong count or shape raises
        a ``ValueError`` naming the parameter and both shapes.
        """
        weights = list(weights)
        arrays = {**self.params, **self.state}
        if len(weights) != len(arrays):
            raise ValueError(
                f"{self._label()}: set_weights needs {len(arrays)} arrays ({', '.join(arrays) or 'none'}), "
                f"got {len(weights)}"
            )
        for (key, value), new in zip(arrays.items(), weights):
            new = checks.as_float_array(new, key)
            if new.shape != value.shape:
                raise ValueError(f"{self._label()}: {key} must have shape {value.shape}, got shape {new.shape}")
        for value, new in zip(arrays.values(), weights):
            value[...] = new

    def count_params(self):
        """The number of trainable numbers."""
        return sum(value.size for value in self.params.values())

    def count_state(self):
        """The number of numbers kept but not trained (``state``: BatchNorm's moving statistics)."""
        return sum(value.size for value in self.state.values())

    def macs(self):
        """Multiply-accumulates for one example (0 for layers that only compare or copy)."""
        return 0

    def window(self):
        """``(size, stride)`` pairs along height and width, or None if the output is not spatial.

        A layer that keeps the spatial layout cell by cell (ReLU, dropout)
        has a 1 x 1 window with stride 1.
        """
        return ((1, 1), (1, 1)) if self.output_shape is not None and len(self.output_shape) == 3 else None

    def padding_before(self):
        """The zeros padded above and to the left of the input, ``(top, left)``; (0, 0) unless the layer pads."""
        if self._pads is None:
            return (0, 0)
        (top, _), (left, _) = self._pads
        return (top, left)

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r}, output_shape={self.output_shape})"

    def _build(self, input_shape, rng, dtype):  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def _forward(self, x, training):  # pragma: no cover
        raise NotImplementedError

    def _backward(self, grad_output, need_grad_input):  # pragma: no cover
        raise NotImplementedError


def _check_image_shape(input_shape):
    if len(input_shape) != 3:
        raise ValueError(f"needs one example of shape (H, W, C), got {input_shape}")


class Conv2D(Layer):
    """A convolution, like ``keras.layers.Conv2D`` (no activation).

    Parameters ``kernel`` of shape (kh, kw, C_in, filters), He-initialised,
    and ``bias`` of shape (filters,), zeros (none with ``use_bias=False``). Output size per axis:
    ``floor((n + 2p - k) / s) + 1``, or ``ceil(n / s)`` for ``"same"``.
    Inputs are cast to the kernel's dtype (float32 by default), as Keras does.
    Cost: ``H' * W' * kh * kw * C_in * filters`` multiply-accumulates per example.

    Parameters
    ----------
    filters : int
        Number of output channels.
    kernel_size : int or tuple of (int, int)
    stride : int or tuple of (int, int), default 1
    padding : {"valid", "same"}, int or tuple of (int, int), default "valid"
    dilation : int or tuple of (int, int), default 1
        The step between the kernel's taps; the kernel then spans
        ``dilation * (kernel_size - 1) + 1`` pixels (chapter "Padding and stride").
    use_bias : bool, default True
        False leaves the bias out, as before a batch normalization, whose
        shift ``beta`` would cancel it (chapter "Training CNNs in practice").
    name : str, optional
    """

    default_name = "conv"

    def __init__(self, filters, kernel_size, stride=1, padding="valid", dilation=1, use_bias=True, name=None):
        super().__init__(name)
        self.filters = checks.check_int(filters, "filters", 1)
        self.kernel_size = checks.check_positive_pair(kernel_size, "kernel_size")
        self.stride = checks.check_positive_pair(stride, "stride")
        self.padding = checks.check_padding(padding)
        self.dilation = checks.check_positive_pair(dilation, "dilation")
        self.use_bias = checks.check_bool(use_bias, "use_bias")

    def _build(self, input_shape, rng, dtype):
        _check_image_shape(input_shape)
        self._pads, (out_h, out_w) = convolution.window_plan(
            input_shape[:2], self.kernel_size, self.stride, self.padding, "kernel", self.dilation
        )
        self.params = {"kernel": initializers.he_normal(self.kernel_size + (input_shape[2], self.filters), rng, dtype)}
        if self.use_bias:
            self.params["bias"] = np.zeros(self.filters, dtype=dtype)
        return (out_h, out_w, self.filters)

    def _forward(self, x, training):
        kernel, bias = self.params["kernel"], self.params.get("bias")
        x = x.astype(kernel.dtype, copy=False)
        settings = dict(stride=self.stride, padding=self.padding, dilation=self.dilation)
        # The backward pass needs the input only: it builds the im2col matrix again.
        return fast.conv2d(x, kernel, bias, **settings), x

    def _backward(self, grad_output, need_grad_input):
        grad_x, self.grads["kernel"], grad_bias = fast.conv2d_backward(
            grad_output, self._cache, self.params["kernel"], self.stride, self.padding,
            need_grad_x=need_grad_input, dilation=self.dilation,
        )
        if self.use_bias:
            self.grads["bias"] = grad_bias
        return grad_x

    def macs(self):
        out_h, out_w, _ = self.output_shape
        return out_h * out_w * math.prod(self.params["kernel"].shape)

    def window(self):
        # A dilated kernel spans d (k - 1) + 1 pixels, which is what the receptive field grows by.
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation)), self.stride


class _Pool2D(Layer):
    """Shared set-up of the two pooling layers (no parameters)."""

    def __init__(self, pool_size=2, stride=None, padding="valid", name=None):
        super().__init__(name)
        self.pool_size = checks.check_positive_pair(pool_size, "pool_size")
        self.stride = self.pool_size if stride is None else checks.check_positive_pair(stride, "stride")
        self.padding = checks.check_padding(padding, allow_amount=False)

    def _build(self, input_shape, rng, dtype):
        _check_image_shape(input_shape)
        self._pads, (out_h, out_w) = convolution.window_plan(input_shape[:2], self.pool_size, self.stride, self.padding, "pool_size")
        return (out_h, out_w, input_shape[2])

    def window(self):
        return self.pool_size, self.stride


class MaxPool2D(_Pool2D):
    """Max pooling, like ``keras.layers.MaxPooling2D``; the gradient goes to each window's maximum.

    Parameters
    ----------
    pool_size : int or tuple of (int, int), default 2
    stride : int or tuple of (int, int), optional
        Defaults to ``pool_size``.
    padding : {"valid", "same"}, default "valid"
    name : str, optional
    """

    default_name = "max_pool"

    def _forward(self, x, training):
        # The backward pass needs the input only: it finds each window's maximum again.
        return fast.max_pool2d(x, self.pool_size, self.stride, self.padding), x

    def _backward(self, grad_output, need_grad_input):
        return fast.max_pool2d_backward(grad_output, self._cache, self.pool_size, self.stride, self.padding)


class AvgPool2D(_Pool2D):
    """Average pooling, like ``keras.layers.AveragePooling2D``; each window shares out its gradient.

    Parameters
    ----------
    pool_size : int or tuple of (int, int), default 2
    stride : int or tuple of (int, int), optional
        Defaults to ``pool_size``.
    padding : {"valid", "same"}, default "valid"
    name : str, optional
    """

    default_name = "avg_pool"

    def _forward(self, x, training):
        return ops.avg_pool2d(x, self.pool_size, self.stride, self.padding), x

    def _backward(self, grad_output, need_grad_input):
        return gradients.avg_pool2d_backward(grad_output, self._cache, self.pool_size, self.stride, self.padding)


class GlobalAvgPool2D(Layer):
    """The mean of each whole feature map, like ``keras.layers.GlobalAveragePooling2D``.

    ``(H, W, C)`` in, ``(C,)`` out; no parameters.

    Parameters
    ----------
    name : str, optional
    """

    default_name = "global_avg_pool"

    def _build(self, input_shape, rng, dtype):
        _check_image_shape(input_shape)
        return (input_shape[2],)

    def _forward(self, x, training):
        return ops.global_avg_pool2d(x), x.shape

    def _backward(self, grad_output, need_grad_input):
        return gradients.global_avg_pool2d_backward(grad_output, self._cache)


class ReLU(Layer):
    """The activation ``max(0, x)``; the gradient passes only where the input was positive.

    Parameters
    ----------
    name : str, optional
    """

    default_name = "relu"

    def _build(self, input_shape, rng, dtype):
        return input_shape

    def _forward(self, x, training):
        return ops.relu(x), x

    def _backward(self, grad_output, need_grad_input):
        return gradients.relu_backward(grad_output, self._cache)


class Softmax(Layer):
    """Softmax over the last axis: scores become probabilities, like ``keras.layers.Softmax``.

    As the last layer of a ``Sequential`` it is what ``forward`` returns,
    while training takes the loss from the logits before it, as Keras does.

    Parameters
    ----------
    name : str, optional
    """

    default_name = "softmax"

    def _build(self, input_shape, rng, dtype):
        return input_shape

    def _forward(self, x, training):
        probabilities = ops.softmax(x, axis=-1)
        return probabilities, probabilities

    def _backward(self, grad_output, need_grad_input):
        return gradients.softmax_backward(grad_output, self._cache)


class Flatten(Layer):
    """Flatten each example in ``(H, W, C)`` order, like ``keras.layers.Flatten``.

    Parameters
    ----------
    name : str, optional
    """

    default_name = "flatten"

    def _build(self, input_shape, rng, dtype):
        return (math.prod(input_shape),)

    def _forward(self, x, training):
        return ops.flatten(x), x.shape

    def _backward(self, grad_output, need_grad_input):
        return gradients.flatten_backward(grad_output, self._cache)


class Dense(Layer):
    """A fully connected layer, ``x @ weights + bias``, like ``keras.layers.Dense`` (no activation).

    Parameters ``weights`` of shape (D_in, units), He-initialised, and
    ``bias`` of shape (units,), zeros (none with ``use_bias=False``). Cost: ``D_in * units``
    multiply-accumulates per example.

    Parameters
    ----------
    units : int
        Number of outputs ``D_out``.
    weight_scale : float, default 1.0
        Multiplies the initial weights. A small value (0.1) for the layer
        that gives the logits makes a fresh network unsure, predicting about
        ``1 / units`` for every class, so its first loss is about ``log(units)``.
    use_bias : bool, default True
        False leaves the bias out (before a batch normalization).
    name : str, optional
    """

    default_name = "dense"

    def __init__(self, units, weight_scale=1.0, use_bias=True, name=None):
        super().__init__(name)
        self.units = checks.check_int(units, "units", 1)
        self.use_bias = checks.check_bool(use_bias, "use_bias")
        if isinstance(weight_scale, bool) or not isinstance(weight_scale, (int, float, np.floating)):
            raise TypeError(f"weight_scale must be a non-negative float, got {weight_scale!r}")
        if not weight_scale >= 0:
            raise ValueError(f"weight_scale must be a non-negative float, got {weight_scale!r}")
        self.weight_scale = float(weight_scale)

    def _build(self, input_shape, rng, dtype):
        if len(input_shape) != 1:
            raise ValueError(f"needs one example of shape (D_in,), got {input_shape}; put a Flatten layer before it")
        weights = initializers.he_normal((input_shape[0], self.units), rng, dtype)
        self.params = {"weights": weights * dtype.type(self.weight_scale)}
        if self.use_bias:
            self.params["bias"] = np.zeros(self.units, dtype=dtype)
        return (self.units,)

    def _forward(self, x, training):
        return ops.dense(x, self.params["weights"], self.params.get("bias")), x

    def _backward(self, grad_output, need_grad_input):
        grad_x, self.grads["weights"], grad_bias = gradients.dense_backward(
            grad_output, self._cache, self.params["weights"]
        )
        if self.use_bias:
            self.grads["bias"] = grad_bias
        return grad_x

    def macs(self):
        return self.params["weights"].size


class Dropout(Layer):
    """Inverted dropout, like ``keras.layers.Dropout``: active only when ``training=True``.

    While training, each unit is zeroed with probability ``rate`` and the
    others are scaled by ``1 / (1 - rate)``, exactly as
    :func:`cnn_course.ops.dropout` does with the same generator; at inference
    the layer does nothing.

    Parameters
    ----------
    rate : float
        Probability of dropping a unit, in [0, 1).
    name : str, optional
    """

    default_name = "dropout"

    def __init__(self, rate, name=None):
        super().__init__(name)
        self.rate = checks.check_rate(rate)
        self._rng = None

    def _build(self, input_shape, rng, dtype):
        self._rng = rng
        return input_shape

    def _forward(self, x, training):
        if not training or self.rate == 0.0:
            # The identity, whose gradient is grad_output itself.
            return x, (np.ones(x.shape, dtype=bool), 0.0)
        # The same draw and formula as ops.dropout, keeping the mask for backward.
        keep = self._rng.random(x.shape) >= self.rate
        return np.where(keep, x / (1.0 - self.rate), 0.0).astype(x.dtype, copy=False), (keep, self.rate)

    def _backward(self, grad_output, need_grad_input):
        keep, rate = self._cache
        return gradients.dropout_backward(grad_output, keep, rate)


class BatchNorm(Layer):
    """Batch normalization over the channel (last) axis, like ``keras.layers.BatchNormalization``.

    Introduced in the chapter "Training CNNs in practice". For images
    ``(N, H, W, C)`` each channel is normalised over the batch and every
    pixel, for features ``(N, D)`` each feature over the batch:

        ``output = gamma * (x - mean) / sqrt(variance + epsilon) + beta``.

    - ``forward(x, training=True)`` uses the batch's ``mean`` and (biased,
      divided by ``M``) ``variance``, :func:`cnn_course.normalization.batch_moments`,
      and updates the running statistics as Keras does:
      ``moving_mean = moving_mean * momentum + mean * (1 - momentum)``, and so
      ``moving_variance`` with the batch's variance.
    - ``forward(x, training=False)`` uses ``moving_mean`` and
      ``moving_variance``, so that an example's output does not depend on the
      rest of its batch.

    Parameters ``gamma`` of shape (C,), ones, and ``beta`` of shape (C,),
    zeros (trained, in ``params``). The running statistics ``moving_mean``
    (zeros) and ``moving_variance`` (ones), of shape (C,), are in ``state``:
    ``get_weights`` and ``set_weights`` carry them after the parameters (Keras's
    order: gamma, beta, moving_mean, moving_variance), while ``count_params``
    and the optimizers see only ``gamma`` and ``beta``. The backward pass goes
    through the batch's statistics (:func:`cnn_course.gradients.batch_norm_backward`).

    Cost: ``macs()`` counts one multiply-accumulate per output number, the
    cost at inference, where the layer is ``x * scale + shift`` per channel
    with ``scale = gamma / sqrt(moving_variance + epsilon)`` and
    ``shift = beta - moving_mean * scale``.

    Parameters
    ----------
    momentum : float, default 0.99
        In [0, 1): how much of the running statistics each training step keeps.
    epsilon : float, default 1e-3
        Added to the variance; above 0. Both defaults are Keras's.
    name : str, optional
    """

    default_name = "batch_norm"

    def __init__(self, momentum=0.99, epsilon=1e-3, name=None):
        super().__init__(name)
        self.momentum = checks.check_rate(momentum, "momentum")
        self.epsilon = normalization.check_epsilon(epsilon)

    def _build(self, input_shape, rng, dtype):
        if len(input_shape) not in (1, 3):
            raise ValueError(f"needs one example of shape (H, W, C) or (D,), got {input_shape}")
        channels = input_shape[-1]
        self.params = {"gamma": np.ones(channels, dtype=dtype), "beta": np.zeros(channels, dtype=dtype)}
        self.state = {"moving_mean": np.zeros(channels, dtype=dtype), "moving_variance": np.ones(channels, dtype=dtype)}
        return input_shape

    def _forward(self, x, training):
        gamma, beta = self.params["gamma"], self.params["beta"]
        x = x.astype(gamma.dtype, copy=False)
        if not training:
            return normalization.batch_norm(
                x, gamma, beta, self.state["moving_mean"], self.state["moving_variance"], self.epsilon
            ), None
        mean, variance = normalization.batch_moments(x)
        output = normalization.batch_norm(x, gamma, beta, mean, variance, self.epsilon)
        # In place, as Keras assigns its variables: whoever holds these arrays sees the update.
        for key, batch_value in (("moving_mean", mean), ("moving_variance", variance)):
            moving = self.state[key]
            moving[...] = moving * self.momentum + batch_value * (1.0 - self.momentum)
        return output, x

    def _backward(self, grad_output, need_grad_input):
        grad_x, self.grads["gamma"], self.grads["beta"] = gradients.batch_norm_backward(
            grad_output, self._cache, self.params["gamma"], self.epsilon, need_grad_x=need_grad_input
        )
        return grad_x

    def macs(self):
        return math.prod(self.output_shape)


class Residual(Layer):
    """A residual block, ``x + F(x)``: layers applied in order, and a shortcut around them.

    Introduced in the chapter "Training CNNs in practice". ``F`` is the
    inner layers applied one after the other (for example ``Conv2D``,
    ``BatchNorm``, ``ReLU``, ``Conv2D``, ``BatchNorm``); their output is added
    to the block's input. The gradient then reaches the input along two
    paths, through ``F`` and straight along the shortcut, and ``backward``
    adds the two. When ``F`` changes the shape (other channels, or a stride),
    ``x`` cannot be added as it is: with ``projection="auto"`` the shortcut
    is then a trainable 1 x 1 ``Conv2D`` (``projection``) with ``F``'s
    channels and ``F``'s overall stride, as in ResNet; otherwise it is the
    identity.

    Bookkeeping: the inner layers are named as a ``Sequential`` names them
    (``conv1``, ``batch_norm1``, ``relu1``, ...), the projection
    ``projection``; ``params``, ``grads`` and ``state`` hold the inner arrays
    themselves under prefixed keys (``"conv1/kernel"``, ``"projection/bias"``,
    ``"batch_norm1/moving_mean"``), so a ``Sequential`` and its optimizer train
    them (``"residual1/conv1/kernel"``). ``get_weights`` is every inner layer's
    ``get_weights()`` in order, then the projection's kernel and bias.

    Costs for ``Sequential.describe``: ``macs()`` is the sum of the inner
    layers' and the projection's (the addition counts 0, like other sums
    without products); ``window()`` is the inner path's receptive field and
    overall stride (the shortcut sees less: one pixel, at the same stride).

    Parameters
    ----------
    layer_list : list of Layer
        The inner layers ``F``, first first, not yet in any model.
    projection : {"auto", None}, default "auto"
        ``"auto"``: a 1 x 1 convolution on the shortcut when ``F`` changes the
        shape, the identity otherwise. None: always the identity (a shape
        change is then an error).
    name : str, optional

    Attributes
    ----------
    layers : list of Layer
        The inner layers.
    names : list of str
        Their names inside the block.
    projection : Conv2D or None
        The shortcut's convolution, once built (None for the identity).
    """

    default_name = "residual"

    def __init__(self, layer_list, projection="auto", name=None):
        super().__init__(name)
        if not isinstance(layer_list, (list, tuple)):
            raise TypeError(f"layer_list must be a list of layers, got {type(layer_list).__name__}")
        if not layer_list:
            raise ValueError("layer_list must hold at least one layer, got an empty list")
        if projection not in ("auto", None):
            raise ValueError(f"projection must be 'auto' or None, got {projection!r}")
        counts = {}
        names = []
        for index, layer in enumerate(layer_list):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer_list[{index}] must be a layer of cnn_course.layers, got {type(layer).__name__}")
            if layer.input_shape is not None:
                raise ValueError(f"layer_list[{index}] ({type(layer).__name__}) already belongs to a model; make a new layer")
            counts[type(layer)] = counts.get(type(layer), 0) + 1
            names.append(layer.name or f"{layer.default_name}{counts[type(layer)]}")
        repeated = sorted({name for name in names if names.count(name) > 1 or name == "projection"})
        if repeated:
            raise ValueError(f"the inner layers' names must be unique and not 'projection', got {repeated}")
        self.layers, self.names = list(layer_list), names
        self.projection_mode = projection
        self.projection = None

    def _members(self):
        """(name, layer) of every inner layer, then the projection if there is one."""
        members = list(zip(self.names, self.layers))
        return members + [("projection", self.projection)] if self.projection is not None else members

    def _build(self, input_shape, rng, dtype):
        shape = input_shape
        for index, (layer, name) in enumerate(zip(self.layers, self.names)):
            try:
                shape = layer.build(shape, rng, dtype)
            except ValueError as error:
                raise ValueError(f"inner layer {index} ({name!r}): {error}") from error
        self.projection = None
        if shape != input_shape:
            if self.projection_mode is None:
                raise ValueError(
                    f"the inner layers give {shape}, and an identity shortcut needs the input's shape "
                    f"{input_shape}; pass projection='auto' for a 1 x 1 convolution on the shortcut"
                )
            if len(input_shape) != 3 or len(shape) != 3:
                raise ValueError(
                    f"the inner layers give {shape} from {input_shape}: a projection shortcut needs "
                    f"images (H, W, C) in and out"
                )
            path = self._path_window()
            stride = (1, 1) if path is None else path[1]
            planned = tuple(-(-size // step) for size, step in zip(input_shape[:2], stride))
            if planned != shape[:2]:
                raise ValueError(
                    f"the inner layers give {shape} from {input_shape} with an overall stride of {stride}, "
                    f"but a 1 x 1 convolution with that stride gives {planned[0]} x {planned[1]} pixels; "
                    f"use padding='same' inside the block"
                )
            self.projection = Conv2D(shape[2], 1, stride=stride, name="projection")
            self.projection.build(input_shape, rng, dtype)
        members = self._members()
        self.params = {f"{name}/{key}": value for name, layer in members for key, value in layer.params.items()}
        self.state = {f"{name}/{key}": value for name, layer in members for key, value in layer.state.items()}
        return shape

    def _collect_grads(self):
        self.grads = {f"{name}/{key}": value for name, layer in self._members() for key, value in layer.grads.items()}

    def _forward(self, x, training):
        output = x
        for layer in self.layers:
            output = layer.forward(output, training=training)
        shortcut = x if self.projection is None else self.projection.forward(x, training=training)
        return shortcut + output, x.shape

    def _backward(self, grad_output, need_grad_input):
        grad = grad_output
        for index in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[index].backward(grad, need_grad_input=index > 0 or need_grad_input)
        if self.projection is None:
            grad_shortcut = grad_output
        else:
            grad_shortcut = self.projection.backward(grad_output, need_grad_input=need_grad_input)
        self._collect_grads()
        if not need_grad_input:
            return None
        # The two paths' gradients add up: x reaches the output through F and through the shortcut.
        return grad + grad_shortcut

    def get_weights(self):
        """Every inner layer's ``get_weights()`` in order, then the projection's kernel and bias."""
        return [value for _, layer in self._members() for value in layer.get_weights()]

    def set_weights(self, weights):
        """Copy ``weights`` (in ``get_weights`` order) into the inner layers and the projection, in place."""
        weights = list(weights)
        members = self._members()
        needed = sum(len(layer.get_weights()) for _, layer in members)
        if len(weights) != needed:
            raise ValueError(f"{self._label()}: set_weights needs {needed} arrays (those of each inner layer), got {len(weights)}")
        start = 0
        for name, layer in members:
            count = len(layer.get_weights())
            try:
                layer.set_weights(weights[start : start + count])
            except ValueError as error:
                raise ValueError(f"{self._label()}, inner layer {name!r}: {error}") from error
            start += count

    def macs(self):
        return sum(layer.macs() for _, layer in self._members())

    def _path_window(self):
        """The inner path as one window: ``(size, stride)`` and the zeros it pads above/left, or None."""
        field, jump, start = (1, 1), (1, 1), (0, 0)
        for layer in self.layers:
            window = layer.window()
            if window is None:
                return None
            (kh, kw), (sh, sw) = window
            top, left = layer.padding_before()
            field = (field[0] + (kh - 1) * jump[0], field[1] + (kw - 1) * jump[1])
            start = (start[0] - top * jump[0], start[1] - left * jump[1])
            jump = (jump[0] * sh, jump[1] * sw)
        return field, jump, (-start[0], -start[1])

    def window(self):
        if self.output_shape is None or len(self.output_shape) != 3:
            return None
        path = self._path_window()
        return None if path is None else path[:2]

    def padding_before(self):
        path = self._path_window()
        return (0, 0) if path is None or self.output_shape is None or len(self.output_shape) != 3 else path[2]
