"""The exercise checks of the chapter "Learning from scratch": the backward passes.

Function checks: :func:`check_relu_backward`, :func:`check_max_pool2d_backward`,
:func:`check_dense_backward`, :func:`check_softmax_cross_entropy_backward`,
:func:`check_sigmoid_backward` and :func:`check_learning_full_convolution`.
Answer checks: :func:`check_learning_by_hand` (a backward pass on paper) and
:func:`check_learning_saliency` (the gradient of the loss for an image's pixels).
"""

import copy

import numpy as np

from cnn_course import activations, gradients, layers, losses, model, ops
from cnn_course.exercises import verdict

__all__ = [
    "check_relu_backward",
    "check_max_pool2d_backward",
    "check_dense_backward",
    "check_softmax_cross_entropy_backward",
    "check_learning_by_hand",
    "check_sigmoid_backward",
    "check_learning_full_convolution",
    "check_learning_saliency",
]


def _relu_cases():
    rng = np.random.default_rng(9)
    return [
        {"grad_output": np.array([1.0, 2.0, 3.0]), "x": np.array([-1.0, 2.0, 0.5])},
        {"grad_output": np.array([[1.0, -2.0], [3.0, 4.0]]), "x": np.array([[0.0, -3.0], [2.0, 0.0]])},
        {"grad_output": rng.integers(-3, 4, size=(2, 3, 3, 2)).astype(float), "x": rng.integers(-2, 3, size=(2, 3, 3, 2)).astype(float)},
    ]


def check_relu_backward(function):
    """Check ``function(grad_output, x) -> ndarray``: the gradient of ReLU with respect to its input.

    ``grad_output`` where ``x > 0`` and 0 elsewhere (at exactly 0 the slope is
    taken as 0, as TensorFlow does). Introduced in the chapter "Learning from
    scratch". Recognises the forward pass returned instead, the slope without
    the upstream gradient, ``x >= 0``, and a mask taken from ``grad_output``.

    Returns
    -------
    bool
    """
    mistakes = [
        ("this is the forward pass, relu(x): the backward pass multiplies the upstream gradient by ReLU's slope.",
         lambda grad_output, x: np.maximum(x, 0.0)),
        ("this is only ReLU's slope (1 or 0): the chain rule multiplies it by the upstream gradient, grad_output.",
         lambda grad_output, x: (x > 0).astype(float)),
        ("the gradient passes where x == 0 too: at exactly 0 the course (like TensorFlow) takes the slope as 0, "
         "so use x > 0.", lambda grad_output, x: np.where(x >= 0, grad_output, 0.0)),
        ("the mask comes from grad_output: whether the gradient passes depends on the forward input x (x > 0), "
         "not on the sign of the gradient.", lambda grad_output, x: np.where(grad_output > 0, grad_output, 0.0)),
        ("the result is grad_output * x: ReLU's slope is 1 where x > 0 (and 0 elsewhere), not x.",
         lambda grad_output, x: grad_output * x),
    ]
    return verdict.check_function("check_relu_backward", function, _relu_cases(), gradients.relu_backward, mistakes)


def _pool_windows(x, pool_size, stride):
    n, height, width, channels = x.shape
    out_h, out_w = (height - pool_size) // stride + 1, (width - pool_size) // stride + 1
    for i in range(out_h):
        for j in range(out_w):
            yield i, j, (slice(None), slice(i * stride, i * stride + pool_size), slice(j * stride, j * stride + pool_size), slice(None))


def _max_pool_every_tie(grad_output, x, pool_size, stride):
    grad_x = np.zeros_like(x)
    for i, j, where in _pool_windows(x, pool_size, stride):
        window = x[where]
        winners = window == window.max(axis=(1, 2), keepdims=True)
        grad_x[where] += winners * grad_output[:, i : i + 1, j : j + 1, :]
    return grad_x


def _max_pool_every_cell(grad_output, x, pool_size, stride):
    grad_x = np.zeros_like(x)
    for i, j, where in _pool_windows(x, pool_size, stride):
        grad_x[where] += grad_output[:, i : i + 1, j : j + 1, :]
    return grad_x


def _max_pool_last_tie(grad_output, x, pool_size, stride):
    # Flipping the window turns "first maximum" into "last maximum".
    # (Only when the windows tile the input exactly: otherwise flipping moves them.)
    if (x.shape[1] - pool_size) % stride or (x.shape[2] - pool_size) % stride:
        raise ValueError("the flipped windows would not line up")
    flipped = gradients.max_pool2d_backward(grad_output[:, ::-1, ::-1], x[:, ::-1, ::-1], pool_size, stride)
    return flipped[:, ::-1, ::-1]


def _max_pool_overwrite(grad_output, x, pool_size, stride):
    grad_x = np.zeros_like(x)
    for i, j, where in _pool_windows(x, pool_size, stride):
        single = np.zeros_like(x)
        single[where] = gradients.max_pool2d_backward(
            grad_output[:, i : i + 1, j : j + 1, :], x[where], pool_size, pool_size
        )
        grad_x[where] = single[where]  # = instead of +=: a later window overwrites an earlier one
    return grad_x


def _pool_cases():
    rng = np.random.default_rng(5)
    one = np.array([[1.0, 3.0, 2.0, 0.0], [4.0, 2.0, 1.0, 5.0], [0.0, 1.0, 3.0, 3.0], [2.0, 2.0, 1.0, 0.0]])
    ties = np.array([[2.0, 2.0, 1.0, 1.0], [0.0, 1.0, 1.0, 1.0]])
    return [
        {"grad_output": np.array([[[[1.0], [2.0]], [[3.0], [4.0]]]]), "x": one[None, :, :, None], "pool_size": 2, "stride": 2},
        {"grad_output": np.array([[[[1.0], [2.0]]]]), "x": ties[None, :, :, None], "pool_size": 2, "stride": 2},
        {"grad_output": np.arange(1.0, 10.0).reshape(1, 3, 3, 1), "x": one[None, :, :, None], "pool_size": 2, "stride": 1},
        {"grad_output": rng.integers(1, 5, size=(2, 2, 2, 3)).astype(float),
         "x": rng.integers(0, 4, size=(2, 4, 4, 3)).astype(float), "pool_size": 2, "stride": 2},
        {"grad_output": rng.integers(1, 5, size=(1, 2, 2, 2)).astype(float),
         "x": rng.integers(0, 3, size=(1, 5, 5, 2)).astype(float), "pool_size": 3, "stride": 2},
    ]


def check_max_pool2d_backward(function):
    """Check ``function(grad_output, x, pool_size, stride) -> ndarray``: max pooling's input gradient.

    ``x`` has shape (N, H, W, C), "valid" windows of ``pool_size`` x
    ``pool_size`` every ``stride`` cells. Each window passes its gradient to
    its maximum; when several cells tie, to the first in row-major order, as
    the package (and TensorFlow) does; overlapping windows add up. Introduced
    in the chapter "Learning from scratch". Recognises a gradient given to
    every tied cell, to every cell of the window, average pooling's gradient,
    ties sent to the last maximum, and overlapping windows that overwrite
    instead of adding.

    Returns
    -------
    bool
    """
    mistakes = [
        ("every tied maximum gets the whole gradient: the window's output changes as if one input moved, so only "
         "one cell may take it; the course gives it to the first maximum (row by row), like TensorFlow.",
         _max_pool_every_tie),
        ("every cell of the window gets the gradient: only the maximum influences the output; the other cells of "
         "the window get 0.", _max_pool_every_cell),
        ("this is average pooling's gradient (grad / window size to every cell): max pooling sends the whole gradient "
         "to the maximum.", lambda grad_output, x, pool_size, stride: gradients.avg_pool2d_backward(grad_output, x, pool_size, stride)),
        ("ties go to the last maximum: the course gives the gradient to the *first* maximum in row-major order, "
         "like TensorFlow.", _max_pool_last_tie),
        ("overlapping windows overwrite each other: a cell that is the maximum of several windows receives the "
         "*sum* of their gradients, so add (+=) instead of assigning (=).", _max_pool_overwrite),
    ]

    def reference(grad_output, x, pool_size, stride):
        return gradients.max_pool2d_backward(grad_output, x, pool_size, stride)

    return verdict.check_function("check_max_pool2d_backward", function, _pool_cases(), reference, mistakes)


def _dense_cases():
    rng = np.random.default_rng(4)
    return [
        {"grad_output": np.array([[1.0, -1.0]]), "x": np.array([[2.0, 3.0, 1.0]]),
         "weights": np.array([[1.0, 0.0], [2.0, 1.0], [0.0, -1.0]])},
        {"grad_output": rng.integers(-2, 3, size=(2, 2)).astype(float), "x": rng.integers(-2, 3, size=(2, 3)).astype(float),
         "weights": rng.integers(-2, 3, size=(3, 2)).astype(float)},
        {"grad_output": rng.integers(-2, 3, size=(4, 3)).astype(float), "x": rng.integers(-2, 3, size=(4, 3)).astype(float),
         "weights": rng.integers(-2, 3, size=(3, 3)).astype(float)},
    ]


def check_dense_backward(function):
    """Check ``function(grad_output, x, weights) -> (grad_x, grad_weights, grad_bias)``.

    For ``y = x @ weights + bias`` with ``x`` of shape (N, D_in): ``grad_x =
    grad_output @ weights.T``, ``grad_weights = x.T @ grad_output`` and
    ``grad_bias = grad_output.sum(axis=0)``. ``grad_output`` is already the
    gradient of the (mean) loss, so nothing is divided by N. Introduced in the
    chapter "Learning from scratch". Recognises a missing transpose, the
    weights' gradient transposed, an extra division by N and a bias gradient
    that is averaged or not summed.

    Returns
    -------
    bool
    """
    def wrong(grad_x=None, grad_weights=None, grad_bias=None):
        def result(grad_output, x, weights):
            right = gradients.dense_backward(grad_output, x, weights)
            parts = [grad_x, grad_weights, grad_bias]
            return tuple(right[k] if part is None else part(grad_output, x, weights) for k, part in enumerate(parts))
        return result

    mistakes = [
        ("grad_x = grad_output @ weights: it needs the transpose, grad_output @ weights.T, to go from D_out back "
         "to D_in.", wrong(grad_x=lambda g, x, w: g @ w)),
        ("grad_weights is x @ grad_output.T or its transpose: it is x.T @ grad_output, one (D_in, D_out) entry "
         "per weight.", wrong(grad_weights=lambda g, x, w: (x.T @ g).T)),
        ("the weights' and the bias's gradients are divided by N: grad_output is already the gradient of the mean "
         "loss (it holds the 1/N), so sum over the batch without dividing again.",
         wrong(grad_weights=lambda g, x, w: x.T @ g / len(x), grad_bias=lambda g, x, w: g.mean(axis=0))),
        ("grad_bias is the mean over the batch: every example adds its gradient, so it is the sum, "
         "grad_output.sum(axis=0).", wrong(grad_bias=lambda g, x, w: g.mean(axis=0))),
        ("grad_bias is not summed over the batch: the bias is shared by all N examples, so it is "
         "grad_output.sum(axis=0), of shape (D_out,).", wrong(grad_bias=lambda g, x, w: g)),
    ]
    return verdict.check_function("check_dense_backward", function, _dense_cases(), gradients.dense_backward, mistakes)


def _loss_cases():
    return [
        {"probabilities": np.array([[0.25, 0.75]]), "labels": np.array([1])},
        {"probabilities": np.array([[0.5, 0.25, 0.25], [0.1, 0.2, 0.7]]), "labels": np.array([0, 0])},
        {"probabilities": np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1], [0.25, 0.25, 0.5], [0.1, 0.8, 0.1]]),
         "labels": np.array([2, 0, 1, 1])},
    ]


def check_softmax_cross_entropy_backward(function):
    """Check ``function(probabilities, labels) -> ndarray``: the gradient of the mean loss for the logits.

    ``probabilities`` is ``softmax(logits)`` of shape (N, K) and ``labels``
    the true classes, shape (N,); the gradient of the *mean* cross-entropy
    with respect to the logits is ``(probabilities - one_hot(labels)) / N``.
    Introduced in the chapter "Learning from scratch". Recognises a missing
    division by N, the sign flipped, the one-hot vector left out, and the
    gradient of the loss with respect to the probabilities instead of the
    logits.

    Returns
    -------
    bool
    """

    def one_hot(labels, classes):
        return np.eye(classes)[labels]

    mistakes = [
        ("the division by N is missing: the loss is the *mean* over the batch, so every example's gradient "
         "(p - one_hot) is divided by N.",
         lambda probabilities, labels: probabilities - one_hot(labels, probabilities.shape[1])),
        ("the sign is flipped: the gradient is p - one_hot (raising the logit of the true class lowers the loss, "
         "so its gradient is negative), divided by N.",
         lambda probabilities, labels: (one_hot(labels, probabilities.shape[1]) - probabilities) / len(labels)),
        ("the one-hot vector is missing: subtract 1 at each example's true class, (p - one_hot) / N.",
         lambda probabilities, labels: probabilities / len(labels)),
        ("this is the gradient with respect to the probabilities, -1 / (N p) at the true class: the logits' "
         "gradient goes through softmax too, and the two derivatives simplify to (p - one_hot) / N.",
         lambda probabilities, labels: -one_hot(labels, probabilities.shape[1]) / (len(labels) * probabilities)),
    ]
    return verdict.check_function("check_softmax_cross_entropy_backward", function, _loss_cases(),
                    gradients.softmax_cross_entropy_backward, mistakes)


# --- a backward pass by hand ---------------------------------------------------------------------


def _two_weight_pass(x, w1, w2, t, loss_slope=2.0, relu_forward=True, relu_backward=True, last_factor="x"):
    """(L, dL/dw2, dL/dw1) of h = relu(w1 x), y = w2 h, L = (y - t)^2, with the package's ReLU.

    The keyword arguments make the known mistakes: ``loss_slope`` is the
    factor of ``(y - t)`` in dL/dy (2, or 1 without the square's 2, or -2 with
    the sign flipped), ``relu_forward``/``relu_backward`` leave ReLU out of
    either pass, and ``last_factor="w1"`` multiplies by ``w1`` instead of ``x``
    at the last step.
    """
    pre = np.array(w1 * x, dtype=float)
    h = activations.relu(pre) if relu_forward else pre
    y = w2 * h
    loss = (y - t) ** 2
    grad_y = loss_slope * (y - t)
    grad_w2 = grad_y * h
    grad_h = grad_y * w2
    grad_pre = gradients.relu_backward(grad_h, pre) if relu_backward else grad_h
    grad_w1 = grad_pre * (x if last_factor == "x" else w1)
    return float(loss), float(grad_w2), float(grad_w1)


def check_learning_by_hand(answer, x, w1, w2, t):
    """Check the backward pass worked out by hand for ``h = relu(w1 x)``, ``y = w2 h``, ``L = (y - t)^2``.

    The exercise "Two weights and a ReLU, by hand" of the chapter "Learning
    from scratch" runs the forward and the backward pass of this two-weight
    network on paper, once with a positive and once with a negative ``w1``.
    The answer is the tuple ``(L, dL/dw2, dL/dw1)`` of three numbers; the
    right one is computed with the package's ReLU and its backward pass.
    Recognises the factor 2 of the square left out, the sign of ``dL/dy``
    flipped, ``w1`` instead of ``x`` in the last step, a ReLU that lets the
    gradient through although its input was negative, and ReLU left out of
    the forward pass.

    Parameters
    ----------
    answer : tuple of (float, float, float) or None
        The student's ``(L, dL/dw2, dL/dw1)``.
    x, w1, w2, t : float
        The input, the two weights and the target of the exercise.

    Returns
    -------
    bool
    """
    for name, value in (("x", x), ("w1", w1), ("w2", w2), ("t", t)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    mistakes = [
        ("dL/dy is missing the factor 2 of the square: the derivative of (y - t)^2 is 2 (y - t), and every "
         "gradient after it carries that factor.", _two_weight_pass(x, w1, w2, t, loss_slope=1.0)),
        ("the gradients have the wrong sign: dL/dy = 2 (y - t), which is positive when the prediction y is above "
         "the target t.", _two_weight_pass(x, w1, w2, t, loss_slope=-2.0)),
        ("dL/dw1 is multiplied by w1 at the last step: the local derivative of w1 x with respect to w1 is x.",
         _two_weight_pass(x, w1, w2, t, last_factor="w1")),
        ("the gradient went through ReLU although its input w1 x was negative: there ReLU's slope is 0, so it "
         "blocks the gradient and w1 gets none.", _two_weight_pass(x, w1, w2, t, relu_backward=False)),
        ("ReLU is missing from the forward pass: h = relu(w1 x) is 0 when w1 x is negative, and the backward pass "
         "must use that h (and ReLU's slope there).", _two_weight_pass(x, w1, w2, t, relu_forward=False, relu_backward=False)),
    ]
    return verdict.check_answer(
        "check_learning_by_hand", answer, expected=_two_weight_pass(x, w1, w2, t), mistakes=mistakes,
        asks=f"(L, dL/dw2, dL/dw1) for w1 = {w1:g}, three numbers in a tuple",
        hint="go step by step from the loss back: dL/dy first, then dL/dw2 = dL/dy * h, dL/dh = dL/dy * w2, "
             "through ReLU, and dL/dw1 last.",
        rtol=1e-6, atol=1e-9)


# --- the sigmoid's backward pass -----------------------------------------------------------------


def _sigmoid_backward(grad_output, x):
    s = activations.sigmoid(x)
    return grad_output * s * (1.0 - s)


def _sigmoid_cases():
    rng = np.random.default_rng(11)
    return [
        {"grad_output": np.array([1.0, 1.0, 1.0]), "x": np.array([0.0, 2.0, -1.0])},
        {"grad_output": np.array([[2.0, -1.0], [0.5, 3.0]]), "x": np.array([[1.0, -2.0], [0.0, 3.0]])},
        {"grad_output": rng.normal(size=(3, 4)), "x": rng.normal(scale=2.0, size=(3, 4))},
    ]


def check_sigmoid_backward(function):
    """Check ``function(grad_output, x) -> ndarray``: the gradient of the sigmoid with respect to its input.

    ``grad_output * s * (1 - s)`` with ``s = sigmoid(x)``, element by element,
    for ``x`` of any shape. The exercise "The backward pass of a sigmoid" of
    the chapter "Learning from scratch". Recognises the forward pass returned
    instead, the slope without the upstream gradient, the formula applied to
    ``x`` instead of ``sigmoid(x)``, tanh's derivative ``1 - s**2``, and the
    factor ``1 - s`` left out.

    Returns
    -------
    bool
    """

    def slope(grad_output, x):
        s = activations.sigmoid(x)
        return s * (1.0 - s)

    mistakes = [
        ("this is the forward pass, sigmoid(x): the backward pass multiplies the upstream gradient by the "
         "sigmoid's slope.", lambda grad_output, x: activations.sigmoid(x)),
        ("this is only the sigmoid's slope: the chain rule multiplies it by the upstream gradient, grad_output.", slope),
        ("the formula s (1 - s) is applied to x itself: s is the sigmoid of x, so compute s = sigmoid(x) first.",
         lambda grad_output, x: grad_output * x * (1.0 - x)),
        ("this is 1 - s^2, the pattern of tanh's derivative (1 - tanh^2): the sigmoid's is s (1 - s).",
         lambda grad_output, x: grad_output * (1.0 - activations.sigmoid(x) ** 2)),
        ("the factor 1 - s is missing: the sigmoid's slope is s (1 - s), largest (1/4) at x = 0.",
         lambda grad_output, x: grad_output * activations.sigmoid(x)),
    ]
    return verdict.check_function("check_sigmoid_backward", function, _sigmoid_cases(), _sigmoid_backward, mistakes)


# --- the input gradient as a full convolution ----------------------------------------------------


def _input_gradient(grad_output, kernel):
    """The input gradient of a stride-1 "valid" convolution, from the package's backward pass."""
    kh, kw, c_in, _ = kernel.shape
    n, out_h, out_w, _ = grad_output.shape
    x = np.zeros((n, out_h + kh - 1, out_w + kw - 1, c_in))  # the input gradient does not depend on x
    grad_x, _, _ = gradients.conv2d_backward(grad_output, x, kernel)
    return grad_x


def _full_convolution_cases():
    rng = np.random.default_rng(12)
    return [
        {"grad_output": np.array([[[[1.0], [2.0]], [[0.0], [-1.0]]]]), "kernel": np.array([[1.0, 2.0], [3.0, 4.0]])[:, :, None, None]},
        {"grad_output": rng.integers(-2, 3, size=(1, 2, 3, 2)).astype(float), "kernel": rng.integers(-2, 3, size=(2, 2, 2, 2)).astype(float)},
        {"grad_output": rng.integers(-2, 3, size=(2, 3, 2, 3)).astype(float), "kernel": rng.integers(-2, 3, size=(3, 2, 2, 3)).astype(float)},
    ]


def check_learning_full_convolution(function):
    """Check ``function(grad_output, kernel) -> ndarray``: a convolution's input gradient as a full convolution.

    For a stride-1 "valid" convolution with a kernel of shape (kh, kw, C_in,
    C_out), ``grad_output`` of shape (N, H', W', C_out) gives the input
    gradient of shape (N, H' + kh - 1, W' + kw - 1, C_in): ``grad_output``
    padded with ``kh - 1`` and ``kw - 1`` zeros and convolved with the kernel
    turned by 180 degrees, its channels swapped. The check compares it with
    ``gradients.conv2d_backward``. The exercise "The input gradient is a full
    convolution" of the chapter "Learning from scratch". Recognises the
    kernel not flipped, flipped in one direction only, its channels not
    swapped, and the padding left out.

    Returns
    -------
    bool
    """

    def full(grad_output, kernel, turned, swap=True, pad=True):
        kh, kw = kernel.shape[:2]
        kernel = turned(kernel)
        return ops.conv2d(grad_output, kernel.transpose(0, 1, 3, 2) if swap else kernel,
                          padding=(kh - 1, kw - 1) if pad else 0)

    mistakes = [
        ("the kernel is not flipped: output (i, j) met input (i + u, j + v) through kernel[u, v], so going back "
         "the kernel is turned by 180 degrees, kernel[::-1, ::-1].",
         lambda grad_output, kernel: full(grad_output, kernel, lambda k: k)),
        ("the kernel is flipped in one direction only: turn it by 180 degrees, kernel[::-1, ::-1], reversing "
         "both its rows and its columns.", lambda grad_output, kernel: full(grad_output, kernel, lambda k: k[::-1])),
        ("the kernel's channels are not swapped: going back, grad_output's C_out channels are the input and "
         "the C_in channels of x the output, so use kernel.transpose(0, 1, 3, 2).",
         lambda grad_output, kernel: full(grad_output, kernel, lambda k: k[::-1, ::-1], swap=False)),
        ("the padding is missing: a 'valid' convolution of grad_output shrinks it further; pad it with kh - 1 and "
         "kw - 1 zeros on each side to get back to the input's size.",
         lambda grad_output, kernel: full(grad_output, kernel, lambda k: k[::-1, ::-1], pad=False)),
    ]
    return verdict.check_function("check_learning_full_convolution", function, _full_convolution_cases(),
                                  _input_gradient, mistakes)


# --- the gradient of the loss for the pixels (a saliency map) ------------------------------------


def _pixel_gradients(network, image, label):
    """The gradient of the loss for the pixels, and the variants of the known mistakes, from a copy of ``network``."""
    network = copy.deepcopy(network)  # the backward passes fill the layers' caches and gradients
    logit_layers = network.layers[:-1] if isinstance(network.layers[-1], layers.Softmax) else network.layers
    values = image.astype(network.dtype)
    for layer in logit_layers:
        values = layer.forward(values, training=True)
    _, probabilities = losses.softmax_cross_entropy(values, label)

    def back(grad_logits):
        grad, before_first = grad_logits, None
        for index in range(len(logit_layers) - 1, -1, -1):
            if index == 0:
                before_first = grad
            grad = logit_layers[index].backward(grad)
        return grad, before_first

    grad, before_first = back(gradients.softmax_cross_entropy_backward(probabilities, label))
    score, _ = back(np.eye(probabilities.shape[1])[label])
    return grad, before_first, score


def check_learning_saliency(answer, network, image, label):
    """Check the gradient of the loss with respect to the pixels of one image (a saliency map).

    The exercise "Which pixels matter?" of the chapter "Learning from
    scratch": the answer is the gradient of the mean softmax cross-entropy of
    ``network`` on ``image`` with respect to the image, an array of the
    image's shape (N, H, W, C), signed. The check computes it on a copy of
    the network, through every layer's backward pass, the first included.
    Tolerances follow the network's dtype: relative 1e-7 of the largest
    gradient in float64, 1e-3 in float32. Recognises the absolute value
    given instead of the gradient, the sign flipped, the gradient stopped at
    the first layer's output, and the gradient of the true class's logit
    instead of the loss.

    Parameters
    ----------
    answer : ndarray of shape (N, H, W, C) or None
        The student's gradient.
    network : cnn_course.model.Sequential
        The trained network whose last layer gives logits (or a final Softmax).
    image : ndarray of shape (N, H, W, C)
        The images, of the network's input shape.
    label : ndarray of int, shape (N,)
        Their true classes.

    Returns
    -------
    bool
    """
    if not isinstance(network, model.Sequential):
        raise TypeError(f"network must be a cnn_course.model.Sequential, got {type(network).__name__}")
    image = np.asarray(image)
    if image.ndim != len(network.input_shape) + 1 or image.shape[1:] != network.input_shape:
        raise ValueError(f"image must have shape (N, {', '.join(map(str, network.input_shape))}) for this network, "
                         f"got shape {image.shape}")
    label = np.asarray(label)
    if label.shape != image.shape[:1] or label.dtype.kind not in "iu":
        raise ValueError(f"label must be integer class labels of shape ({image.shape[0]},), got {label.dtype} "
                         f"labels of shape {label.shape}")
    expected, before_first, score = _pixel_gradients(network, image, label)
    tolerance = 1e-7 if network.dtype == np.float64 else 1e-3
    mistakes = [
        ("this is the absolute value of the gradient: that is what the figure shows, but the answer is the "
         "gradient itself, with its signs.", np.abs(expected)),
        ("the sign is flipped: the gradient of the loss points to where the loss grows; this is the gradient "
         "of its negative (the log-probability of the true class).", -expected),
        ("this is the gradient with respect to the first layer's output: call backward on the first layer too, "
         "to get back to the pixels. (Sequential.backward skips it, because training never needs it.)", before_first),
        ("this is the gradient of the true class's logit, not of the loss: start the backward pass from "
         "gradients.softmax_cross_entropy_backward(probabilities, label).", score),
    ]
    return verdict.check_answer(
        "check_learning_saliency", answer, expected=expected, mistakes=mistakes,
        asks=f"the gradient of the loss with respect to the pixels, an array of shape {image.shape}",
        hint="run forward(image, training=True), start from the loss's gradient for the logits, and call backward "
             "on every layer in reverse order, the first one included.",
        rtol=tolerance, atol=tolerance * float(np.abs(expected).max()))
