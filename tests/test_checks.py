"""checks: one message and one exception type per mistake, wherever the mistake is made."""

import numpy as np
import pytest

from cnn_course import checks, gradients, layers, ops

PADDING_MESSAGE = "padding must be 'valid', 'same', an int or a pair of ints (height, width), got {!r}"
POOLING_MESSAGE = "padding must be 'valid' or 'same' for pooling, got {!r}"
RATE_MESSAGE = "rate must be a float in [0, 1), got {!r}"


def _raised(function):
    """``(exception type, message)`` of what ``function()`` raises (it must raise)."""
    with pytest.raises((TypeError, ValueError)) as error:
        function()
    return type(error.value), str(error.value)


# --- each check on its own ------------------------------------------------------------------


@pytest.mark.parametrize(
    "padding, expected",
    [("valid", "valid"), ("same", "same"), (0, (0, 0)), (2, (2, 2)), ((1, 3), (1, 3)), ([2, 0], (2, 0)),
     (np.int64(1), (1, 1))],
)
def test_check_padding_accepts_words_and_amounts(padding, expected):
    assert checks.check_padding(padding) == expected


@pytest.mark.parametrize(
    "padding, error, message",
    [
        ("full", ValueError, PADDING_MESSAGE.format("full")),
        ("SAME", ValueError, PADDING_MESSAGE.format("SAME")),
        (-1, ValueError, "padding must not be negative, got -1"),
        ((1, -2), ValueError, "padding must not be negative, got (1, -2)"),
        (1.5, TypeError, PADDING_MESSAGE.format(1.5)),
        (True, TypeError, PADDING_MESSAGE.format(True)),
        ((1, 2, 3), TypeError, PADDING_MESSAGE.format((1, 2, 3))),
        (None, TypeError, PADDING_MESSAGE.format(None)),
    ],
)
def test_check_padding_rejects_other_values(padding, error, message):
    assert _raised(lambda: checks.check_padding(padding)) == (error, message)


@pytest.mark.parametrize("padding", ["full", 1, (1, 1), -1, None])
def test_pooling_takes_only_the_two_words(padding):
    assert checks.check_padding("same", allow_amount=False) == "same"
    assert _raised(lambda: checks.check_padding(padding, allow_amount=False)) == (ValueError, POOLING_MESSAGE.format(padding))


@pytest.mark.parametrize("rate", [0, 0.0, 0.5, np.float32(0.25), 0.999])
def test_check_rate_accepts_rates_in_zero_to_one(rate):
    assert checks.check_rate(rate) == float(rate) and isinstance(checks.check_rate(rate), float)


@pytest.mark.parametrize(
    "rate, error",
    [(1.0, ValueError), (1, ValueError), (-0.1, ValueError), (float("nan"), ValueError),
     ("half", TypeError), (True, TypeError), (None, TypeError), ([0.5], TypeError)],
)
def test_check_rate_rejects_other_values(rate, error):
    assert _raised(lambda: checks.check_rate(rate)) == (error, RATE_MESSAGE.format(rate))


def test_check_name():
    assert checks.check_name(None) is None and checks.check_name("conv1") == "conv1"
    for name in ("", 3, ["conv1"]):
        assert _raised(lambda: checks.check_name(name)) == (TypeError, f"name must be a non-empty str or None, got {name!r}")


def test_check_class_labels():
    np.testing.assert_array_equal(checks.check_class_labels([2, 0], 2, 3, "logits"), [2, 0])
    assert checks.check_class_labels(np.zeros(0, np.uint8), 0, 3, "logits").shape == (0,)
    assert _raised(lambda: checks.check_class_labels(np.array([0.0, 1.0]), 2, 3, "logits")) == (
        TypeError, "labels must be an integer array of class indices, got an array of dtype float64")
    assert _raised(lambda: checks.check_class_labels(np.array([0, 1, 2]), 2, 3, "logits")) == (
        ValueError, "labels must have shape (N,) = (2,) to match logits of shape (2, 3), got shape (3,)")
    assert _raised(lambda: checks.check_class_labels(np.array([[0], [1]]), 2, 3, "probabilities")) == (
        ValueError, "labels must have shape (N,) = (2,) to match probabilities of shape (2, 3), got shape (2, 1)")
    assert _raised(lambda: checks.check_class_labels(np.array([0, 5]), 2, 3, "logits")) == (
        ValueError, "labels must be class indices in 0 .. 2 (K = 3), got 5")
    assert _raised(lambda: checks.check_class_labels(np.array([-1, 0]), 2, 3, "logits")) == (
        ValueError, "labels must be class indices in 0 .. 2 (K = 3), got -1")


# --- the same mistake, the same message everywhere ------------------------------------------


@pytest.mark.parametrize("rate", [1.0, -0.1, "half", True])
def test_a_bad_dropout_rate_gets_one_message_everywhere(rate):
    expected = _raised(lambda: checks.check_rate(rate))
    assert expected[1] == RATE_MESSAGE.format(rate)
    x = np.ones((2, 3))
    assert _raised(lambda: ops.dropout(x, rate)) == expected
    assert _raised(lambda: ops.dropout(x, rate, training=False)) == expected
    assert _raised(lambda: gradients.dropout_backward(x, np.ones((2, 3), dtype=bool), rate)) == expected
    assert _raised(lambda: layers.Dropout(rate)) == expected


@pytest.mark.parametrize("padding", ["full", -1, (1, -2), 1.5, True, (1, 2, 3)])
def test_a_bad_convolution_padding_gets_one_message_everywhere(padding):
    expected = _raised(lambda: checks.check_padding(padding))
    x, kernel = np.ones((1, 6, 6, 1)), np.ones((3, 3, 1, 2))
    assert _raised(lambda: ops.conv2d(x, kernel, padding=padding)) == expected
    assert _raised(lambda: layers.Conv2D(2, 3, padding=padding)) == expected
    assert _raised(lambda: gradients.conv2d_backward(np.ones((1, 4, 4, 2)), x, kernel, padding=padding)) == expected
    assert _raised(lambda: ops.im2col(x, 3, padding=padding)) == expected
    assert _raised(lambda: ops.col2im(np.ones((1, 4, 4, 3, 3, 1)), x.shape, 3, padding=padding)) == expected
    assert _raised(lambda: ops.window_plan((6, 6), (3, 3), (1, 1), padding)) == expected
    if not isinstance(padding, tuple):  # conv_output_size is for one axis: it takes one word or int
        assert _raised(lambda: ops.conv_output_size(6, 3, 1, padding)) == expected


@pytest.mark.parametrize("padding", ["full", 1, (1, 1), -1])
def test_a_bad_pooling_padding_gets_one_message_everywhere(padding):
    expected = (ValueError, POOLING_MESSAGE.format(padding))
    x = np.ones((1, 4, 4, 2))
    for pool in (ops.max_pool2d, ops.avg_pool2d):
        assert _raised(lambda: pool(x, 2, padding=padding)) == expected, pool.__name__
    for backward in (gradients.max_pool2d_backward, gradients.avg_pool2d_backward):
        assert _raised(lambda: backward(np.ones((1, 2, 2, 2)), x, 2, padding=padding)) == expected, backward.__name__
    for layer in (layers.MaxPool2D, layers.AvgPool2D):
        assert _raised(lambda: layer(2, padding=padding)) == expected, layer.__name__
