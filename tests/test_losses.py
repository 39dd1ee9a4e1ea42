"""Tests of cnn_course.losses: cross_entropy against Keras, and every bad input."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnn_course import losses, ops

from numerics import FLOAT64_TOLERANCE, U32


def random_batch(seed, count, classes, scale=3.0):
    """Softmax probabilities of random logits and random labels, float64."""
    rng = np.random.default_rng(seed)
    probabilities = ops.softmax(rng.normal(scale=scale, size=(count, classes)))
    labels = rng.integers(0, classes, size=count)
    return probabilities, labels


def keras_loss(keras, probabilities, labels):
    """Keras's SparseCategoricalCrossentropy of the same numbers, computed in float64."""
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=False, dtype="float64")
    return float(loss(labels, probabilities.astype(np.float64)))


def definition_gap(classes):
    """How far Keras's definition may be from ours, exactly: Keras clips every probability
    to [1e-7, 1 - 1e-7] and takes log(sum of the clipped) - log(clipped true class), ours
    floors the true class's at 1e-7. The clipped sum is within K * 1e-7 of 1 and the upper
    clip moves the log by at most -log(1 - 1e-7): (K + 1) * 1e-7, with 1% to spare."""
    return (classes + 1) * 1.01e-7


@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(1, 20),
    classes=st.integers(2, 12),
    scale=st.floats(0.1, 6.0),
)
def test_matches_keras_sparse_categorical_crossentropy(keras, seed, count, classes, scale):
    probabilities, labels = random_batch(seed, count, classes, scale)
    expected = keras_loss(keras, probabilities, labels)
    value = losses.cross_entropy(probabilities, labels)
    assert abs(value - expected) <= FLOAT64_TOLERANCE * abs(expected) + definition_gap(classes)


def test_matches_keras_on_ten_classes_float32(keras):
    count, classes = 64, 10
    probabilities, labels = random_batch(0, count, classes)
    probabilities = probabilities.astype(np.float32)
    expected = keras_loss(keras, probabilities, labels)  # float64, of the same float32 numbers
    # In float32: each -log p is within 16 u of its size (F32_FUNCTION_ERROR), the 1e-7 floor
    # rounds to float32 (u more), and the mean of 64 positive terms adds at most 64 u relative.
    tolerance = 2 * (count + 16) * U32 * expected + U32 + definition_gap(classes)
    assert abs(losses.cross_entropy(probabilities, labels) - expected) <= tolerance


def test_zero_probability_of_true_class_is_finite_and_matches_keras(keras):
    # One-hot predictions of the wrong class: log(0) would be -inf without the floor.
    probabilities = np.eye(3)[[1, 2, 0]]
    labels = np.array([0, 0, 0])
    value = losses.cross_entropy(probabilities, labels)
    assert math.isfinite(value)
    expected_first_two = -math.log(losses.PROBABILITY_FLOOR)
    np.testing.assert_allclose(value, 2 * expected_first_two / 3)
    assert abs(value - keras_loss(keras, probabilities, labels)) <= FLOAT64_TOLERANCE * value + definition_gap(3)


def test_loss_is_minus_log_of_true_class_probability():
    probabilities = np.array([[0.7, 0.2, 0.1], [0.25, 0.25, 0.5]])
    labels = np.array([0, 2])
    expected = (-math.log(0.7) - math.log(0.5)) / 2
    assert losses.cross_entropy(probabilities, labels) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("classes", [2, 10, 1000])
def test_uniform_prediction_gives_log_of_number_of_classes(classes):
    probabilities = np.full((5, classes), 1.0 / classes)
    labels = np.arange(5) % classes
    assert losses.cross_entropy(probabilities, labels) == pytest.approx(math.log(classes), rel=1e-12)


def test_certain_right_prediction_gives_zero():
    labels = np.array([3, 1, 4, 1, 5])
    probabilities = np.eye(10)[labels]
    assert losses.cross_entropy(probabilities, labels) == 0.0


def test_accepts_lists_and_unsigned_labels():
    value = losses.cross_entropy([[0.5, 0.5], [0.9, 0.1]], np.array([0, 0], dtype=np.uint8))
    assert value == pytest.approx((-math.log(0.5) - math.log(0.9)) / 2)
    assert isinstance(value, float)


@pytest.mark.parametrize(
    "probabilities, message",
    [
        (np.array([0.5, 0.5]), r"probabilities must have shape \(N, K\).*got shape \(2,\)"),
        (np.full((1, 2, 2), 0.5), r"probabilities must have shape \(N, K\).*got shape \(1, 2, 2\)"),
        (np.zeros((0, 3)), r"probabilities must have shape \(N, K\) with N >= 1.*\(0, 3\)"),
        (np.zeros((2, 0)), r"probabilities must have shape \(N, K\) with N >= 1.*\(2, 0\)"),
        (np.array([[np.nan, 1.0], [0.5, 0.5]]), r"probabilities must be finite"),
        (np.array([[np.inf, 0.0], [0.5, 0.5]]), r"probabilities must be finite"),
        (np.array([[-0.5, 1.5], [0.5, 0.5]]), r"probabilities must hold values in \[0, 1\]"),
        (np.array([[2.0, -1.0], [0.5, 0.5]]), r"probabilities must hold values in \[0, 1\]"),
        (np.array([[0.5, 0.5], [0.5, 0.4]]), r"each row of probabilities must sum to 1.*row 1 sums to 0.9"),
        (np.array([[0.2, 0.2], [0.5, 0.5]]), r"row 0 sums to 0.4.*apply softmax"),
    ],
)
def test_bad_probabilities_raise_value_error(probabilities, message):
    labels = np.zeros(len(probabilities) if probabilities.ndim else 0, dtype=int)
    with pytest.raises(ValueError, match=message):
        losses.cross_entropy(probabilities, labels)


def test_logits_instead_of_probabilities_are_refused():
    logits = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 0.3]])
    with pytest.raises(ValueError, match="apply softmax to logits first"):
        losses.cross_entropy(logits, np.array([0, 1]))


@pytest.mark.parametrize("probabilities", ["0.5", None, np.array([["a", "b"]])])
def test_non_numeric_probabilities_raise_type_error(probabilities):
    with pytest.raises(TypeError, match="probabilities must be a numeric array"):
        losses.cross_entropy(probabilities, np.array([0]))


@pytest.mark.parametrize(
    "labels",
    [np.array([0.0, 1.0]), np.array([True, False]), np.array(["0", "1"])],
)
def test_non_integer_labels_raise_type_error(labels):
    with pytest.raises(TypeError, match=r"labels must be an integer array.*dtype"):
        losses.cross_entropy(np.full((2, 3), 1 / 3), labels)


@pytest.mark.parametrize(
    "labels, shape",
    [
        (np.array([0, 1, 2]), r"\(3,\)"),
        (np.array([[0], [1]]), r"\(2, 1\)"),
        (np.array(1), r"\(\)"),
    ],
)
def test_labels_of_wrong_shape_raise_value_error(labels, shape):
    with pytest.raises(ValueError, match=r"labels must have shape \(N,\) = \(2,\) to match probabilities of shape \(2, 3\), got shape " + shape):
        losses.cross_entropy(np.full((2, 3), 1 / 3), labels)


@pytest.mark.parametrize("labels, bad", [(np.array([0, 3]), 3), (np.array([-1, 0]), -1), (np.array([0, 10]), 10)])
def test_labels_out_of_range_raise_value_error(labels, bad):
    with pytest.raises(ValueError, match=rf"labels must be class indices in 0 \.\. 2 \(K = 3\), got {bad}"):
        losses.cross_entropy(np.full((2, 3), 1 / 3), labels)


# --- softmax_cross_entropy: the loss of logits that training uses ---------------------------


def test_softmax_cross_entropy_values():
    from cnn_course import gradients

    logits = np.array([[0.0, 0.0, 0.0, 0.0], [1000.0, 0.0, -1000.0, 0.0]])
    loss, probabilities = losses.softmax_cross_entropy(logits, np.array([2, 2]))
    # Uniform guess: log 4; second row: 2000 exactly, finite despite exp(-2000) rounding to 0.
    np.testing.assert_allclose(loss, (np.log(4.0) + 2000.0) / 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    grad = gradients.softmax_cross_entropy_backward(probabilities, np.array([2, 2]))
    np.testing.assert_allclose(grad[0], np.array([0.25, 0.25, -0.75, 0.25]) / 2)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)


def test_softmax_cross_entropy_of_logits_is_cross_entropy_of_their_softmax():
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    loss, probabilities = losses.softmax_cross_entropy(logits, labels)
    # Both are float64 means of 6 terms of a few roundings each (exp, log, sums of 4).
    assert loss == pytest.approx(losses.cross_entropy(probabilities, labels), rel=1e-12)
    np.testing.assert_allclose(probabilities, ops.softmax(logits), rtol=1e-14)


def test_softmax_cross_entropy_rejects_bad_input():
    from cnn_course import gradients

    with pytest.raises(ValueError, match=r"logits must have shape \(N, K\).*got shape \(3,\)"):
        losses.softmax_cross_entropy(np.zeros(3), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"labels must have shape \(N,\) = \(2,\) to match logits of shape \(2, 3\)"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"labels must be class indices in 0 .. 2"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(TypeError, match="labels must be an integer array"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"probabilities must have shape \(N, K\)"):
        gradients.softmax_cross_entropy_backward(np.zeros((2, 3, 1)), np.array([0, 1]))


def test_check_scores_and_labels_names_the_scores():
    scores, labels = losses.check_scores_and_labels([[0.5, 0.5]], [1], "probabilities")
    assert scores.dtype == np.float64 and labels.tolist() == [1]
    with pytest.raises(ValueError, match=r"^scores must have shape \(N, K\) with N >= 1 and K >= 1, got shape \(0, 3\)$"):
        losses.check_scores_and_labels(np.zeros((0, 3)), np.zeros(0, int), "scores")
    with pytest.raises(ValueError, match=r"to match scores of shape \(2, 3\), got shape \(1,\)$"):
        losses.check_scores_and_labels(np.zeros((2, 3)), np.array([0]), "scores")
    with pytest.raises(TypeError, match="^scores must be a numeric array, got str$"):
        losses.check_scores_and_labels("scores", np.array([0]), "scores")
