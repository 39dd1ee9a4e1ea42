"""The cross-entropy loss of a classifier, in NumPy.

Introduced in the chapter "Fully connected layer, dropout and softmax".
"""

import numpy as np

from cnn_course import validation

__all__ = ["cross_entropy", "PROBABILITY_FLOOR"]

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
    probabilities = validation.as_float_array(probabilities, "probabilities")
    validation.check_rank(probabilities, 2, "probabilities", "(N, K)")
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

    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be an integer array of class indices, got an array of dtype {labels.dtype}")
    if labels.shape != (count,):
        raise ValueError(
            f"labels must have shape (N,) = ({count},) to match probabilities of shape {probabilities.shape}, "
            f"got shape {labels.shape}"
        )
    if labels.min() < 0 or labels.max() >= classes:
        bad = labels[(labels < 0) | (labels >= classes)][0]
        raise ValueError(f"labels must be class indices in 0 .. {classes - 1} (K = {classes}), got {bad}")

    # Pick each example's probability of its true class, then floor it so log never sees 0.
    true_class_probabilities = probabilities[np.arange(count), labels]
    losses = -np.log(np.maximum(true_class_probabilities, PROBABILITY_FLOOR))
    return float(np.mean(losses))
