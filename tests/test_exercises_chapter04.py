"""The answer checks of "Several filters and channels": right answers pass, each known mistake is named.

The right answers are worked out here the way the exercises ask, with the
formulas of the chapter (and NumPy), not with the code the checks use.
"""

import numpy as np
import pytest

from cnn_course import exercises, kernels, ops


def replaced(answer, index, value):
    """``answer`` with part ``index`` replaced by ``value``."""
    parts = list(answer)
    parts[index] = value
    return tuple(parts)


# --- ex-channels-count: 64 filters of 5 x 5 on 32 channels ---------------------------------------

KH = KW = 5
C_IN, C_OUT = 32, 64
COUNT_SHAPE = (KH, KW, C_IN, C_OUT)
COUNT_PARAMETERS = KH * KW * C_IN * C_OUT + C_OUT
# The count is the same for any image size: no height or width in the formula.
COUNT_RIGHT = (COUNT_SHAPE, COUNT_PARAMETERS, "no")

COUNT_MISTAKES = [
    (replaced(COUNT_RIGHT, 0, (C_OUT, C_IN, KH, KW)), "PyTorch's layout"),
    (replaced(COUNT_RIGHT, 0, (KH, KW, C_OUT, C_IN)), "C_in and C_out are swapped"),
    (replaced(COUNT_RIGHT, 0, (KH, KW, C_OUT)), "so the shape has four axes"),
    (replaced(COUNT_RIGHT, 1, KH * KW * C_IN * C_OUT), "the biases are missing"),
    (replaced(COUNT_RIGHT, 1, KH * KW * C_OUT + C_OUT), "every one of the 32 input channels"),
    (replaced(COUNT_RIGHT, 1, (28 - KH + 1) ** 2 * KH * KW * C_IN * C_OUT), "that counts multiply-accumulates"),
    (replaced(COUNT_RIGHT, 2, "yes"), "never enter the parameter count"),
]


def test_count_right_answer_passes(run_check):
    passed, text = run_check(exercises.check_channels_count, COUNT_RIGHT)
    assert passed is True and text == "check_channels_count: right. Well done!\n"
    # Lists for tuples and words in any case are fine too.
    passed, _ = run_check(exercises.check_channels_count, [list(COUNT_SHAPE), COUNT_PARAMETERS, " No"])
    assert passed is True


@pytest.mark.parametrize("answer, words", COUNT_MISTAKES, ids=[words for _, words in COUNT_MISTAKES])
def test_count_mistakes_are_named(run_check, answer, words):
    passed, text = run_check(exercises.check_channels_count, answer)
    assert passed is False
    assert "known mistake" in text and words in text, text
    assert f"{COUNT_PARAMETERS}" not in text and f"{COUNT_PARAMETERS:,}" not in text


def test_count_says_which_parts_are_right(run_check):
    passed, text = run_check(exercises.check_channels_count, (COUNT_SHAPE, 1234, None))
    assert passed is False
    assert "Right: kernel shape." in text
    assert "parameters: not yet. You answered 1234, which is not it." in text and "Hint:" in text
    assert 'changes with the image size: no answer yet. Replace None with "yes" or "no".' in text
    assert str(COUNT_PARAMETERS) not in text


def test_count_without_an_answer_or_with_the_wrong_form(run_check):
    passed, text = run_check(exercises.check_channels_count, None)
    assert passed is False and text.startswith("check_channels_count: no answer yet. Replace None with a tuple")
    passed, text = run_check(exercises.check_channels_count, COUNT_PARAMETERS)
    assert passed is False and "The answer is 3 values in a tuple" in text
    passed, text = run_check(exercises.check_channels_count, ((KH, KW, C_IN), COUNT_PARAMETERS, "no"))
    assert passed is False and "4 values in a tuple" in text


# --- ex-channels-macs: 8 filters of 3 x 3 on 10 x 10 x 4, a batch of 32 in float32 -------------------

H = W = 10
K, C_IN_MACS, FILTERS, BATCH, FLOAT32_BYTES = 3, 4, 8, 32, np.dtype(np.float32).itemsize
H_OUT = H - K + 1
MACS_SHAPE = (H_OUT, H_OUT, FILTERS)
MACS_PARAMETERS = K * K * C_IN_MACS * FILTERS + FILTERS
MACS_COUNT = H_OUT * H_OUT * FILTERS * K * K * C_IN_MACS
MACS_BYTES = H_OUT * H_OUT * FILTERS * BATCH * FLOAT32_BYTES
MACS_RIGHT = (MACS_SHAPE, MACS_PARAMETERS, MACS_COUNT, MACS_BYTES)

MACS_MISTAKES = [
    (replaced(MACS_RIGHT, 0, (H, W, FILTERS)), "the size of the input"),
    (replaced(MACS_RIGHT, 0, (H_OUT, H_OUT, C_IN_MACS)), "one channel per filter, not per input channel"),
    (replaced(MACS_RIGHT, 0, (H_OUT - 1, H_OUT - 1, FILTERS)), "one position is missing"),
    (replaced(MACS_RIGHT, 1, K * K * C_IN_MACS * FILTERS), "the biases are missing"),
    (replaced(MACS_RIGHT, 1, K * K * FILTERS + FILTERS), "each filter has a 3 x 3 slice for every input channel"),
    (replaced(MACS_RIGHT, 2, H_OUT * H_OUT * FILTERS * K * K), "each output value sums kh * kw * C_in products"),
    (replaced(MACS_RIGHT, 2, H * W * FILTERS * K * K * C_IN_MACS), "a window at every input pixel"),
    (replaced(MACS_RIGHT, 2, H_OUT * H_OUT * MACS_PARAMETERS), "the bias is one addition"),
    (replaced(MACS_RIGHT, 2, K * K * C_IN_MACS * FILTERS), "that is the number of weights"),
    (replaced(MACS_RIGHT, 3, MACS_BYTES // BATCH), "that is one image"),
    (replaced(MACS_RIGHT, 3, MACS_BYTES // FLOAT32_BYTES), "that counts numbers, not bytes"),
    (replaced(MACS_RIGHT, 3, MACS_BYTES // FLOAT32_BYTES * 8), "8 bytes per number is float64"),
    (replaced(MACS_RIGHT, 3, MACS_BYTES * 8), "that counts bits"),
] + [
    (replaced(MACS_RIGHT, 3, size), "kilobytes or megabytes")
    for size in (MACS_BYTES / 1000, MACS_BYTES / 1024, MACS_BYTES / 1e6, round(MACS_BYTES / 1e6, 3), round(MACS_BYTES / 1e6, 2))
]


def test_macs_right_answer_passes(run_check):
    passed, text = run_check(exercises.check_channels_macs, MACS_RIGHT)
    assert passed is True and text == "check_channels_macs: right. Well done!\n"


@pytest.mark.parametrize("answer, words", MACS_MISTAKES, ids=[f"{words}-{answer[3]}" for answer, words in MACS_MISTAKES])
def test_macs_mistakes_are_named(run_check, answer, words):
    passed, text = run_check(exercises.check_channels_macs, answer)
    assert passed is False
    assert "known mistake" in text and words in text, text
    for part in answer:
        text = text.replace(f"You answered {part!r}", "")             # the student's own numbers may be shown
    for right in (MACS_COUNT, MACS_BYTES):
        assert str(right) not in text and f"{right:,}" not in text


def test_macs_several_wrong_parts_are_each_named(run_check):
    answer = ((H, W, FILTERS), K * K * C_IN_MACS * FILTERS, MACS_COUNT, 1)
    passed, text = run_check(exercises.check_channels_macs, answer)
    assert passed is False
    assert "Right: MACs per image." in text
    assert "the size of the input" in text and "the biases are missing" in text
    assert "output bytes: not yet. You answered 1, which is not it." in text
    assert str(MACS_PARAMETERS) not in text and str(MACS_BYTES) not in text


def test_macs_without_an_answer(run_check):
    passed, text = run_check(exercises.check_channels_macs, None)
    assert passed is False and "no answer yet" in text


# --- ex-channels-same-filter: the vertical filter in every channel slice --------------------------

VERTICAL = kernels.edge_kernels("sobel")["vertical"]


def repeated_kernel(vertical):
    return np.stack([vertical, vertical, vertical], axis=-1)[..., np.newaxis]       # (3, 3, 3, 1)


def test_same_filter_right_answer_passes_and_means_what_the_exercise_says(run_check):
    kernel = repeated_kernel(VERTICAL)
    rgb = np.random.default_rng(4).random((1, 7, 6, 3))
    np.testing.assert_allclose(ops.conv2d(rgb, kernel), ops.conv2d(rgb.sum(axis=-1, keepdims=True), VERTICAL[:, :, None, None]),
                               rtol=1e-12, atol=1e-12)
    passed, text = run_check(exercises.check_channels_same_filter, kernel, VERTICAL)
    assert passed is True and text == "check_channels_same_filter: right. Well done!\n"
    # The check uses the filter it is given.
    prewitt = kernels.edge_kernels("prewitt")["vertical"]
    assert run_check(exercises.check_channels_same_filter, repeated_kernel(prewitt), prewitt)[0] is True
    assert run_check(exercises.check_channels_same_filter, kernel, prewitt)[0] is False


def red_only(vertical):
    kernel = np.zeros((3, 3, 3, 1))
    kernel[:, :, 0, 0] = vertical
    return kernel


SAME_FILTER_MISTAKES = [
    (lambda vertical: repeated_kernel(vertical)[:, :, :, 0][:, :, np.newaxis, :], "three filters on a one-channel input"),
    (red_only, "only the red slice"),
    (lambda vertical: repeated_kernel(vertical) / 3, "a third of the filter"),
    (lambda vertical: repeated_kernel(vertical).transpose(3, 2, 0, 1), "PyTorch's layout"),
]


@pytest.mark.parametrize("wrong, words", SAME_FILTER_MISTAKES, ids=[words for _, words in SAME_FILTER_MISTAKES])
def test_same_filter_mistakes_are_named(run_check, wrong, words):
    passed, text = run_check(exercises.check_channels_same_filter, wrong(VERTICAL), VERTICAL)
    assert passed is False
    assert "known mistake" in text and words in text, text


def test_same_filter_unknown_and_misshapen_answers(run_check):
    passed, text = run_check(exercises.check_channels_same_filter, np.ones((3, 3, 3, 1)), VERTICAL)
    assert passed is False and "which is not it" in text and "kernel[:, :, c, 0]" in text
    assert "-2." not in text                                        # the filter's weights are not shown
    passed, text = run_check(exercises.check_channels_same_filter, repeated_kernel(VERTICAL)[..., 0], VERTICAL)
    assert passed is False and "yours has shape (3, 3, 3)" in text
    passed, text = run_check(exercises.check_channels_same_filter, None, VERTICAL)
    assert passed is False and "no answer yet" in text


def test_same_filter_refuses_a_filter_that_is_not_2d():
    with pytest.raises(ValueError, match=r"vertical must have shape \(kh, kw\).*got shape \(9,\)"):
        exercises.check_channels_same_filter(None, VERTICAL.ravel())


# --- ex-channels-im2col-size: 64 digits, 3 x 3, "same" ---------------------------------------------

DIGITS, SIDE, WINDOW = 64, 28, 3
IM2COL_ROWS = DIGITS * SIDE * SIDE                  # "same": one window per input pixel
IM2COL_COLUMNS = WINDOW * WINDOW * 1
IM2COL_RATIO = IM2COL_ROWS * IM2COL_COLUMNS / (DIGITS * SIDE * SIDE)
IM2COL_RIGHT = (IM2COL_ROWS, IM2COL_COLUMNS, IM2COL_RATIO)
VALID_ROWS = DIGITS * (SIDE - WINDOW + 1) ** 2

IM2COL_MISTAKES = [
    (replaced(IM2COL_RIGHT, 0, VALID_ROWS), 'the windows of "valid" padding'),
    (replaced(IM2COL_RIGHT, 0, SIDE * SIDE), "those are the rows of one digit"),
    ((IM2COL_COLUMNS, IM2COL_ROWS, IM2COL_RATIO), "the transposed layout"),
    (replaced(IM2COL_RIGHT, 1, WINDOW * WINDOW * 3), "one channel, not three"),
    (replaced(IM2COL_RIGHT, 2, round(VALID_ROWS * IM2COL_COLUMNS / (DIGITS * SIDE * SIDE), 2)), 'the ratio for "valid" padding'),
    (replaced(IM2COL_RIGHT, 2, 1 / IM2COL_RATIO), "the batch over the matrix"),
    (replaced(IM2COL_RIGHT, 2, IM2COL_RATIO * DIGITS), "compares the matrix with one digit"),
]


def test_im2col_size_right_answer_passes_and_agrees_with_im2col(run_check):
    matrix = ops.im2col(np.zeros((DIGITS, SIDE, SIDE, 1)), window=WINDOW, padding="same").reshape(-1, IM2COL_COLUMNS)
    assert matrix.shape == (IM2COL_ROWS, IM2COL_COLUMNS)
    passed, text = run_check(exercises.check_channels_im2col_size, IM2COL_RIGHT)
    assert passed is True and text == "check_channels_im2col_size: right. Well done!\n"
    assert run_check(exercises.check_channels_im2col_size, (IM2COL_ROWS, IM2COL_COLUMNS, int(IM2COL_RATIO)))[0] is True


@pytest.mark.parametrize("answer, words", IM2COL_MISTAKES, ids=[words for _, words in IM2COL_MISTAKES])
def test_im2col_size_mistakes_are_named(run_check, answer, words):
    passed, text = run_check(exercises.check_channels_im2col_size, answer)
    assert passed is False
    assert "known mistake" in text and words in text, text
    if IM2COL_ROWS not in answer:
        assert str(IM2COL_ROWS) not in text


def test_im2col_size_unknown_answer_and_none(run_check):
    passed, text = run_check(exercises.check_channels_im2col_size, (100, 10, 3))
    assert passed is False and text.count("which is not it") == 3 and "Right:" not in text
    assert str(IM2COL_ROWS) not in text
    passed, text = run_check(exercises.check_channels_im2col_size, None)
    assert passed is False and "no answer yet" in text


# --- ex-channels-two-1x1: two 1x1 convolutions as one ------------------------------------------------

RNG = np.random.default_rng(11)
FIRST_KERNEL, FIRST_BIAS = RNG.normal(size=(1, 1, 3, 5)), RNG.normal(size=5)
SECOND_KERNEL, SECOND_BIAS = RNG.normal(size=(1, 1, 5, 2)), RNG.normal(size=2)
W1, W2 = FIRST_KERNEL.reshape(3, 5), SECOND_KERNEL.reshape(5, 2)
MERGED = ((W1 @ W2).reshape(1, 1, 3, 2), FIRST_BIAS @ W2 + SECOND_BIAS)
TWO_1X1_ARGUMENTS = (FIRST_KERNEL, FIRST_BIAS, SECOND_KERNEL, SECOND_BIAS)

TWO_1X1_MISTAKES = [
    ((MERGED[0].transpose(0, 1, 3, 2), MERGED[1]), "C_in and C_out are swapped"),
    ((MERGED[0], SECOND_BIAS), "the first convolution's bias is missing"),
    ((MERGED[0], FIRST_BIAS @ W2), "the second convolution's own bias is missing"),
]


def test_two_1x1_right_answer_passes_and_is_one_convolution(run_check):
    pixels = np.random.default_rng(12).normal(size=(2, 4, 3, 3))
    two_steps = ops.conv2d(ops.conv2d(pixels, FIRST_KERNEL, FIRST_BIAS), SECOND_KERNEL, SECOND_BIAS)
    np.testing.assert_allclose(ops.conv2d(pixels, *MERGED), two_steps, rtol=1e-12, atol=1e-12)
    passed, text = run_check(exercises.check_channels_two_1x1, MERGED, *TWO_1X1_ARGUMENTS)
    assert passed is True and text == "check_channels_two_1x1: right. Well done!\n"


@pytest.mark.parametrize("answer, words", TWO_1X1_MISTAKES, ids=[words for _, words in TWO_1X1_MISTAKES])
def test_two_1x1_mistakes_are_named(run_check, answer, words):
    passed, text = run_check(exercises.check_channels_two_1x1, answer, *TWO_1X1_ARGUMENTS)
    assert passed is False
    assert "known mistake" in text and words in text, text


def test_two_1x1_unknown_and_misshapen_answers(run_check):
    passed, text = run_check(exercises.check_channels_two_1x1, (np.zeros((1, 1, 3, 2)), MERGED[1]), *TWO_1X1_ARGUMENTS)
    assert passed is False and "Right: bias." in text and "kernel: not yet" in text and "Hint:" in text
    passed, text = run_check(exercises.check_channels_two_1x1, (W1 @ W2, MERGED[1]), *TWO_1X1_ARGUMENTS)
    assert passed is False and "yours has shape (3, 2)" in text
    passed, text = run_check(exercises.check_channels_two_1x1, None, *TWO_1X1_ARGUMENTS)
    assert passed is False and "no answer yet" in text


def test_two_1x1_refuses_kernels_that_are_not_1x1():
    with pytest.raises(ValueError, match=r"first_kernel must have shape \(1, 1, C_in, C_out\), got shape \(3, 3, 3, 5\)"):
        exercises.check_channels_two_1x1(None, np.zeros((3, 3, 3, 5)), FIRST_BIAS, SECOND_KERNEL, SECOND_BIAS)
