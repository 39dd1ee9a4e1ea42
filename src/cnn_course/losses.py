"""The cross-entropy loss of a classifier, in NumPy: from probabilities, or from logits.

``cross_entropy`` (of probabilities) is introduced in the chapter "Fully
connected layer, dropout and softmax"; ``softmax_cross_entropy`` (of logits,
the form training uses) in the chapter "Learning from scratch".
"""

import numpy as np

from cnn_course import checks

__all__ = ["cross_entropy", "softmax_cross_entropy", "check_scores_and_labels", "PROBABILITY_FLOOR"]

# The smallest probability whose logarithm is taken. log(0) is -inf, so one
# confidently wrong prediction would make the whole mean loss infinite; Keras
# clips at the same value (keras.config.epsilon() = 1e-7), so the two agree.
PROBABILITY_FLOOR = 1e-7

# How far a row of probabilities may sum from 1 (float32 softmax rounding is
# about 1e-7; logits passed by mistake miss by far more).
_SUM_TOLERANCE = 1e-3


def cross_entropy(probabilities, labels):
    """Mean cross-entropy ``-log p[true class]`` over a batch.

    For one example with predicted distribution ``p`` over ``K`` classes and
    true class ``y``, the loss is ``-log(p[y])``: 0 when the model puts all its
    probability on the right class, ``log(K)`` for a uniform guess (2.3026 for
    ten classes) and large when it is confidently wrong. Probabilities below
    ``PROBABILITY_FLOOR`` (1e-7, as in Keras) are raised to it before the
    logarithm, so the loss of one example is at most ``-log(1e-7)``, about 16.12,
    and never infinite.

    Parameters
    ----------
    probabilities : ndarray of shape (N, K)
        One probability distribution per example (for example the output of
        ``ops.softmax``): values in [0, 1], each row summing to 1.
    labels : ndarray of shape (N,)
        The true class of each example, an integer in ``0 .. K - 1`` (sparse
        labels, as for ``keras.losses.SparseCategoricalCrossentropy``).

    Returns
    -------
    float
        The mean loss over the ``N`` examples.

    Raises
    ------
    TypeError
        If ``probabilities`` is not numeric or ``labels`` is not an integer array.
    ValueError
        If the shapes do not match, a row is not a probability distribution
        (logits passed instead of probabilities, say), or a label is outside
        ``0 .. K - 1``.
    """
    probabilities = checks.as_float_array(probabilities, "probabilities")
    checks.check_rank(probabilities, 2, "probabilities", "(N, K)")
    count, classes = probabilities.shape
    if count == 0 or classes == 0:
        raise ValueError(f"probabilities must have shape (N, K) with N >= 1 and K >= 1, got shape {probabilities.shape}")
    if not np.all(np.isfinite(probabilities)):
        raise ValueError(f"probabilities must be finite, got NaN or infinity in an array of shape {probabilities.shape}")
    if probabilities.min() < 0.0 or probabilities.max() > 1.0:
        raise ValueError(
            f"probabilities must hold values in [0, 1] (apply softmax to logits first), got values from "
            f"{probabilities.min():.6g} to {probabilities.max():.6g} in an array of shape {probabilities.shape}"
        )
    row_sums = probabilities.sum(axis=1)
    if not np.all(np.abs(row_sums - 1.0) <= _SUM_TOLERANCE):
        worst = int(np.argmax(np.abs(row_sums - 1.0)))
        raise ValueError(
            f"each row of probabilities must sum to 1 (a distribution over the K = {classes} classes), "
            f"but row {worst} sums to {row_sums[worst]:.6g}; apply softmax to logits first"
        )

    labels = checks.check_class_labels(labels, count, classes, "probabilities")

    # Pick each example's probability of its true class, then floor it so log never sees 0.
    true_class_probabilities = probabilities[np.arange(count), labels]
    losses = -np.log(np.maximum(true_class_probabilities, PROBABILITY_FLOOR))
    return float(np.mean(losses))


def check_scores_and_labels(logits, labels, name="logits"):
    """Return the ``(N, K)`` scores and ``(N,)`` integer labels, checked; errors say ``name``.

    Parameters
    ----------
    logits : array_like of shape (N, K)
        Logits or probabilities, one row per example.
    labels : array_like of int, shape (N,)
    name : str, default "logits"

    Returns
    -------
    scores : ndarray of shape (N, K)
    labels : ndarray of int, shape (N,)
    """
    logits = checks.as_float_array(logits, name)
    checks.check_rank(logits, 2, name, "(N, K)")
    count, classes = logits.shape
    if count == 0 or classes == 0:
        raise ValueError(f"{name} must have shape (N, K) with N >= 1 and K >= 1, got shape {logits.shape}")
    return logits, checks.check_class_labels(labels, count, classes, name)


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of ``softmax(logits)``, computed from the logits, and the probabilities.

    ``loss = mean over examples of (logsumexp(z) - z[label])``, which is
    ``-log softmax(z)[label]`` without ever taking the log of a rounded-down
    probability, so it stays finite and exact for very wrong predictions
    (like Keras's ``SparseCategoricalCrossentropy(from_logits=True)``).

    Introduced in the chapter "Learning from scratch".

    Parameters
    ----------
    logits : ndarray of shape (N, K)
        Scores from the last dense layer (no softmax applied).
    labels : ndarray of int, shape (N,)
        True classes, in ``0 .. K - 1``.

    Returns
    -------
    loss : float
        The mean loss over the batch.
    probabilities : ndarray of shape (N, K)
        ``softmax(logits)``, which the backward pass reuses.
    """
    logits, labels = check_scores_and_labels(logits, labels)
    shifted = logits - logits.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    sums = exps.sum(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(sums)
    loss = -log_probabilities[np.arange(len(labels)), labels].mean()
    return float(loss), exps / sums
