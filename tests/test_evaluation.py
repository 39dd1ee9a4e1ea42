"""Confusion matrix and the plots of the MNIST chapter."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cnn_course import evaluation  # noqa: E402


def test_confusion_matrix_counts_each_pair():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predictions = np.array([0, 1, 1, 2, 0, 2])
    matrix = evaluation.confusion_matrix(labels, predictions, classes=3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])


def test_confusion_matrix_agrees_with_a_loop_on_random_labels():
    rng = np.random.default_rng(0)
    labels, predictions = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    matrix = evaluation.confusion_matrix(labels, predictions)
    expected = np.zeros((10, 10), int)
    for true, predicted in zip(labels, predictions):
        expected[true, predicted] += 1
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.sum() == 500
    assert np.trace(matrix) == np.sum(labels == predictions)


@pytest.mark.parametrize(
    "labels, predictions, error, message",
    [
        (np.array([0, 1]), np.array([0]), ValueError, r"predictions must have shape \(2,\) like labels, got \(1,\)"),
        (np.array([[0, 1]]), np.array([0, 1]), ValueError, "labels"),
        (np.array([0.0, 1.0]), np.array([0, 1]), TypeError, "labels must hold integer class indices, got dtype float64"),
        (np.array([0, 10]), np.array([0, 1]), ValueError, "labels must hold classes 0 to 9, found 0 to 10"),
        (np.array([0, 1]), np.array([-1, 1]), ValueError, "predictions must hold classes 0 to 9"),
    ],
)
def test_confusion_matrix_rejects_bad_input(labels, predictions, error, message):
    with pytest.raises(error, match=message):
        evaluation.confusion_matrix(labels, predictions)


def test_show_confusion_matrix_writes_every_count():
    matrix = np.array([[5, 1], [0, 7]])
    figure = evaluation.show_confusion_matrix(matrix, title="two classes")
    axis = figure.axes[0]
    assert sorted(text.get_text() for text in axis.texts) == ["0", "1", "5", "7"]
    assert axis.get_xlabel() == "predicted class" and axis.get_ylabel() == "true class"
    plt.close(figure)


def test_show_learning_curves_draws_training_and_validation():
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.6, 0.4], "accuracy": [0.5, 0.8, 0.9]}
    figure = evaluation.show_learning_curves(history)
    loss_axis, accuracy_axis = figure.axes[:2]
    assert len(loss_axis.lines) == 2 and len(accuracy_axis.lines) == 1
    assert loss_axis.get_xlabel() == "epoch" and loss_axis.get_ylabel() == "loss"
    plt.close(figure)


def test_show_learning_curves_names_a_missing_metric():
    with pytest.raises(ValueError, match=r"history lacks the metrics \['accuracy'\]; it has \['loss'\]"):
        evaluation.show_learning_curves({"loss": [1.0]})


def test_show_mistakes_titles_true_and_predicted():
    images = np.zeros((4, 28, 28))
    figure = evaluation.show_mistakes(images, np.array([1, 2, 3, 4]), np.array([1, 7, 3, 9]))
    titles = [axis.get_title() for axis in figure.axes if axis.get_title()]
    assert titles == ["true 2 -> 7", "true 4 -> 9"]
    plt.close(figure)


def test_show_mistakes_errors():
    with pytest.raises(ValueError, match="same length"):
        evaluation.show_mistakes(np.zeros((3, 28, 28)), np.array([1, 2]), np.array([1, 2]))
    with pytest.raises(ValueError, match="no misclassified images"):
        evaluation.show_mistakes(np.zeros((2, 28, 28)), np.array([1, 2]), np.array([1, 2]))
