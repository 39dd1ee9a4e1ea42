"""Judging a classifier: confusion matrix, learning curves, its mistakes.

Introduced in the chapters "Learning from scratch" (``show_mistakes``) and
"MNIST: from one Dense layer to a CNN".
"""

import math

import matplotlib.pyplot as plt
import numpy as np

from cnn_course import checks, plotting

__all__ = ["confusion_matrix", "show_confusion_matrix", "show_learning_curves", "show_mistakes"]


def _check_labels(labels, name, classes):
    labels = np.asarray(labels)
    checks.check_rank(labels, 1, name, "(N,)")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class indices, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"{name} must hold classes 0 to {classes - 1}, found {labels.min()} to {labels.max()}")
    return labels


def confusion_matrix(labels, predictions, classes=10):
    """Count how often each true class was predicted as each class.

    Parameters
    ----------
    labels : ndarray of shape (N,)
        True classes, integers in ``[0, classes)``.
    predictions : ndarray of shape (N,)
        Predicted classes, integers in ``[0, classes)``.
    classes : int, default 10

    Returns
    -------
    ndarray of shape (classes, classes)
        ``matrix[true, predicted]``: the diagonal holds the correct answers.
    """
    classes = checks.check_int(classes, "classes", 1)
    labels = _check_labels(labels, "labels", classes)
    predictions = _check_labels(predictions, "predictions", classes)
    if labels.shape != predictions.shape:
        raise ValueError(f"predictions must have shape {labels.shape} like labels, got {predictions.shape}")
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (labels, predictions), 1)
    return matrix


def show_confusion_matrix(matrix, title="Confusion matrix"):
    """Draw a confusion matrix with its counts; the off-diagonal cells are the mistakes.

    Parameters
    ----------
    matrix : ndarray of shape (K, K)
        As returned by :func:`confusion_matrix`.
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    matrix = np.asarray(matrix)
    checks.check_rank(matrix, 2, "matrix", "(K, K)")
    figure, axis = plt.subplots(figsize=(6.5, 5.5))
    # A log colour scale keeps the few mistakes visible next to ~1000 correct answers per class.
    image = axis.imshow(np.log10(matrix + 1), cmap="Blues")
    for (true, predicted), count in np.ndenumerate(matrix):
        colour = "white" if matrix[true, predicted] > matrix.max() / 10 else "black"
        axis.text(predicted, true, str(count), ha="center", va="center", color=colour, fontsize=8)
    axis.set_xticks(range(matrix.shape[1]))
    axis.set_yticks(range(matrix.shape[0]))
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    axis.set_title(title)
    figure.colorbar(image, ax=axis, label="log10(count + 1)")
    figure.tight_layout()
    return figure


def show_learning_curves(history, metrics=("loss", "accuracy"), title=None):
    """Plot training and validation curves per epoch from a Keras ``History.history`` dict.

    Parameters
    ----------
    history : dict of str to list of float
        For example ``{"loss": [...], "val_loss": [...], "accuracy": [...], ...}``.
    metrics : sequence of str, default ("loss", "accuracy")
        One panel per metric; its ``val_`` twin is drawn when present.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    missing = [m for m in metrics if m not in history]
    if missing:
        raise ValueError(f"history lacks the metrics {missing}; it has {sorted(history)}")
    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5))
    for axis, metric in zip(np.atleast_1d(axes), metrics):
        epochs = np.arange(1, len(history[metric]) + 1)
        axis.plot(epochs, history[metric], "o-", label="training")
        if f"val_{metric}" in history:
            axis.plot(epochs, history[f"val_{metric}"], "s--", label="validation")
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.set_xticks(epochs)
        axis.grid(alpha=0.3)
        axis.legend()
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def show_mistakes(images, labels, predictions, limit=30, columns=10):
    """Draw the first ``limit`` misclassified images, titled "true -> predicted".

    Parameters
    ----------
    images : ndarray of shape (N, H, W) or (N, H, W, 1)
    labels : ndarray of shape (N,)
    predictions : ndarray of shape (N,)
    limit : int, default 30
    columns : int, default 10

    Returns
    -------
    matplotlib.figure.Figure
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.shape != predictions.shape or len(images) != len(labels):
        raise ValueError(
            f"images, labels and predictions must have the same length, got {len(images)}, "
            f"{labels.shape} and {predictions.shape}"
        )
    wrong = np.flatnonzero(labels != predictions)[:limit]
    if wrong.size == 0:
        raise ValueError("there are no misclassified images to show")
    titles = [f"true {labels[i]} -> {predictions[i]}" for i in wrong]
    return plotting.show_images(np.asarray(images)[wrong], titles=titles, columns=min(columns, math.ceil(wrong.size)))
