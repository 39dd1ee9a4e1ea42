"""The exercise checks of the chapter "ReLU and other activations".

One function check, :func:`check_leaky_relu`, and four answer checks whose
answer is a tuple of parts (numbers, small arrays, words, True or False),
checked part by part with :func:`cnn_course.exercises.verdict.check_parts`:
the verdict says which parts are right and names the mistake of a wrong
part when it recognises one; it never shows a right value. The parts of the
forward and backward pass by hand build on each other, so they are judged
in order, up to the first that is not right. Every expected value and every
wrong one is computed with the course's code from the arrays the chapter
passes in. The answer checks:

- :func:`check_activations_by_hand`: ``(z, relu_z, loss, grad_z, grad_W, grad_x, unit)`` of a tiny ReLU layer;
- :func:`check_activations_pool`: three bools, which activations commute with which pooling;
- :func:`check_activations_tanh`: ``(largest derivative, "yes"/"no", ratio)`` of tanh;
- :func:`check_activations_scale`: ``(ReLU ratio, sigmoid ratio)`` with smaller weights.
"""

import numpy as np

from cnn_course import activations, checks, dense, gradients, pooling
from cnn_course.exercises import verdict

__all__ = [
    "check_leaky_relu",
    "check_activations_by_hand",
    "check_activations_pool",
    "check_activations_tanh",
    "check_activations_scale",
]

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


# --- ex-activations-leaky ----------------------------------------------------------------------


def _leaky_relu(x, alpha=0.01):
    # relu(x) - alpha * relu(-x): x for x > 0, alpha * x for x < 0, built from the course's ReLU.
    return activations.relu(x) - alpha * activations.relu(-x)


def _leaky_cases():
    rng = np.random.default_rng(6)
    return [
        {"x": np.array([-2.0, -0.5, 0.0, 1.5, 3.0]), "alpha": 0.1},
        {"x": np.array([[-1.0, 2.0], [4.0, -3.0]]), "alpha": 0.2},
        {"x": rng.integers(-3, 4, size=(2, 3, 3, 2)).astype(float), "alpha": 0.05},
        {"x": np.array([-100.0, -1.0, 0.0, 1.0, 100.0])},  # alpha left out: the default, 0.01
    ]


def check_leaky_relu(function):
    """Check ``function(x, alpha=0.01) -> ndarray``: leaky ReLU, ``x`` where ``x > 0``, else ``alpha * x``.

    The exercise "Leaky ReLU" of the chapter "ReLU and other activations".
    The cases pass ``alpha`` by position, except the last, which leaves it
    out to test the default 0.01. Recognises plain ReLU (negatives set to 0),
    the slope 0.01 written in instead of ``alpha``, ``alpha`` applied to the
    positive inputs, the derivative returned instead of the function, and a
    default other than 0.01 (TensorFlow's 0.2, Keras's 0.3...).

    Parameters
    ----------
    function : callable
        The student's ``leaky_relu(x, alpha=0.01)``; ``x`` of any shape.

    Returns
    -------
    bool
    """

    def wrong_default(case, received):
        if "alpha" in case:
            return None
        x = case["x"]
        received = np.asarray(received, dtype=float)
        negative = x < 0
        if received.shape != x.shape or not np.allclose(received[~negative], x[~negative], rtol=verdict.TOLERANCE, atol=0):
            return None
        slopes = received[negative] / x[negative]
        if np.allclose(slopes, slopes[0], rtol=1e-9) and not np.isclose(slopes[0], 0.01, rtol=1e-9) and slopes[0] > 0:
            return (f"called without alpha, your function uses the slope {slopes[0]:.3g} for negative inputs: the "
                    "exercise's default is alpha=0.01 (TensorFlow's tf.nn.leaky_relu defaults to 0.2, Keras's "
                    "LeakyReLU to 0.3).")
        return None

    mistakes = [
        ("negative inputs give 0: that is plain ReLU. Leaky ReLU keeps a small slope for them, alpha * x, so that "
         "their gradient is never exactly 0.", lambda x, alpha=0.01: activations.relu(x)),
        ("the slope for negative inputs is always 0.01, whatever alpha is passed: use the argument alpha (0.01 is "
         "only its default).", lambda x, alpha=0.01: _leaky_relu(x, 0.01)),
        ("alpha multiplies the positive inputs: positive inputs pass unchanged, as in ReLU, and alpha is the slope "
         "for the negative ones.", lambda x, alpha=0.01: np.where(x > 0, alpha * x, x)),
        ("this is the derivative of leaky ReLU (1 or alpha), not the function itself, which returns x or alpha * x.",
         lambda x, alpha=0.01: np.where(x > 0, 1.0, alpha)),
    ]
    return verdict.check_function("check_leaky_relu", function, _leaky_cases(), _leaky_relu, mistakes,
                                  extra_check=wrong_default)


# --- ex-activations-by-hand --------------------------------------------------------------------


def check_activations_by_hand(answer, x, weights):
    """Check the forward and backward pass of a bias-free ReLU layer worked out by hand.

    The exercise "A forward and backward pass by hand" of the chapter "ReLU
    and other activations": for one example ``x`` and ``weights``, compute
    ``z = x @ weights``, ``relu(z)``, the loss ``sum(relu(z))``, the gradient
    of the loss for ``z``, for ``weights`` and for ``x``, and name the unit
    that learns nothing. The expected values come from ``ops.dense``,
    ``gradients.relu_backward`` and ``gradients.dense_backward``.

    The answer is a tuple ``(z, relu_z, loss, grad_z, grad_weights, grad_x,
    unit)``: lists of numbers for the vectors (``[a, b]`` or ``[[a, b]]``), a
    list of rows for ``grad_weights``, and the unit as a word, ``"first"``,
    ``"second"``... Recognises ``weights`` used transposed (``x @ weights.T``),
    a ReLU that takes absolute values or changes nothing, the loss summed
    before ReLU, ReLU's derivative forgotten or replaced by ReLU itself in the
    backward pass, the weight gradient transposed, the input gradient without
    the transpose (``grad_z @ weights``), and the active unit named instead of
    the one that learns nothing.

    Parameters
    ----------
    answer : tuple of 7, or None
    x : ndarray of shape (D_in,) or (1, D_in)
        The example.
    weights : ndarray of shape (D_in, D_out)
        One column per unit; exactly one unit must have a negative pre-activation.

    Returns
    -------
    bool
    """
    x = checks.as_float_array(x, "x")
    if x.ndim == 1:
        x = x[np.newaxis, :]
    if x.ndim != 2 or x.shape[0] != 1:
        raise ValueError(f"x must be one example, of shape (D_in,) or (1, D_in), got shape {x.shape}")
    z = dense.dense(x, weights)  # checks that weights is (D_in, D_out)
    weights = np.asarray(weights, dtype=float)
    relu_z = activations.relu(z)
    ones = np.ones_like(z)
    grad_z = gradients.relu_backward(ones, z)
    grad_x, grad_weights, _ = gradients.dense_backward(grad_z, x, weights)
    idle = np.flatnonzero(grad_z[0] == 0.0)
    if len(idle) != 1 or weights.shape[1] > len(ORDINALS):
        raise ValueError(f"weights must give exactly one unit a pre-activation <= 0 (at most {len(ORDINALS)} units); "
                         f"x @ weights is {z[0].tolist()}")
    others = [ORDINALS[unit] for unit in range(weights.shape[1]) if unit != idle[0]]
    words = " or ".join(repr(word) for word in ORDINALS[:weights.shape[1]])
    asks = ("a tuple (z, relu_z, loss, grad_z, grad_W, grad_x, unit): lists of numbers for the vectors, a list of "
            f"rows for grad_W and the unit as a word, {words}")
    vector = "a list of numbers, [a, b] or [[a, b]]"
    # squeeze: [a, b] answers a (1, D) row; the tolerances are at rounding level, for exact arithmetic by hand.
    parts = [
        ("z", dict(expected=z, squeeze=True, asks=f"z, {vector}", hint="z_j = sum over i of x_i * W[i, j].", mistakes=[
            ("z looks computed with the rows of W: z_j = sum over i of x_i * W[i, j], down column j "
             "(one column per unit), that is x @ W.", x @ weights.T)])),
        ("relu(z)", dict(expected=relu_z, squeeze=True, asks=f"relu(z), {vector}",
                         hint="relu(z) = max(0, z), value by value.", mistakes=[
            ("ReLU does not drop the sign of a negative value, it replaces the value by 0.", np.abs(z)),
            ("relu(z) is z with every negative value replaced by 0.", z)])),
        ("the loss", dict(expected=relu_z.sum(), asks="the loss, a number", hint="add up the values of relu(z).",
                          mistakes=[("this is the sum of z: the loss is the sum of the ReLU outputs, after the "
                                     "activation.", z.sum())])),
        ("the gradient for z", dict(
            expected=grad_z, squeeze=True, asks=f"the gradient for z, {vector}",
            hint="the upstream gradient of a sum is 1 for every output; multiply it by relu'(z).", mistakes=[
                ("ReLU's derivative is missing: the gradient for z is upstream * relu'(z), and relu'(z) is 0 where z "
                 "is negative.", ones),
                ("the upstream gradient is multiplied by relu(z): the rule uses ReLU's derivative, relu'(z), which is "
                 "1 for a positive z and 0 for a negative one.", ones * relu_z)])),
        ("the gradient for W", dict(
            expected=grad_weights, squeeze=True, asks="the gradient for W, a list of rows, one per input",
            hint="x.T @ grad_z, the outer product of x and grad_z.", mistakes=[
                ("this is the transpose: the gradient for W has W's shape, row i for input i and column j for unit j, "
                 "x.T @ grad_z.", grad_weights.T),
                ("ReLU's derivative is missing: the weight gradient is x.T @ (upstream * relu'(z)).", x.T @ ones)])),
        ("the gradient for x", dict(
            expected=grad_x, squeeze=True, asks=f"the gradient for x, {vector}", hint="grad_z @ W.T.", mistakes=[
                ("the weights are not transposed: the gradient for x is grad_z @ W.T, so input i collects the "
                 "gradients of the units it feeds along row i of W.", grad_z @ weights),
                ("ReLU's derivative is missing: the input gradient is (upstream * relu'(z)) @ W.T.", ones @ weights.T)])),
        ("the unit", dict(
            expected=ORDINALS[idle[0]], asks=f"the unit that learns nothing, {words}",
            hint="it is the unit whose column of the weight gradient is zero.", mistakes=[
                ("that unit's pre-activation is positive, so ReLU passes its gradient back and its weights change; "
                 "look for the unit whose column of the weight gradient is zero.", word) for word in others])),
    ]
    return verdict.check_parts("check_activations_by_hand", answer, parts, asks=asks, in_order=True)


# --- ex-activations-pool -----------------------------------------------------------------------


def _as_feature_maps(feature_map, name):
    feature_map = checks.as_float_array(feature_map, name)
    if feature_map.ndim == 2:
        feature_map = feature_map[np.newaxis, :, :, np.newaxis]
    checks.check_rank(feature_map, 4, name, "(H, W) or (N, H, W, C)")
    if min(feature_map.shape[1:3]) < 2:
        raise ValueError(f"{name} must be at least 2 x 2 to pool, got shape {feature_map.shape}")
    return feature_map


def _commutes(pool, activation, batch):
    first, second = pool(activation(batch), 2), activation(pool(batch, 2))
    return bool(np.allclose(first, second, rtol=1e-12, atol=1e-12))


def check_activations_pool(answer, feature_map):
    """Check which activations commute with which pooling, on the chapter's edge feature map.

    The exercise "Which activations commute with pooling?" of the chapter
    "ReLU and other activations". The answer is a tuple of three bools:
    whether sigmoid commutes with 2 x 2 max pooling, whether tanh does, and
    whether ReLU commutes with 2 x 2 average pooling (``True`` if the two
    orders give the same pooled map). The expected bools are computed with
    ``ops.max_pool2d``, ``ops.avg_pool2d`` and the activations on
    ``feature_map``. Recognises "a nonlinear function does not commute with
    max pooling" (for sigmoid and for tanh), "tanh's negative outputs break
    it", and average pooling taken to commute with ReLU like max pooling.

    Parameters
    ----------
    answer : tuple of 3 bool, or None
    feature_map : ndarray of shape (H, W) or (N, H, W, C)
        The chapter's Sobel feature map.

    Returns
    -------
    bool
    """
    batch = _as_feature_maps(feature_map, "feature_map")
    sigmoid_max = _commutes(pooling.max_pool2d, activations.sigmoid, batch)
    tanh_max = _commutes(pooling.max_pool2d, activations.tanh, batch)
    relu_average = _commutes(pooling.avg_pool2d, activations.relu, batch)
    asks = ("a tuple of three bools: (sigmoid commutes with max pooling, tanh commutes with max pooling, "
            "ReLU commutes with average pooling), True or False each")
    order = ("being nonlinear is not what matters for max pooling: a function that never changes the order of two "
             "numbers (a non-decreasing one) keeps the largest value of a window the largest, so both orders pick "
             "the same value.")
    def compare(pool, activation):
        return (f"with maps = feature_map[np.newaxis, :, :, np.newaxis], compare ops.{pool}(ops.{activation}(maps), 2) "
                f"with ops.{activation}(ops.{pool}(maps, 2)) using np.allclose.")

    parts = [
        ("sigmoid with max pooling", dict(
            expected=sigmoid_max, asks="True if sigmoid commutes with max pooling, else False",
            hint=compare("max_pool2d", "sigmoid"), mistakes=[(order, not sigmoid_max)])),
        ("tanh with max pooling", dict(
            expected=tanh_max, asks="True if tanh commutes with max pooling, else False",
            hint=compare("max_pool2d", "tanh"), mistakes=[
                ("tanh's outputs can be negative, but that does not matter for max pooling: tanh never changes the "
                 "order of two numbers, so the largest value of a window stays the largest, whatever its sign.",
                 not tanh_max)])),
        ("ReLU with average pooling", dict(
            expected=relu_average, asks="True if ReLU commutes with average pooling, else False",
            hint=compare("avg_pool2d", "relu"), mistakes=[
                ("average pooling is not max pooling: the mean of rectified values is not the rectified mean. Try a "
                 "window holding -1 and 1 in both orders.", not relu_average)])),
    ]
    return verdict.check_parts("check_activations_pool", answer, parts, asks=asks)


# --- the ten-layer gradient experiment (ex-activations-tanh, ex-activations-scale) ---------------

_DERIVATIVES = {
    "relu": lambda z: gradients.relu_backward(np.ones_like(z), z),
    "sigmoid": lambda z: activations.sigmoid(z) * (1.0 - activations.sigmoid(z)),
    "tanh": lambda z: 1.0 - activations.tanh(z) ** 2,
}
_FUNCTIONS = {"relu": activations.relu, "sigmoid": activations.sigmoid, "tanh": activations.tanh}


def _check_experiment(digits, weights):
    """The digits and the weight matrices of the ten-layer experiment, as float arrays whose sizes chain."""
    digits = checks.as_float_array(digits, "digits")
    checks.check_rank(digits, 2, "digits", "(N, D_in)")
    if not isinstance(weights, (list, tuple)) or not weights:
        raise TypeError(f"weights must be a list of weight matrices (D_in, D_out), one per layer, got {type(weights).__name__}")
    matrices, size = [], digits.shape[1]
    for index, matrix in enumerate(weights):
        matrix = checks.as_float_array(matrix, f"weights[{index}]")
        checks.check_rank(matrix, 2, f"weights[{index}]", "(D_in, D_out)")
        if matrix.shape[0] != size:
            raise ValueError(f"weights[{index}] must have shape ({size}, D_out) to follow the layer below, "
                             f"got shape {matrix.shape}")
        matrices.append(matrix)
        size = matrix.shape[1]
    return digits, matrices


def _gradient_ratio(digits, weights, name):
    """Mean |gradient| at layer 1 over that at the last layer, for the loss sum(output), as the chapter computes it.

    The gradient of a layer is taken after its activation's derivative, from
    a gradient of ones at the output.
    """
    function, derivative = _FUNCTIONS[name], _DERIVATIVES[name]
    activation, pre_activations = digits, []
    for matrix in weights:
        z = activation @ matrix
        pre_activations.append(z)
        activation = function(z)
    gradient, sizes = np.ones_like(activation), []
    for matrix, z in zip(reversed(weights), reversed(pre_activations)):
        gradient = gradient * derivative(z)
        sizes.append(np.abs(gradient).mean())
        gradient = gradient @ matrix.T
    return sizes[-1] / sizes[0]  # sizes runs from the last layer down to layer 1


RATIO_RTOL = 0.06  # two significant figures, rounded by hand, are within 5 %


def check_activations_tanh(answer, digits, weights):
    """Check the largest derivative of tanh, whether it saturates, and the ten-layer tanh experiment.

    The exercise "tanh is a stretched sigmoid" of the chapter "ReLU and other
    activations". The answer is a tuple ``(largest_derivative, saturates,
    ratio)``: the largest value of tanh'(x) (a number), whether tanh saturates
    (``"yes"`` or ``"no"``), and the mean |gradient| at layer 1 over that at
    layer 10 of the chapter's ten-layer network with tanh (a number, to two
    significant figures). The expected values are computed with ``ops.tanh``
    and the chapter's backward pass on ``digits`` and ``weights``.
    Recognises the sigmoid's largest derivative, the factor 2 of the chain
    rule forgotten in 2 sigma(2x) - 1, "tanh does not saturate", the sigmoid's
    or ReLU's ratio instead of tanh's, and the ratio turned upside down.

    Parameters
    ----------
    answer : tuple of (float, str, float), or None
    digits : ndarray of shape (N, D_in)
        The chapter's batch of flattened digits.
    weights : list of ndarray of shape (D_in, D_out)
        The chapter's weight matrices, one per layer.

    Returns
    -------
    bool
    """
    digits, weights = _check_experiment(digits, weights)
    grid = np.linspace(-6.0, 6.0, 241)
    tanh_slope, sigmoid_slope = _DERIVATIVES["tanh"](grid), _DERIVATIVES["sigmoid"](grid)
    far = _DERIVATIVES["tanh"](np.array(5.0))
    saturates = "yes" if far < 0.01 * tanh_slope.max() else "no"
    ratio = _gradient_ratio(digits, weights, "tanh")
    asks = ('a tuple (largest derivative of tanh, "yes" or "no" for whether tanh saturates, layer 1 / layer 10 of '
            "the tanh network to two significant figures)")
    parts = [
        ("the largest derivative of tanh", dict(
            expected=tanh_slope.max(), rtol=1e-3, asks="the largest derivative of tanh, a number",
            hint="tanh'(x) = 1 - tanh(x)**2; the chapter's cell of derivatives prints its largest value.", mistakes=[
                ("that is the sigmoid's largest derivative. tanh'(x) = 1 - tanh(x)**2: where is tanh(x) closest to 0?",
                 sigmoid_slope.max()),
                ("the chain rule's inner factor is missing: the derivative of 2 * sigmoid(2x) - 1 is "
                 "2 * sigmoid'(2x) * 2, the last 2 coming from the 2x inside.", 2 * sigmoid_slope.max())])),
        ("whether tanh saturates", dict(
            expected=saturates, asks='whether tanh saturates, "yes" or "no"', hint='answer "yes" or "no".', mistakes=[
                ("a large derivative near 0 does not stop saturation: compute tanh'(5), far from zero.",
                 "no" if saturates == "yes" else "yes")])),
        ("the tanh network's layer 1 / layer 10", dict(
            expected=ratio, rtol=RATIO_RTOL, atol=0.0, asks="the ratio, a number to two significant figures",
            hint="gradient_sizes(ops.tanh, tanh_derivative) returns the sizes with layer 1 first; divide the first by "
                 "the last.", mistakes=[
                ("that is the sigmoid network's ratio: rerun gradient_sizes with ops.tanh and tanh_derivative.",
                 _gradient_ratio(digits, weights, "sigmoid")),
                ("that is the ReLU network's ratio: rerun gradient_sizes with ops.tanh and tanh_derivative.",
                 _gradient_ratio(digits, weights, "relu")),
                ("the ratio is upside down: divide the mean |gradient| at layer 1, nearest the input, by that at "
                 "layer 10.", 1.0 / ratio)])),
    ]
    return verdict.check_parts("check_activations_tanh", answer, parts, asks=asks)


def check_activations_scale(answer, digits, weights):
    """Check the ten-layer experiment rerun with weights of standard deviation sqrt(1 / D_in).

    The exercise "Smaller weights" of the chapter "ReLU and other
    activations". The smaller weights are the chapter's (standard deviation
    sqrt(2 / D_in)) divided by sqrt(2): the same random draws. The answer is
    a tuple ``(relu_ratio, sigmoid_ratio)``: the mean |gradient| at layer 1
    over that at layer 10 for the ReLU network and for the sigmoid network
    with the smaller weights, each to two significant figures. The expected
    values are computed with the course's activations and the chapter's
    backward pass. Recognises the ratios of the chapter's original weights,
    weights halved (the standard deviation divided by 2 instead of
    sqrt(2)), the two networks swapped, and a ratio upside down.

    Parameters
    ----------
    answer : tuple of 2 float, or None
    digits : ndarray of shape (N, D_in)
        The chapter's batch of flattened digits.
    weights : list of ndarray of shape (D_in, D_out)
        The chapter's weight matrices (standard deviation sqrt(2 / D_in)), one per layer.

    Returns
    -------
    bool
    """
    digits, weights = _check_experiment(digits, weights)
    smaller = [matrix / np.sqrt(2.0) for matrix in weights]
    halved = [matrix / 2.0 for matrix in weights]
    ratios = {name: _gradient_ratio(digits, smaller, name) for name in ("relu", "sigmoid")}
    asks = "a tuple (ReLU ratio, sigmoid ratio), each layer 1 / layer 10 with the smaller weights, to two significant figures"

    def part_mistakes(name, other):
        label = "ReLU" if other == "relu" else "sigmoid"
        return [
            ("that is the ratio with the chapter's weights, of standard deviation sqrt(2 / D_in): rerun with the "
             "smaller weights, [w / np.sqrt(2) for w in weights].", _gradient_ratio(digits, weights, name)),
            ("the weights look halved: sqrt(1 / D_in) is sqrt(2 / D_in) divided by sqrt(2), not by 2 (halving the "
             "variance divides the standard deviation by sqrt(2)).", _gradient_ratio(digits, halved, name)),
            (f"that is the {label} network's ratio: the answer is (ReLU ratio, sigmoid ratio), in that order.",
             ratios[other]),
            ("the ratio is upside down: divide the mean |gradient| at layer 1, nearest the input, by that at layer 10.",
             1.0 / ratios[name]),
        ]

    parts = [
        (f"the {label} network's layer 1 / layer 10", dict(
            expected=ratios[name], rtol=RATIO_RTOL, atol=0.0, mistakes=part_mistakes(name, other),
            asks=f"the {label} network's ratio, a number to two significant figures",
            hint=f"swap in the smaller weights, call gradient_sizes(ops.{name}, {name}_derivative) and divide its "
                 "first value by its last."))
        for name, other, label in [("relu", "sigmoid", "ReLU"), ("sigmoid", "relu", "sigmoid")]
    ]
    return verdict.check_parts("check_activations_scale", answer, parts, asks=asks)
