"""Checks for the coding exercises: run the student's function, and name the mistake if it fails.

Each ``check_<name>(student_function)`` runs the student's function on a
fixed list of cases, smallest first, against the course's own function. It
prints one verdict and returns True (every case passes) or False. A failing
verdict shows the smallest failing case (its input, the expected and the
received result) and, when the received results are those of a common
mistake, names it: a flipped kernel, an off-by-one in the output size, a
max-pool gradient spread over tied cells, dropout without its scale, a
softmax that overflows... Nothing is downloaded and nothing but the course is
needed, so the checks run offline.

The checks, the student's function each one takes, and the chapter of its exercise:

- :func:`check_conv_output_size`: ``f(size, kernel_size, stride, padding) -> int`` (3);
- :func:`check_correlate2d`: ``f(image, kernel)``, "valid", 2-D (2, 9);
- :func:`check_pad2d`: ``f(x, padding)``, ``x`` of shape (N, H, W, C) (3);
- :func:`check_softmax`: ``f(logits)``, classes on the last axis (7);
- :func:`check_dropout`: ``f(x, rate, rng)`` (7);
- :func:`check_relu_backward`: ``f(grad_output, x)`` (9);
- :func:`check_max_pool2d_backward`: ``f(grad_output, x, pool_size, stride)`` (9);
- :func:`check_dense_backward`: ``f(grad_output, x, weights) -> (grad_x, grad_weights, grad_bias)`` (9);
- :func:`check_softmax_cross_entropy_backward`: ``f(probabilities, labels)`` (9).
"""

import math

import numpy as np

from cnn_course import activations, convolution, gradients

__all__ = [
    "check_conv_output_size",
    "check_correlate2d",
    "check_pad2d",
    "check_softmax",
    "check_dropout",
    "check_relu_backward",
    "check_max_pool2d_backward",
    "check_dense_backward",
    "check_softmax_cross_entropy_backward",
]

_TOLERANCE = 1e-9  # the cases are float64 with small numbers: only rounding could be this small


# --- the engine ---------------------------------------------------------------------------------


def _run(function, case):
    """Call ``function`` on a copy of the case's arguments; return (result, error, changed_input).

    The arguments are passed by position, in the order of the exercise's
    signature, so a student may name the parameters as they like.
    """
    arguments = {name: np.copy(value) if isinstance(value, np.ndarray) else value for name, value in case.items()}
    try:
        # Overflow in the student's code is reported by the verdict, not as a warning.
        with np.errstate(all="ignore"):
            result = function(*arguments.values())
    except Exception as error:  # the student's code may raise anything: report it, do not crash
        return None, error, None
    changed = [name for name, value in case.items()
               if isinstance(value, np.ndarray) and not np.array_equal(arguments[name], value)]
    return result, None, changed


def _as_arrays(result):
    """The result as a tuple of float arrays (a function may return one array or several)."""
    parts = result if isinstance(result, tuple) else (result,)
    return tuple(np.asarray(part, dtype=float) for part in parts)


def _same(expected, received):
    """Equal shapes and values up to rounding (NaN equals NaN: the references never give one)."""
    try:
        expected, received = _as_arrays(expected), _as_arrays(received)
    except (TypeError, ValueError):
        return False
    return len(expected) == len(received) and all(
        e.shape == r.shape and np.allclose(e, r, rtol=_TOLERANCE, atol=_TOLERANCE, equal_nan=True) for e, r in zip(expected, received)
    )


def _show(value):
    if isinstance(value, np.ndarray) and value.ndim == 4 and value.size <= 120:
        # (N, H, W, C): one H x W grid per image and channel reads better than NumPy's nesting.
        parts = [f"array of shape {value.shape}, shown as [n, :, :, c] slices:"]
        for n in range(value.shape[0]):
            for c in range(value.shape[3]):
                grid = np.array2string(value[n, :, :, c], precision=4, suppress_small=True, max_line_width=100)
                parts.append(f"      [{n}, :, :, {c}] =")
                parts += ["        " + line for line in grid.splitlines()]
        return "\n".join(parts)
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=4, suppress_small=True, max_line_width=100, threshold=60)
        return f"array of shape {value.shape}:\n" + "\n".join("      " + line for line in text.splitlines())
    if isinstance(value, tuple):
        return "a tuple of " + str(len(value)) + ":\n" + "\n".join("    - " + _show(part) for part in value)
    return repr(value)


def _shape_hint(expected, received):
    """A sentence about a wrong shape, or None."""
    try:
        expected, received = _as_arrays(expected), _as_arrays(received)
    except (TypeError, ValueError):
        return None
    if len(expected) != len(received):
        return f"your function returned {len(received)} value(s); it must return {len(expected)}."
    for index, (e, r) in enumerate(zip(expected, received)):
        if e.shape == r.shape:
            continue
        which = f"value {index + 1} has" if len(expected) > 1 else "the result has"
        if r.shape == e.shape[::-1] and r.ndim == 2:
            return f"{which} shape {r.shape}, the transpose of the {e.shape} it needs."
        if sorted(r.shape) == sorted(e.shape):
            return (f"{which} shape {r.shape} instead of {e.shape}: the same axes in another order. The course "
                    "is channels-last, (N, H, W, C), not channels-first (N, C, H, W).")
        return f"{which} shape {r.shape}; it needs shape {e.shape}."
    return None


def _is_function(name, function):
    """True if ``function`` can be called; otherwise print why not (a common slip: passing its result)."""
    if callable(function):
        return True
    print(f"{name}: expected a function, got {type(function).__name__}. Pass the function itself, without ().")
    return False


def _verdict(name, function, cases, reference, mistakes, extra_check=None):
    """Run the cases, print one verdict, return True if every case passes.

    ``mistakes`` is a list of ``(explanation, wrong_function)``: a mistake is
    named when the student's results equal the wrong function's on every case
    where the two differ from the reference, and at least on the first failing one.
    """
    if not _is_function(name, function):
        return False
    results = []
    failing = None
    for index, case in enumerate(cases):
        expected = reference(**case)
        received, error, changed = _run(function, case)
        results.append((case, expected, received, error))
        if failing is None and (
            error is not None or received is None or changed
            or not _same(expected, received) or _extra_hint(extra_check, case, received)
        ):
            failing, changed_at_failure = index, changed
    if failing is None:
        print(f"{name}: all {len(cases)} cases pass. Well done!")
        return True
    case, expected, received, error = results[failing]
    lines = [f"{name}: case {failing + 1} of {len(cases)} fails (the cases run from small to large)."]
    lines += [f"  {argument} = {_show(value)}" for argument, value in case.items() if argument != "rng"]
    lines.append(f"  expected: {_show(expected)}")
    if error is not None:
        lines.append(f"  your function raised {type(error).__name__}: {error}")
        hint = _recognise(results, failing, mistakes)
        if hint:
            lines.append("  " + hint)
    elif received is None:
        lines.append("  your function returned None: is a `return` missing?")
    else:
        lines.append(f"  received: {_show(received)}")
        if changed_at_failure:
            lines.append(f"  Your function changed its input {', '.join(changed_at_failure)} in place; work on a copy.")
        hint = _extra_hint(extra_check, case, received) or _recognise(results, failing, mistakes) or _shape_hint(expected, received)
        if hint:
            lines.append("  " + hint)
    print("\n".join(lines))
    return False


def _extra_hint(extra_check, case, received):
    """A check's own test of a result (a float where an int belongs, NaN...), or None."""
    if extra_check is None:
        return None
    try:
        return extra_check(case, received)
    except (TypeError, ValueError):  # a result that is not even an array: the comparison reports it
        return None


def _recognise(results, failing, mistakes):
    """The explanation of the mistake that the student's results reproduce, or None.

    A wrong function reproduces the student's when, on every case where it
    differs from the reference, both give the same result or raise the same
    error, and the failing case is one of them.
    """
    for explanation, wrong in mistakes:
        agrees, shown = True, False
        for index, (case, expected, received, error) in enumerate(results):
            wrong_result, wrong_error, _ = _run(wrong, case)
            if wrong_error is None and _same(wrong_result, expected):
                continue  # the mistake does not show on this case
            if wrong_error is not None:
                same = error is not None and (type(error), str(error)) == (type(wrong_error), str(wrong_error))
            else:
                same = error is None and received is not None and _same(wrong_result, received)
            if not same:
                agrees = False
                break
            shown = shown or index == failing
        if agrees and shown:
            return "This looks like a known mistake: " + explanation
    return None


# --- chapter 3: output size and padding ---------------------------------------------------------

_SIZE_CASES = [
    {"size": 5, "kernel_size": 3, "stride": 1, "padding": 0},
    {"size": 5, "kernel_size": 3, "stride": 1, "padding": 1},
    {"size": 7, "kernel_size": 3, "stride": 2, "padding": 0},
    {"size": 6, "kernel_size": 3, "stride": 2, "padding": 0},
    {"size": 7, "kernel_size": 3, "stride": 2, "padding": 1},
    {"size": 28, "kernel_size": 5, "stride": 2, "padding": 2},
    {"size": 32, "kernel_size": 4, "stride": 3, "padding": 1},
    {"size": 10, "kernel_size": 10, "stride": 4, "padding": 0},
]


def _output_size(size, kernel_size, stride, padding):
    return convolution.conv_output_size(size, kernel_size, stride, padding)


def check_conv_output_size(function):
    """Check ``function(size, kernel_size, stride, padding) -> int``: ``floor((n + 2p - k) / s) + 1``.

    Introduced in the chapter "Padding and stride". Recognises a missing
    ``+ 1``, padding ignored or counted on one side only, true division and
    rounding up.

    Returns
    -------
    bool
        True if every case passes.
    """

    def not_an_int(case, received):
        if isinstance(received, (bool, np.bool_)) or not isinstance(received, (int, np.integer)):
            if isinstance(received, (float, np.floating)) and float(received) == _output_size(**case):
                return ("the value is right but it is a float: an output size is a whole number; use floor "
                        "division, //, so that the result is an int.")
            return None
        return None

    mistakes = [
        ("the `+ 1` is missing: the first window counts too, so a kernel as wide as the input still gives one "
         "output, (n + 2p - k) // s + 1.", lambda size, kernel_size, stride, padding: (size + 2 * padding - kernel_size) // stride),
        ("the padding is ignored: padding p adds p cells on *both* sides, so the input is n + 2p wide.",
         lambda size, kernel_size, stride, padding: (size - kernel_size) // stride + 1),
        ("the padding is counted once: it goes on both sides, n + 2p.",
         lambda size, kernel_size, stride, padding: (size + padding - kernel_size) // stride + 1),
        ("the division is rounded up: a window that would stick out past the border is not taken, so it is floor "
         "division, //.", lambda size, kernel_size, stride, padding: -(-(size + 2 * padding - kernel_size) // stride) + 1),
        ("the `+ 1` is inside the division: it counts the first window, after dividing the remaining distance by the "
         "stride: (n + 2p - k) // s + 1.", lambda size, kernel_size, stride, padding: (size + 2 * padding - kernel_size + 1) // stride),
        ("true division, /, gives a fraction where a window does not fit: use //.",
         lambda size, kernel_size, stride, padding: (size + 2 * padding - kernel_size) / stride + 1),
    ]
    return _verdict("check_conv_output_size", function, _SIZE_CASES, _output_size, mistakes, extra_check=not_an_int)


def _pad_cases():
    rng = np.random.default_rng(3)
    return [
        {"x": rng.integers(1, 10, size=(1, 2, 2, 1)).astype(float), "padding": 1},
        {"x": rng.integers(1, 10, size=(1, 3, 2, 2)).astype(float), "padding": 1},
        {"x": rng.integers(1, 10, size=(2, 3, 4, 3)).astype(float), "padding": 2},
        {"x": rng.integers(1, 10, size=(2, 2, 2, 1)).astype(float), "padding": 0},
    ]


def check_pad2d(function):
    """Check ``function(x, padding) -> ndarray``: ``padding`` zeros around the height and width of ``x``.

    ``x`` has shape (N, H, W, C) and ``padding`` is an int; the result has
    shape (N, H + 2p, W + 2p, C). Introduced in the chapter "Padding and
    stride". Recognises padding on the batch or channel axes, on one side
    only, and padding with something other than zeros.

    Returns
    -------
    bool
    """
    mistakes = [
        ("every axis is padded, the batch and the channels too: only height and width get zeros, "
         "np.pad(x, ((0, 0), (p, p), (p, p), (0, 0))).", lambda x, padding: np.pad(x, padding)),
        ("the width and the channels are padded instead of the height and the width: that is the layout of a "
         "channels-first (N, C, H, W) array; the course's arrays are (N, H, W, C).",
         lambda x, padding: np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))),
        ("the batch and the height are padded: the spatial axes of (N, H, W, C) are 1 and 2.",
         lambda x, padding: np.pad(x, ((padding, padding), (padding, padding), (0, 0), (0, 0)))),
        ("the zeros go on one side only: padding p puts p zeros before *and* p after each spatial axis.",
         lambda x, padding: np.pad(x, ((0, 0), (0, 2 * padding), (0, 2 * padding), (0, 0)))),
    ]

    def border(case, received):
        expected = convolution.pad2d(case["x"], case["padding"])
        received = np.asarray(received, dtype=float)
        p = case["padding"]
        inside = (slice(None), slice(p, received.shape[1] - p), slice(p, received.shape[2] - p), slice(None))
        if received.shape == expected.shape and np.array_equal(received[inside], case["x"]) and not np.array_equal(received, expected):
            return "the image is in the right place but the border is not zero: zero padding writes 0 in the border."
        return None

    return _verdict("check_pad2d", function, _pad_cases(), lambda x, padding: convolution.pad2d(x, padding), mistakes,
                    extra_check=border)


# --- chapter 2: correlate2d ---------------------------------------------------------------------


def _correlate_cases():
    rng = np.random.default_rng(2)
    return [
        {"image": np.arange(9.0).reshape(3, 3), "kernel": np.array([[1.0, 2.0], [0.0, -1.0]])},
        {"image": rng.integers(0, 5, size=(5, 5)).astype(float), "kernel": np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 1.0]])},
        {"image": rng.integers(0, 5, size=(4, 6)).astype(float), "kernel": rng.integers(-2, 3, size=(2, 3)).astype(float)},
        {"image": rng.integers(0, 5, size=(6, 5)).astype(float), "kernel": rng.integers(-2, 3, size=(3, 1)).astype(float)},
    ]


def check_correlate2d(function):
    """Check ``function(image, kernel) -> ndarray``: the "valid" cross-correlation of chapter 2.

    ``out[i, j] = sum over (u, v) of image[i + u, j + v] * kernel[u, v]``, of
    shape (H - kh + 1, W - kw + 1). Introduced in the chapter "Convolution".
    Recognises a flipped kernel (true convolution), a transposed kernel, zero
    padding ("same" size) and an output one row and column too small.

    Returns
    -------
    bool
    """

    def same_size(image, kernel):
        kh, kw = kernel.shape
        top, left = (kh - 1) // 2, (kw - 1) // 2
        padded = np.pad(image, ((top, kh - 1 - top), (left, kw - 1 - left)))
        return convolution.correlate2d(padded, kernel)

    mistakes = [
        ("the kernel is flipped: that is the mathematical convolution. Deep-learning 'convolution' is "
         "cross-correlation: image[i + u, j + v] * kernel[u, v], no flip.",
         lambda image, kernel: convolution.correlate2d(image, kernel[::-1, ::-1])),
        ("the kernel is transposed: kernel[u, v] goes with image[i + u, j + v] (row offset u, column offset v).",
         lambda image, kernel: convolution.correlate2d(image, kernel.T)),
        ("the output has the size of the image: that is 'same' padding. 'valid' takes only the windows that fit "
         "inside the image: (H - kh + 1) x (W - kw + 1).", same_size),
        ("one row and one column are missing: there are H - kh + 1 window positions, range(H - kh + 1).",
         lambda image, kernel: convolution.correlate2d(image, kernel)[:-1, :-1]),
    ]
    return _verdict("check_correlate2d", function, _correlate_cases(), convolution.correlate2d, mistakes)


# --- chapter 7: softmax and dropout -------------------------------------------------------------


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
    return _verdict("check_softmax", function, _softmax_cases(), lambda logits: activations.softmax(logits), mistakes,
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
    if not _is_function("check_dropout", function):
        return False
    x = np.arange(1.0, 20_001.0).reshape(200, 100)
    for rate in (0.0, 0.25, 0.5, 0.8):
        received, error, changed = _run(function, {"x": x, "rate": rate, "rng": np.random.default_rng(7)})
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


# --- chapter 9: backward passes -----------------------------------------------------------------


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
    return _verdict("check_relu_backward", function, _relu_cases(), gradients.relu_backward, mistakes)


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

    return _verdict("check_max_pool2d_backward", function, _pool_cases(), reference, mistakes)


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
    return _verdict("check_dense_backward", function, _dense_cases(), gradients.dense_backward, mistakes)


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
    return _verdict("check_softmax_cross_entropy_backward", function, _loss_cases(),
                    gradients.softmax_cross_entropy_backward, mistakes)
