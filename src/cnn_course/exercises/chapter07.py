"""The exercise checks of the chapter "Fully connected layer, dropout and softmax".

Function checks: :func:`check_softmax`, :func:`check_dropout` and
:func:`check_dense_two_classes` (the number whose sigmoid is a two-class
softmax, as a function of the two logits). Answer checks:
:func:`check_dense_parameters` (a parameter count),
:func:`check_dense_by_hand` (a tiny dense layer and its softmax and loss,
worked out on paper), :func:`check_dense_dropout_average` (the average of
many dropout masks) and :func:`check_dense_temperature` (softmax at extreme
temperatures). An answer made of several parts is judged part by part, in
order, with :func:`cnn_course.exercises.verdict.check_parts`: the verdict
says which parts are right so far and names the mistake in the first one
that is not, never the right value.
"""

import math

import numpy as np

from cnn_course import activations, checks, layers, losses, ops
from cnn_course.exercises import verdict

__all__ = [
    "check_softmax",
    "check_dropout",
    "check_dense_parameters",
    "check_dense_by_hand",
    "check_dense_two_classes",
    "check_dense_dropout_average",
    "check_dense_temperature",
]


def _softmax_cases():
    return [
        {"logits": np.array([[1.0, 2.0, 3.0]])},
        {"logits": np.array([[0.0, 0.0], [2.0, -1.0], [1.0, 1.0]])},
        {"logits": np.array([[1000.0, 999.0, 0.0], [-5.0, 0.0, 5.0]])},
        {"logits": np.array([[-1000.0, -1001.0, -999.0]])},
    ]


def check_softmax(function):
    """Check ``function(logits) -> ndarray``: softmax over the last axis of an (N, K) array.

    Introduced in the chapter "Fully connected layer, dropout and softmax".
    Recognises a softmax without the maximum subtracted (overflow to
    infinity or NaN), one normalised over the wrong axis or over the whole
    array, sigmoids instead, and a missing exponential.

    Returns
    -------
    bool
    """

    def overflow(case, received):
        with np.errstate(all="ignore"):
            values = np.asarray(received, dtype=float)
        if values.shape == case["logits"].shape and not np.all(np.isfinite(values)):
            return ("some outputs are NaN or infinite: exp(1000) overflows. Subtract each row's maximum before "
                    "np.exp; it changes nothing mathematically and keeps every exp at most 1.")
        return None

    def silent(wrong):
        def quiet(logits):
            with np.errstate(all="ignore"):
                return wrong(logits)
        return quiet

    mistakes = [
        ("each column sums to 1 instead of each row: the classes are on the last axis, so sum with "
         "axis=-1, keepdims=True.", silent(lambda logits: activations.softmax(logits, axis=0))),
        ("the whole array sums to 1: each example (row) is its own distribution, so sum with axis=-1, keepdims=True.",
         silent(lambda logits: np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum())),
        ("these are sigmoids, one per class: they do not sum to 1. Softmax divides the exponentials by their sum.",
         silent(lambda logits: 1 / (1 + np.exp(-logits)))),
        ("the exponential is missing: softmax divides exp(z_i) by the sum of exp(z_j), which keeps every output positive.",
         silent(lambda logits: logits / logits.sum(axis=-1, keepdims=True))),
    ]
    return verdict.check_function("check_softmax", function, _softmax_cases(), lambda logits: activations.softmax(logits), mistakes,
                    extra_check=overflow)


def check_dropout(function):
    """Check ``function(x, rate, rng) -> ndarray``: inverted dropout while training.

    Each value must be dropped (set to 0) with probability ``rate``, using
    ``rng`` (a ``numpy.random.Generator``) for the randomness, and each kept
    value divided by ``1 - rate``. The masks are random, so the check looks at
    what must hold for any mask: every output is 0 or ``x / (1 - rate)``, the
    share of zeros is close to ``rate``, and rate 0 changes nothing.
    Introduced in the chapter "Fully connected layer, dropout and softmax".
    Recognises a missing scale, a scale by ``1 - rate``, and ``rate`` used as
    the probability of keeping.

    Returns
    -------
    bool
    """
    if not verdict.is_function("check_dropout", function):
        return False
    x = np.arange(1.0, 20_001.0).reshape(200, 100)
    for rate in (0.0, 0.25, 0.5, 0.8):
        received, error, changed = verdict.run_case(function, {"x": x, "rate": rate, "rng": np.random.default_rng(7)})
        header = f"check_dropout: fails for x of shape {x.shape} holding 1, 2, ..., 20000 and rate = {rate}."
        if error is not None:
            print(f"{header}\n  your function raised {type(error).__name__}: {error}")
            return False
        if received is None:
            print(f"{header}\n  your function returned None: is a `return` missing?")
            return False
        if changed:
            print(f"{header}\n  your function changed its input x in place; work on a copy.")
            return False
        received = np.asarray(received, dtype=float)
        if received.shape != x.shape:
            print(f"{header}\n  the result has shape {received.shape}; it needs the shape of x, {x.shape}.")
            return False
        kept = received != 0
        dropped_share = 1 - kept.mean()
        scale = received[kept] / x[kept] if kept.any() else np.array([1.0 / (1.0 - rate)])
        # The share of zeros of 20,000 independent draws: 5 standard deviations around rate.
        spread = 5 * math.sqrt(max(rate * (1 - rate), 1e-12) / x.size)
        problem = None
        if rate == 0.0 and not np.array_equal(received, x):
            problem = "with rate 0 nothing is dropped, so the output must be x itself."
        elif not np.allclose(scale, 1.0 / (1.0 - rate), rtol=1e-9):
            if np.allclose(scale, 1.0, rtol=1e-9):
                problem = ("the kept values are not scaled: inverted dropout divides them by 1 - rate, so that every "
                           "unit keeps its expected value and nothing changes at inference.")
            elif np.allclose(scale, 1.0 - rate, rtol=1e-9):
                problem = ("the kept values are multiplied by 1 - rate: they must be *divided* by it, "
                           "x / (1 - rate), to keep the expected value.")
            else:
                problem = f"the kept values are x times {float(np.median(scale)):.4g}; they must be x / (1 - rate) = x times {1 / (1 - rate):.4g}."
        elif abs(dropped_share - rate) > spread:
            if abs(dropped_share - (1 - rate)) <= spread:
                problem = (f"{dropped_share:.1%} of the values are dropped: rate is the probability of *dropping* a "
                           f"value, so about {rate:.0%} should be 0.")
            else:
                problem = f"{dropped_share:.1%} of the values are dropped; with rate {rate} about {rate:.0%} should be."
        if problem:
            print(f"{header}\n  {problem}")
            return False
    print("check_dropout: all 4 rates pass (0, 0.25, 0.5, 0.8). Well done!")
    return True


# --- answers in several parts ---------------------------------------------------------------


def _as_numbers(value, size):
    """``value`` as a flat float array of ``size`` numbers, or None if it is not that."""
    if isinstance(value, (str, bytes, bool)) or value is None:
        return None
    try:
        array = np.asarray(value, dtype=float).ravel()
    except (TypeError, ValueError):
        return None
    return array if array.size == size else None


def _numbers_part(expected, mistakes, hint, atol, asks):
    """The :func:`verdict.check_answer` options of a part that is numbers within ``atol`` of ``expected``.

    A list answers a row of shape (1, D) too (``squeeze``); only the absolute
    tolerance counts, as the exercises ask for so many decimals.
    """
    return dict(expected=expected, mistakes=mistakes, hint=hint, asks=asks, rtol=0.0, atol=atol, squeeze=True)


# --- ex-dense-parameters ----------------------------------------------------------------------


def _dense_after_flatten(input_shape, units):
    """The course's Flatten and Dense(units) built for one example of ``input_shape``."""
    flatten = layers.Flatten()
    flat_shape = flatten.build(tuple(input_shape))
    dense = layers.Dense(units)
    dense.build(flat_shape, rng=np.random.default_rng(0))
    return flat_shape[0], dense


def check_dense_parameters(answer, input_shape, units):
    """Check the exercise "Parameters after a deeper network": the parameter count of Dense after Flatten.

    The answer is one number: the parameters of ``Dense(units)`` on the
    flattened feature maps of one example of shape ``input_shape`` (H, W, C),
    counted with the course's ``layers.Flatten`` and ``layers.Dense``.
    Introduced in the chapter "Fully connected layer, dropout and softmax".
    Recognises the biases forgotten, the channels forgotten in the flattened
    length, the flattened length (the inputs) given instead, the parameters of
    one unit only, and the two sizes added instead of multiplied.

    Parameters
    ----------
    answer : int or None
        The student's count.
    input_shape : tuple of int, (H, W, C)
        One example's feature maps, before ``Flatten``.
    units : int
        The dense layer's outputs.

    Returns
    -------
    bool
    """
    if (not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3
            or not all(isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size >= 1 for size in input_shape)):
        raise ValueError(f"input_shape must be the (H, W, C) shape of one example, three positive ints, got {input_shape!r}")
    units = checks.check_int(units, "units", 1)
    flat_length, dense = _dense_after_flatten(input_shape, units)
    _, without_channels = _dense_after_flatten(tuple(input_shape[:2]) + (1,), units)
    _, one_unit = _dense_after_flatten(input_shape, 1)
    mistakes = [
        (f"the biases are missing: each of the {units} units has a bias of its own besides its weights.",
         dense.params["weights"].size),
        ("the channels are missing: Flatten lays out every value of the (H, W, C) maps, height times width times "
         "channels, and each unit has a weight for every one of them.", without_channels.count_params()),
        (f"that is the length of the flattened vector, the layer's number of inputs. Each of the {units} units has "
         "a weight for every input, plus a bias.", flat_length),
        (f"that is the count of one unit (a weight per input and one bias); Dense({units}) has {units} such units.",
         one_unit.count_params()),
        ("the sizes are added: a dense layer has one weight per (input, output) *pair*, so the two sizes multiply; "
         "then one bias per output.", flat_length + units),
    ]
    return verdict.check_answer(
        "check_dense_parameters", answer, expected=dense.count_params(), mistakes=mistakes,
        asks="the number of parameters of the dense layer, a whole number",
        hint="flatten first (how many values does one example have?), then count one weight per (input, output) "
             "pair and one bias per output.",
    )


# --- ex-dense-by-hand -------------------------------------------------------------------------


def check_dense_by_hand(answer, x, weights, bias, true_class):
    """Check the exercise "A classifier head by hand": a tiny dense layer, its softmax and its loss.

    The answer is a tuple ``(parameters, logits, probabilities, loss)``: the
    layer's number of parameters, the logits ``z = x @ weights + bias`` (a
    list of ``D_out`` numbers), their softmax (rounded by hand: within 0.005)
    and the cross-entropy for ``true_class`` (within 0.005), computed with
    ``layers.Dense``, ``ops.dense``, ``ops.softmax`` and
    ``losses.cross_entropy``. The parts are judged in order. Introduced in the
    chapter "Fully connected layer, dropout and softmax". Recognises, for the
    count, the biases forgotten, a bias per input and the sizes added; for the
    logits, the bias forgotten and one input only; for the softmax, e^0 taken
    as 0 (or the logits normalised without exp), sigmoids, and the
    exponentials not divided by their sum; for the loss, the base-10 log, the
    minus sign forgotten, ``1 - p`` and the probability of another class.

    Parameters
    ----------
    answer : tuple or None
        ``(parameters, logits, probabilities, loss)``.
    x : ndarray of shape (D_in,) or (1, D_in)
        The one input.
    weights : ndarray of shape (D_in, D_out)
    bias : ndarray of shape (D_out,)
    true_class : int
        The true class, in ``0 .. D_out - 1``.

    Returns
    -------
    bool
    """
    x = checks.as_float_array(x, "x")
    if x.ndim == 1:
        x = x[np.newaxis]
    if x.ndim != 2 or x.shape[0] != 1:
        raise ValueError(f"x must be one input, of shape (D_in,) or (1, D_in), got shape {x.shape}")
    weights = checks.as_float_array(weights, "weights")
    if weights.ndim != 2 or weights.shape[0] != x.shape[1]:
        raise ValueError(f"weights must have shape (D_in, D_out) = ({x.shape[1]}, D_out), got shape {weights.shape}")
    bias = checks.as_float_array(bias, "bias")
    if bias.shape != (weights.shape[1],):
        raise ValueError(f"bias must have shape (D_out,) = ({weights.shape[1]},), got shape {bias.shape}")
    true_class = checks.check_int(true_class, "true_class", 0)
    inputs, outputs = weights.shape
    if true_class >= outputs:
        raise ValueError(f"true_class must be in 0 .. {outputs - 1} (the layer has {outputs} outputs), got {true_class}")

    layer = layers.Dense(outputs)
    layer.build((inputs,), rng=np.random.default_rng(0), dtype="float64")
    logits = ops.dense(x, weights, bias)[0]
    probabilities = ops.softmax(logits)
    loss = losses.cross_entropy(probabilities[np.newaxis], [true_class])
    with np.errstate(all="ignore"):
        zero_for_zero = np.where(logits == 0, 0.0, np.exp(logits))
        zero_for_zero = zero_for_zero / zero_for_zero.sum()
    others = [c for c in range(outputs) if c != true_class]

    count = f"{outputs} numbers in a list"
    parts = [
        ("the parameter count", _numbers_part(layer.count_params(), [
            ("the biases are missing: each output has a bias of its own besides its weights.", layer.params["weights"].size),
            ("there is one bias per *output*, not per input: each output unit adds its own b_j.", layer.params["weights"].size + inputs),
            ("the sizes are added: there is one weight per (input, output) pair, so they multiply; then one bias per output.",
             inputs + outputs),
        ], "one weight per (input, output) pair, and one bias per output.", 1e-9, "the parameter count, one whole number")),
        ("the logits", _numbers_part(logits, [
            ("the bias is missing: z = x @ W + b, so add b_j to each weighted sum.", (x @ weights)[0]),
            ("only the first input is counted: each logit z_j sums x_i * W[i, j] over *all* inputs i, then adds b_j.",
             x[0, 0] * weights[0] + bias),
        ], "z_j is the sum over the inputs i of x_i * W[i, j], plus b_j: column j of W holds the weights of output j.",
            1e-6, "the logits z, " + count)),
        ("the softmax", _numbers_part(probabilities, [
            ("a logit of 0 got probability 0, but e^0 = 1: every class keeps a share. Softmax divides each exp(z_i), "
             "not z_i or e * z_i, by the sum of all the exponentials.", zero_for_zero),
            ("these are separate sigmoids, one per logit: they do not sum to 1. Softmax divides each exp(z_i) by the "
             "sum of all the exponentials.", activations.sigmoid(logits)),
            ("these are the exponentials, not yet divided by their sum: probabilities must sum to 1.", np.exp(logits)),
        ], "exponentiate each logit, then divide each exponential by their sum.", 5e-3,
            "the softmax, " + count + " (rounded to 3 decimals)")),
        ("the loss", _numbers_part(loss, [
            ("that is the base-10 logarithm; the cross-entropy uses the natural one, ln (np.log).",
             -math.log10(probabilities[true_class])),
            ("the sign is missing: the log of a probability is negative, and the loss is *minus* the log, so it is positive.",
             -loss),
            ("that is 1 - p, how far the probability is from 1; the cross-entropy is -ln p of the true class.",
             1 - probabilities[true_class]),
        ] + [(f"that is -ln of the probability of class {c}; the loss takes the probability of the *true* class, "
              f"{true_class}.", losses.cross_entropy(probabilities[np.newaxis], [c])) for c in others],
            f"the cross-entropy is -ln p, with p the probability of the true class {true_class}.", 5e-3,
            "the loss, one number (rounded to 3 decimals)")),
    ]
    asks = f"(parameters, z, softmax, loss), the logits z and the softmax as lists of {outputs} numbers"
    return verdict.check_parts("check_dense_by_hand", answer, parts, asks=asks, in_order=True)


# --- ex-dense-two-classes ---------------------------------------------------------------------


def _two_class_cases():
    return [
        {"a": 0.0, "b": 0.0},
        {"a": 1.5, "b": -0.5},
        {"a": -2.0, "b": 1.0},
        {"a": np.array([0.5, -3.0, 4.0, 2.0]), "b": np.array([2.5, -1.0, -1.0, 2.0])},
        {"a": 30.0, "b": -20.0},
    ]


def _sigmoid_argument(a, b):
    """The z with sigmoid(z) = softmax([a, b])[0]: the log of the ratio of the two softmax probabilities."""
    probabilities = activations.softmax(np.stack([np.asarray(a, dtype=float), np.asarray(b, dtype=float)], axis=-1))
    z = np.log(probabilities[..., 0]) - np.log(probabilities[..., 1])
    return float(z) if z.ndim == 0 else z


def check_dense_two_classes(function):
    """Check the exercise "Two classes: softmax is a sigmoid": ``function(a, b) -> z``.

    ``z`` is the number with ``sigmoid(z) == softmax([a, b])[0]`` for two
    logits ``a`` and ``b`` (floats or arrays of one shape); the reference is
    computed from ``activations.softmax``. Introduced in the chapter "Fully
    connected layer, dropout and softmax". Recognises the logits the wrong way
    round (the second class's argument), the probability itself returned,
    an exponential left in ``z``, and ``b`` ignored.

    Returns
    -------
    bool
    """
    mistakes = [
        ("a and b are the wrong way round: that z gives sigmoid(z) = softmax([a, b])[1], the *second* class. Divide "
         "the numerator and the denominator of e^a / (e^a + e^b) by e^a.", lambda a, b: _sigmoid_argument(b, a)),
        ("this is the probability softmax([a, b])[0] itself; the exercise asks for the number z that goes *into* the "
         "sigmoid, so that sigmoid(z) gives that probability.",
         lambda a, b: activations.softmax(np.stack([np.asarray(a, dtype=float), np.asarray(b, dtype=float)], axis=-1))[..., 0]),
        ("z has an exponential too many: the sigmoid, 1 / (1 + e^(-z)), brings its own exponential, so z itself has none.",
         lambda a, b: np.exp(_sigmoid_argument(a, b))),
        ("b is missing: the probability of class 0 depends on the other logit too.", lambda a, b: np.asarray(a, dtype=float)),
    ]
    return verdict.check_function("check_dense_two_classes", function, _two_class_cases(), _sigmoid_argument, mistakes)


# --- ex-dense-dropout-average -----------------------------------------------------------------


def _fits_masks(average, x, scale, masks, rate):
    """True if ``average`` fits the mean of ``masks`` results ``scale * x * keep``, keep ~ Bernoulli(1 - rate).

    Each such pixel has mean ``scale (1 - rate) x`` and standard deviation
    ``|scale x| sqrt(rate (1 - rate) / masks)``. Fits: every standard score
    within 6 (a miss by chance is rarer than 1 in 10^6 per image), and, with
    100 or more nonzero pixels, their root mean square within 0.3 of 1 (more
    than 5 standard errors), so that far fewer or far more masks do not fit.
    Returns (fits, root mean square of the scores).
    """
    nonzero = x != 0
    spread = np.abs(scale * x[nonzero]) * math.sqrt(rate * (1.0 - rate) / masks)
    z = (average[nonzero].astype(float) - scale * (1.0 - rate) * x[nonzero]) / spread
    rms = float(np.sqrt(np.mean(z**2)))
    return bool(np.abs(z).max() <= 6.0 and (z.size < 100 or abs(rms - 1.0) <= 0.3)), rms


def check_dense_dropout_average(answer, digit, masks, rate):
    """Check the exercise "Dropout averages out": the average of many dropout masks, and its largest error.

    The answer is a tuple ``(average, largest_difference)``: the average of
    ``masks`` results of ``ops.dropout(digit, rate, training=True, rng=rng)``
    (an array of the digit's shape) and the largest absolute difference between
    it and the digit (within 0.005). The masks are random, so the average is
    judged by what holds for any seed: 0 where the digit is 0, and elsewhere
    within 6 standard errors of the digit with a spread that fits ``masks``
    masks. The parts are judged in order. Introduced in the chapter "Fully
    connected layer, dropout and softmax". Recognises dropout switched off
    (the digit itself), one mask repeated (the generator seeded inside the
    loop), survivors not scaled by ``1 / (1 - rate)``, and, for the difference,
    the mean difference and the largest signed difference.

    Parameters
    ----------
    answer : tuple or None
        ``(average, largest_difference)``.
    digit : ndarray
        The image the masks were applied to.
    masks : int
        How many dropout results were averaged.
    rate : float
        The dropout rate, in (0, 1).

    Returns
    -------
    bool
    """
    digit = checks.as_float_array(digit, "digit")
    if digit.size == 0 or not np.any(digit != 0):
        raise ValueError(f"digit must have some nonzero values, got an array of shape {digit.shape} without any")
    masks = checks.check_int(masks, "masks", 2)
    rate = checks.check_rate(rate)
    if rate == 0.0:
        raise ValueError("rate must be in (0, 1): with rate 0 dropout changes nothing, got 0")
    shape_form = f"an array of the digit's shape {digit.shape}"

    def average_part(value):
        average = _as_numbers(value, digit.size)
        if average is None:
            got = np.shape(value) if not isinstance(value, str) else "a str"
            return (f"It must be {shape_form}, got {got}: average the {masks} results over axis 0, the axis of the "
                    "masks.")
        average = average.reshape(digit.shape)
        if np.allclose(average, digit, rtol=1e-6, atol=1e-9):
            return ("This looks like a known mistake: the average is exactly the digit, so nothing was dropped: dropout "
                    "ran in inference mode (training=False). Average the results of training-mode dropout.")
        nonzero = digit != 0
        survivor = digit[nonzero] / (1.0 - rate)
        kept = np.isclose(average[nonzero], survivor, rtol=1e-3)
        if np.all(kept | np.isclose(average[nonzero], 0.0, atol=1e-9)) and kept.any():
            return ("This looks like a known mistake: every pixel is either 0 or the digit / (1 - rate), so all the "
                    "masks are the same. That happens when the generator is created (seeded) inside the loop; create "
                    "it once, before the loop, so that each call draws a new mask.")
        if not np.allclose(average[~nonzero], 0.0, atol=1e-9):
            return "Where the digit is 0 the average must be 0 too: dropout only zeroes or scales values."
        fits, rms = _fits_masks(average, digit, 1.0 / (1.0 - rate), masks, rate)
        if fits:
            return None
        if _fits_masks(average, digit, 1.0, masks, rate)[0]:
            return ("This looks like a known mistake: the average is about (1 - rate) times the digit: the kept values "
                    "were not divided by 1 - rate, which inverted dropout does (ops.dropout does it for you).")
        if rms < 1.0:
            return (f"The average is closer to the digit than {masks} masks at rate {rate} allow: did you average "
                    f"more than {masks} results?")
        return (f"The average is farther from the digit than {masks} masks at rate {rate} allow: did you average "
                f"{masks} results of ops.dropout(digit, {rate}), all drawn from one generator?")

    # The difference is judged against the student's own average, once that is right (the parts go in order);
    # before that, the digit stands in for it and the part is not looked at.
    given = _as_numbers(answer[0], digit.size) if isinstance(answer, (tuple, list)) and len(answer) == 2 else None
    average = digit if given is None else given.reshape(digit.shape)
    asks = f"(average, largest_difference): {shape_form} and a number"
    parts = [
        ("the average", dict(judge=average_part, asks=shape_form)),
        ("the largest difference", _numbers_part(np.abs(average - digit).max(), [
            ("that is the mean difference over all pixels; the question asks for the largest one.",
             np.abs(average - digit).mean()),
            ("without the absolute value, pixels where the average falls below the digit do not count: take the "
             "largest of |average - digit|.", (average - digit).max()),
        ], "the largest of |average - digit| over all pixels, of your average.", 5e-3,
            "the largest difference, one number")),
    ]
    return verdict.check_parts("check_dense_dropout_average", answer, parts, asks=asks, in_order=True)


# --- ex-dense-temperature ---------------------------------------------------------------------

_DISTRIBUTIONS = ("one-hot", "uniform", "unchanged")


def _distribution_kind(probabilities, base):
    """ "one-hot", "uniform" or "unchanged" (close to ``base``, the softmax at T = 1), else None."""
    if probabilities.max() >= 1 - 1e-3:
        return "one-hot"
    if np.allclose(probabilities, 1 / probabilities.size, rtol=0.05, atol=0.0):
        return "uniform"
    if np.allclose(probabilities, base, rtol=0.05, atol=1e-3):
        return "unchanged"
    return None


def check_dense_temperature(answer, logits, temperatures, true_class):
    """Check the exercise "Extreme temperatures": softmax(logits / T) at a tiny and a huge T, and its loss.

    The answer is a tuple ``(kind, loss, kind, loss)``, one pair per
    temperature in the order of ``temperatures``: the kind of distribution,
    a word from "one-hot", "uniform" and "unchanged", and the cross-entropy
    for ``true_class`` (within 0.01), computed with ``ops.softmax`` and
    ``losses.cross_entropy``. The parts are judged in order. Introduced in the
    chapter "Fully connected layer, dropout and softmax". Recognises the
    logits multiplied by T instead of divided (the two kinds swapped), the
    distribution taken as unchanged, and, for the losses, the floor of
    ``losses.cross_entropy`` left out, the loss of the predicted class instead
    of the true one, the base-10 log and the minus sign forgotten.

    Parameters
    ----------
    answer : tuple or None
        ``(kind, loss, kind, loss)``.
    logits : ndarray of shape (K,)
        The logits of one example.
    temperatures : tuple of two floats
        Positive temperatures extreme enough to give a one-hot or a uniform distribution.
    true_class : int
        The true class, in ``0 .. K - 1``.

    Returns
    -------
    bool
    """
    logits = checks.as_float_array(logits, "logits")
    if logits.ndim != 1 or logits.size < 2:
        raise ValueError(f"logits must have shape (K,) with K >= 2, got shape {logits.shape}")
    if (not isinstance(temperatures, (tuple, list)) or len(temperatures) != 2
            or not all(isinstance(t, (int, float, np.number)) and not isinstance(t, bool) and t > 0 for t in temperatures)):
        raise ValueError(f"temperatures must be two positive numbers, got {temperatures!r}")
    true_class = checks.check_int(true_class, "true_class", 0)
    if true_class >= logits.size:
        raise ValueError(f"true_class must be in 0 .. {logits.size - 1} (there are {logits.size} logits), got {true_class}")

    base = ops.softmax(logits)
    kinds = ", ".join(f'"{kind}"' for kind in _DISTRIBUTIONS[:-1]) + f' or "{_DISTRIBUTIONS[-1]}"'
    swapped = ("this is what you get when the logits are *multiplied* by T: softmax(logits / T) divides by it, so a "
               "small T spreads the logits apart and a large T squeezes them together.")
    parts = []
    for temperature in temperatures:
        probabilities = ops.softmax(logits / temperature)
        multiplied = ops.softmax(logits * temperature)
        kind = _distribution_kind(probabilities, base)
        if kind is None:
            raise ValueError(f"temperatures must be extreme enough to give a one-hot or a uniform distribution; "
                             f"T = {temperature:g} gives neither")
        loss = losses.cross_entropy(probabilities[np.newaxis], [true_class])
        predicted = int(probabilities.argmax())
        with np.errstate(divide="ignore"):
            unfloored = -np.log(probabilities[true_class])
        word_mistakes = [
            (swapped, _distribution_kind(multiplied, base) or "unchanged"),
            ("a temperature keeps the order of the classes, so the prediction does not change, but the probabilities "
             "do: dividing the logits by T changes every difference between them.", "unchanged"),
        ]
        loss_mistakes = [
            (swapped, losses.cross_entropy(multiplied[np.newaxis], [true_class])),
            (f"that is -ln p[{true_class}] itself: losses.cross_entropy raises a probability below "
             "losses.PROBABILITY_FLOOR to the floor before the logarithm, which caps one example's loss. Use "
             "losses.cross_entropy.", unfloored),
            (f"that is the loss if the true class were the predicted one, class {predicted}; the exercise's true class "
             f"is {true_class}.", losses.cross_entropy(probabilities[np.newaxis], [predicted])),
            ("that is the base-10 logarithm; the cross-entropy uses the natural one, ln (np.log).",
             -math.log10(max(probabilities[true_class], losses.PROBABILITY_FLOOR))),
            ("the sign is missing: the log of a probability is negative, and the loss is *minus* the log.", -loss),
        ]
        parts += [
            (f"the distribution at T = {temperature:g}", dict(
                expected=kind, mistakes=word_mistakes, asks=f"the kind of distribution at T = {temperature:g}, {kinds}",
                hint=f"it is {kinds}: divide the logits by T and look at the largest and the smallest probability.")),
            (f"the loss at T = {temperature:g}",
             _numbers_part(loss, loss_mistakes, f"compute losses.cross_entropy of the softmax (as a batch of one) for "
                           f"class {true_class}.", 0.01, f"the loss at T = {temperature:g}, one number")),
        ]
    asks = (f"(kind, loss, kind, loss): a kind and a loss for T = {temperatures[0]:g}, then for T = {temperatures[1]:g}; "
            f"a kind is {kinds}")
    return verdict.check_parts("check_dense_temperature", answer, parts, asks=asks, in_order=True)
