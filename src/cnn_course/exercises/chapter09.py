"""The exercise checks of the chapter "Learning from scratch": the backward passes."""

import numpy as np

from cnn_course import gradients
from cnn_course.exercises import verdict

__all__ = [
    "check_relu_backward",
    "check_max_pool2d_backward",
    "check_dense_backward",
    "check_softmax_cross_entropy_backward",
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
