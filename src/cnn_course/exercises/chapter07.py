"""The exercise checks of the chapter "Fully connected layer, dropout and softmax": softmax and dropout."""

import math

import numpy as np

from cnn_course import activations
from cnn_course.exercises import verdict

__all__ = [
    "check_softmax",
    "check_dropout",
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
